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

    static List<Probes.Probe> probes() throws IOException {
        return Probes.load().stream().filter(p -> !p.expected().startsWith("session-refused:")).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("probes")
    void eachProbeIsRefusedOrMaskedAsListed(Probes.Probe probe) throws Exception {
        OpMsg msg = probe.message(1);
        Command command;
        try {
            command = CommandReader.read(msg);
        } catch (io.phigate.mongo.command.CommandException e) {
            // refused as the server would refuse its shape, before any masking
            assertThat(probe.refused()).as("refused by the reader: " + e.getMessage()).isTrue();
            assertThat(e.getMessage()).contains(probe.refusalWords());
            return;
        }
        Judgement judged = masking(probe.role()).judge(command, msg.body(), null);

        if (probe.refused()) {
            assertThat(judged).isInstanceOfSatisfying(Judgement.Refuse.class, r ->
                    assertThat(r.message()).contains(probe.refusalWords()));
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
            boolean sees = role.equals("unmasked") || role.equals("sees-ssn") && t == PhiType.SSN;
            operators.put(t, new ScalarMasking(Operators.create(sees ? OperatorSpec.NONE : OperatorSpec.REDACT, t,
                    null), t));
        }
        return new CommandMasking(CATALOG, operators::get, role.equals("lookup") ? Set.of(PhiType.SSN) : Set.of(),
                null);
    }
}
