package io.phigate.mask.detect;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Supplier;
import net.datafaker.Faker;
import org.junit.jupiter.api.Test;

/** Datafaker-generated identifiers inside sentences: every one is scrubbed, and the sentence around it survives. */
class SyntheticPhiTest {
    static final Detectors DETECTORS = Detectors.create(DetectorSettings.defaults());

    @Test
    void thousandsOfGeneratedIdentifiersAreAllScrubbed() {
        Faker faker = new Faker(Locale.US, new Random(20261127));
        List<Kind> kinds = List.of(
                new Kind("[SSN]", () -> faker.idNumber().ssnValid()),
                new Kind("[EMAIL]", () -> faker.internet().emailAddress()),
                new Kind("[PHONE]", () -> faker.phoneNumber().cellPhone()),
                new Kind("[ACCOUNT]", () -> faker.finance().creditCard()));
        List<String> missed = new ArrayList<>();
        int checked = 0;
        for (Kind kind : kinds) {
            for (int i = 0; i < 1000; i++) {
                String value = kind.generator().get();
                String sentence = "Per note, " + faker.name().firstName() + " gave " + value + " at the desk.";
                String scrubbed = DETECTORS.scrub(sentence);
                checked++;
                if (scrubbed.contains(value) || !scrubbed.contains(kind.tag()) || !scrubbed.endsWith(" at the desk.")) {
                    missed.add(kind.tag() + " " + value + " -> " + scrubbed);
                }
            }
        }
        assertThat(checked).isEqualTo(4000);
        assertThat(missed).isEmpty();
    }

    private record Kind(String tag, Supplier<String> generator) {
    }
}
