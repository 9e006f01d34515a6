import com.mongodb.MongoClientSettings;
import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.util.Date;
import java.util.List;
import org.bson.Document;
import org.bson.RawBsonDocument;
import org.bson.codecs.Codec;

/**
 * The document store for bench/mongo.sh: mongo-java-server with its in-memory backend (the server the tests use,
 * decision 0042), in its own JVM so that its heap (the data) is not the gateway's, seeded with synthetic patient
 * documents generated from their number (no real data), then serving until killed.
 *
 * <pre>java -cp CLASSPATH bench/mongo/Store.java PORT PATIENTS RECORDS NOTE_CHARS</pre>
 *
 * {@code bench.patients}: PATIENTS documents of ~272 bytes (the throughput run). {@code bench.records}: RECORDS
 * documents of the same fields plus a NOTE_CHARS-character note (the memory run: 1,000,000 of ~1,183 bytes is a
 * cursor of 1.10 GiB). Prints one {@code ready ...} line when both are seeded.
 */
public class Store {
    private static final String[] WARDS = {"cardiology", "oncology", "pediatrics", "neurology", "emergency"};
    private static final String[] GIVEN = {"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken"};
    private static final String[] FAMILY = {"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen"};
    private static final Codec<Document> CODEC = MongoClientSettings.getDefaultCodecRegistry().get(Document.class);

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        int patients = Integer.parseInt(args[1]);
        int records = Integer.parseInt(args[2]);
        int noteChars = Integer.parseInt(args[3]);
        MemoryBackend backend = new MemoryBackend();
        MongoServer server = new MongoServer(backend);
        long start = System.nanoTime();
        // Straight into the backend, before the port opens: inserting over the server's own wire encodes and decodes
        // every document once more, for nothing the bench measures.
        MongoDatabase bench = backend.resolveDatabase("bench");
        long patientBytes = seed(bench.createCollectionOrThrowIfExists("patients"), patients, 0);
        long recordBytes = seed(bench.createCollectionOrThrowIfExists("records"), records, noteChars);
        server.bind("127.0.0.1", port);
        System.out.printf("ready patients=%d patient_bytes=%d records=%d record_bytes=%d seconds=%.1f%n",
                patients, patientBytes, records, recordBytes, (System.nanoTime() - start) / 1e9);
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
        Thread.currentThread().join();
    }

    /** Adds {@code n} documents; returns their BSON bytes, as a client will receive them. */
    private static long seed(MongoCollection<?> collection, int n, int noteChars) {
        String note = noteChars == 0 ? null : "Patient seen on the ward; vitals stable, plan unchanged. ".repeat(
                noteChars / 57 + 1).substring(0, noteChars);
        long bytes = 0;
        for (int i = 0; i < n; i++) {
            Document d = patient(i);
            if (note != null) {
                d.append("note", note);
            }
            bytes += new RawBsonDocument(d, CODEC).getByteBuffer().remaining();
            collection.addDocument((de.bwaldvogel.mongo.bson.Document) stored(d));
        }
        return bytes;
    }

    /** The driver's document as the in-memory backend keeps one (its own map type; dates as instants). */
    private static Object stored(Object value) {
        return switch (value) {
            case Document d -> {
                var out = new de.bwaldvogel.mongo.bson.Document();
                d.forEach((k, v) -> out.put(k, stored(v)));
                yield out;
            }
            case List<?> l -> new java.util.ArrayList<>(l.stream().map(Store::stored).toList());
            case Date date -> date.toInstant();
            default -> value;
        };
    }

    /** One synthetic patient, all of it arithmetic on its number; six fields the masked gateway tags. */
    static Document patient(int i) {
        long day = 86_400_000L;
        return new Document("_id", i)
                .append("mrn", String.format("MRN-%08d", i))
                .append("name", new Document("given", GIVEN[i % GIVEN.length] + i % 997)
                        .append("family", FAMILY[i % FAMILY.length]))
                .append("ssn", String.format("%03d-%02d-%04d", 100 + i % 800, 10 + i % 89, i % 10_000))
                .append("birth_date", new Date(-1_000_000_000_000L + (i % 30_000) * day))
                .append("zip", String.format("%05d", 10_000 + i % 89_999))
                .append("ward", WARDS[i % WARDS.length])
                .append("admitted", new Date(1_700_000_000_000L + (i % 365) * day))
                .append("visits", i % 17)
                .append("allergies", List.of("penicillin", "latex").subList(0, i % 3 == 0 ? 2 : 1))
                .append("status", i % 11 == 0 ? "discharged" : "admitted")
                .append("code", "ICD10-" + (char) ('A' + i % 26) + (10 + i % 89));
    }
}
