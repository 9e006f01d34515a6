package io.phigate.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** A statement's parameters read the same in a record as they did when Jackson wrote them. */
class JsonArrayTest {
    private static final ObjectMapper JACKSON = new ObjectMapper();

    @Test
    void writesWhatJacksonWritesForEveryKindOfCharacter() throws Exception {
        List<List<String>> cases = new ArrayList<>();
        cases.add(List.of());
        cases.add(Arrays.asList((String) null));
        cases.add(Arrays.asList("42", null, "", "it's \"quoted\" \\ back/slash", "tab\there\nnew\rret\bbs\ffeed"));
        cases.add(List.of("\u0000\u0001\u001f\u007f\u0080 é ü 中文 \ud83d\ude00 \u2028\u2029"));
        cases.add(List.of("lone \ud800 surrogate", "\udc00"));
        Random random = new Random(22);
        for (int n = 0; n < 2_000; n++) {
            List<String> values = new ArrayList<>();
            for (int v = random.nextInt(4); v >= 0; v--) {
                if (random.nextInt(8) == 0) {
                    values.add(null);
                    continue;
                }
                char[] text = new char[random.nextInt(12)];
                for (int i = 0; i < text.length; i++) {
                    // Mostly the control and escape range, where the two writers could differ.
                    text[i] = (char) (random.nextBoolean() ? random.nextInt(0x80) : random.nextInt(0x10000));
                }
                values.add(new String(text));
            }
            cases.add(values);
        }
        for (List<String> values : cases) {
            assertThat(JsonArray.ofStrings(values)).isEqualTo(JACKSON.writeValueAsString(values));
        }
    }

    @Test
    void aDetailOfStringsListsAndMapsReadsAsJacksonWroteIt() throws Exception {
        Random random = new Random(83);
        for (int n = 0; n < 2_000; n++) {
            java.util.Map<String, Object> fields = new java.util.LinkedHashMap<>();
            fields.put(text(random), text(random));
            fields.put("tables", Arrays.asList(text(random), text(random), null));
            java.util.Map<String, String> phi = new java.util.LinkedHashMap<>();
            for (int v = random.nextInt(4); v > 0; v--) {
                phi.put(text(random), random.nextInt(8) == 0 ? null : text(random));
            }
            fields.put("phi_columns", phi);
            fields.put("none", null);
            assertThat(JsonArray.ofStringFields(fields)).isEqualTo(JACKSON.writeValueAsString(fields));
        }
        assertThat(JsonArray.ofStringFields(java.util.Map.of("statements", 3L))).as("left to Jackson").isNull();
        assertThat(JsonArray.ofStringFields(java.util.Map.of("tls", List.of(true)))).isNull();
    }

    private static String text(Random random) {
        char[] text = new char[random.nextInt(10)];
        for (int i = 0; i < text.length; i++) {
            text[i] = (char) (random.nextBoolean() ? random.nextInt(0x80) : random.nextInt(0x10000));
        }
        return new String(text);
    }
}
