package io.phigate.mongo.masking;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.mask.DocumentCatalog;
import io.phigate.mask.OperatorSpec;
import io.phigate.mask.Operators;
import io.phigate.mask.PhiType;
import io.phigate.mask.ScalarMasking;
import io.phigate.mongo.command.Command;
import io.phigate.mongo.command.CommandReader;
import io.phigate.mongo.masking.CommandMasking.Judgement;
import io.phigate.mongo.wire.MsgHeader;
import io.phigate.mongo.wire.WireMessage.OpMsg;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.bson.RawBsonDocument;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The masking probe suite written as data ({@code probes.txt}): each command, judged for a role, is refused or
 * forwarded with exactly the tagged output paths listed. A tag missing from the output would be PHI delivered
 * unmasked; so every path a probe expects is one a value could reach the agent by.
 */
class MaskingProbesTest {
    static final DocumentCatalog CATALOG = new DocumentCatalog(Map.of(
            "clinic.patients", Map.of("ssn", PhiType.SSN, "name.given", PhiType.NAME, "address.street",
                    PhiType.ADDRESS, "contacts.$.phone", PhiType.PHONE, "age", PhiType.AGE),
            "clinic.visits", Map.of("patient_ssn", PhiType.SSN, "note", PhiType.FREE_TEXT)));

    record Probe(String name, String role, String command, String expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Probe> probes() throws IOException {
        List<Probe> probes = new ArrayList<>();
        try (InputStream in = MaskingProbesTest.class.getResourceAsStream("probes.txt")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] p = line.split(" \\| ");
                probes.add(new Probe(p[0].strip(), p[1].strip(), p[2].strip(), p[3].strip()));
            }
        }
        return probes;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("probes")
    void eachProbeIsRefusedOrMaskedAsListed(Probe probe) throws Exception {
        RawBsonDocument body = RawBsonDocument.parse(probe.command());
        Command command = CommandReader.read(new OpMsg(new MsgHeader(0, 1, 0, 2013), 0, body, List.of()));
        Judgement judged = masking(probe.role()).judge(command, body, null);

        if (probe.expected().startsWith("refused:")) {
            assertThat(judged).isInstanceOfSatisfying(Judgement.Refuse.class, r ->
                    assertThat(r.message()).contains(probe.expected().substring("refused:".length())));
        } else {
            assertThat(judged).isInstanceOf(Judgement.Forward.class);
            assertThat(outputOf(judged)).isEqualTo(probe.expected().substring("out:".length()));
        }
    }

    @org.junit.jupiter.api.Test
    void theRecordNamesEveryTaggedFieldReachedAndTheLookupsLetThrough() throws Exception {
        RawBsonDocument body = RawBsonDocument.parse("{find: 'patients', filter: {ssn: '1'}, $db: 'clinic'}");
        Command command = CommandReader.read(new OpMsg(new MsgHeader(0, 1, 0, 2013), 0, body, List.of()));

        Judgement judged = masking("lookup").judge(command, body, null);

        assertThat(judged.phiFields()).containsEntry("clinic.patients.ssn", "ssn,lookup:ssn")
                .containsEntry("clinic.patients.contacts.phone", "phone").hasSize(5);
        assertThat(judged.phiTypes()).contains(PhiType.SSN, PhiType.PHONE, PhiType.AGE);
    }

    /** The result's tagged paths as the plan's summary names them ({@code path(type)=operator}), as path=type. */
    private static String outputOf(Judgement judged) {
        String summary = ((Judgement.Forward) judged).plan().summary();
        if (summary == null) {
            return "";
        }
        return java.util.Arrays.stream(summary.split(", "))
                .map(s -> s.substring(0, s.indexOf('(')) + "=" + s.substring(s.indexOf('(') + 1, s.indexOf(')')))
                .collect(Collectors.joining(","));
    }

    static CommandMasking masking(String role) {
        Map<PhiType, ScalarMasking> operators = new java.util.EnumMap<>(PhiType.class);
        for (PhiType t : PhiType.values()) {
            operators.put(t, new ScalarMasking(Operators.create(role.equals("unmasked") ? OperatorSpec.NONE
                    : OperatorSpec.REDACT, t, null), t));
        }
        return new CommandMasking(CATALOG, operators::get, role.equals("lookup") ? Set.of(PhiType.SSN) : Set.of(),
                null);
    }
}
