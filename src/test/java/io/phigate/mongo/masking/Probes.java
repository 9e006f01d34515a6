package io.phigate.mongo.masking;

import io.phigate.mongo.wire.MsgHeader;
import io.phigate.mongo.wire.WireMessage;
import io.phigate.mongo.wire.WireMessage.DocumentSequence;
import io.phigate.mongo.wire.WireMessage.OpMsg;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;

/**
 * The document masking probes ({@code probes.txt}) as data, shared by the judgement test and the run through the
 * gateway. A line is {@code name | role | command | expected}; the command is extended JSON, optionally followed by
 * kind-1 document sequences as {@code ;; identifier=[documents]} (read from the bytes, so a repeated field name
 * survives, as it does in the body).
 */
public final class Probes {
    private Probes() {
    }

    /**
     * @param expected {@code refused:WORDS} (the gateway refuses, naming WORDS), {@code out:PATHS} (forwarded with
     *                 exactly these tagged output paths), or {@code session-refused:WORDS} (the session refuses it
     *                 after the masking forwarded it: a cursor of another session, a malformed message)
     */
    public record Probe(String name, String role, String command, String expected) {
        public boolean refused() {
            return expected.startsWith("refused:") || expected.startsWith("session-refused:");
        }

        public String refusalWords() {
            return expected.substring(expected.indexOf(':') + 1);
        }

        /** The probe as the OP_MSG a client would send, request id {@code id}. */
        public OpMsg message(int id) {
            String[] parts = command.split(" ;; ");
            List<DocumentSequence> sequences = new ArrayList<>();
            for (int i = 1; i < parts.length; i++) {
                int eq = parts[i].indexOf('=');
                List<RawBsonDocument> docs = new ArrayList<>();
                for (BsonValue v : RawBsonDocument.parse("{d: " + parts[i].substring(eq + 1) + "}").get("d")
                        .asArray()) {
                    docs.add((RawBsonDocument) v.asDocument());
                }
                sequences.add(new DocumentSequence(parts[i].substring(0, eq).strip(), docs));
            }
            return new OpMsg(new MsgHeader(0, id, 0, WireMessage.OP_MSG), 0, RawBsonDocument.parse(parts[0]),
                    sequences);
        }

        @Override
        public String toString() {
            return role + ": " + name;
        }
    }

    public static List<Probe> load() throws IOException {
        List<Probe> probes = new ArrayList<>();
        try (InputStream in = Probes.class.getResourceAsStream("probes.txt")) {
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
}
