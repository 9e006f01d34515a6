package io.phigate.demo;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.bson.Document;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * The demo's document store: mongo-java-server in memory, holding the demo database's synthetic patients and their
 * encounters as documents ({@code clinical.patients}, {@code clinical.encounters}), so an agent's mongosh sees the
 * same people as its psql. Copied from PostgreSQL at start (a few hundred documents, milliseconds); nothing is
 * written back, and everything is gone when the demo stops.
 */
public final class DemoDocumentStore implements AutoCloseable {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(DemoDocumentStore.class);
    public static final String DATABASE = "clinical";

    /**
     * What the store says of its version. mongo-java-server 1.47 reports wire version 8 (MongoDB 4.2) whatever it is
     * told; mongosh 2.x's driver (7.x) refuses servers below wire version 9 (4.4). The claim changes only what
     * clients believe, not what the store answers: decision 0042 lists where it differs from mongod.
     */
    public static final MongoVersion REPORTED_VERSION = new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
            return List.of(4, 4, 0);
        }

        @Override
        public int getWireVersion() {
            return 9;
        }
    };

    private final MongoServer server;
    private final InetSocketAddress address;

    private DemoDocumentStore(MongoServer server, InetSocketAddress address) {
        this.server = server;
        this.address = address;
    }

    /** Copies the patients and encounters of {@code source} (the demo database) and listens on a free loopback port. */
    public static DemoDocumentStore start(DataSource source) throws SQLException {
        long started = System.nanoTime();
        List<Document> patients;
        List<Document> encounters;
        try (Connection c = source.getConnection(); Statement s = c.createStatement()) {
            patients = patients(s);
            encounters = encounters(s);
        }
        MongoBackend backend = new MemoryBackend().version(REPORTED_VERSION);
        MongoDatabase database = backend.resolveDatabase(DATABASE);
        database.createCollectionOrThrowIfExists("patients").insertDocuments(patients);
        database.createCollectionOrThrowIfExists("encounters").insertDocuments(encounters);
        MongoServer server = new MongoServer(backend);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        log.info("Demo document store {} ready on port {} in {} ms ({} patients, {} encounters)", DATABASE,
                server.getLocalAddress().getPort(), (System.nanoTime() - started) / 1_000_000, patients.size(),
                encounters.size());
        return new DemoDocumentStore(server, server.getLocalAddress());
    }

    public InetSocketAddress address() {
        return address;
    }

    /**
     * The {@code documents} section of the demo's config: this store behind {@code listen.mongo}, and its PHI by the
     * field paths {@link #patients} and {@link #encounters} write (kept here so the two change together). How each
     * type is shown and which commands are held come from the demo's policy file, as for PostgreSQL.
     */
    public String configSection() {
        return """

                # The same patients as documents, in an in-memory store (mongo-java-server), behind listen.mongo.
                documents:
                  upstreams:
                    clinical-documents:
                      address: 127.0.0.1:%1$d
                      collections:                    # field paths reach through arrays: addresses.line is every line
                        %2$s.patients:
                          mrn: mrn
                          name.given: name
                          name.family: name
                          birth_date: dob
                          ssn: ssn
                          contact.phone: phone
                          contact.email: email
                          addresses.line: address
                          addresses.city: address
                          addresses.zip: zip
                        %2$s.encounters:
                          notes: free_text
                """.formatted(address.getPort(), DATABASE);
    }

    @Override
    public void close() {
        server.shutdownNow();
    }

    /** A patient as a document store would hold one: a name of parts, contacts and addresses nested. */
    private static List<Document> patients(Statement s) throws SQLException {
        List<Document> out = new ArrayList<>();
        try (ResultSet rs = s.executeQuery("SELECT id, mrn, first_name, last_name, birth_date, sex, ssn, phone, email,"
                + " street, city, state, zip, created_at FROM patients ORDER BY id")) {
            while (rs.next()) {
                out.add(new Document("_id", rs.getInt("id"))
                        .append("mrn", rs.getString("mrn"))
                        .append("name", new Document("given", rs.getString("first_name"))
                                .append("family", rs.getString("last_name")))
                        .append("birth_date", rs.getObject("birth_date", java.time.LocalDate.class)
                                .atStartOfDay().toInstant(ZoneOffset.UTC))
                        .append("sex", rs.getString("sex"))
                        .append("ssn", rs.getString("ssn"))
                        .append("contact", new Document("phone", rs.getString("phone"))
                                .append("email", rs.getString("email")))
                        .append("addresses", List.of(new Document("use", "home")
                                .append("line", rs.getString("street")).append("city", rs.getString("city"))
                                .append("state", rs.getString("state")).append("zip", rs.getString("zip"))))
                        .append("created_at", rs.getObject("created_at", java.time.OffsetDateTime.class).toInstant()));
            }
        }
        return out;
    }

    private static List<Document> encounters(Statement s) throws SQLException {
        List<Document> out = new ArrayList<>();
        try (ResultSet rs = s.executeQuery("SELECT id, patient_id, admitted_at, department, diagnosis_code, notes"
                + " FROM encounters ORDER BY id")) {
            while (rs.next()) {
                out.add(new Document("_id", rs.getInt("id"))
                        .append("patient_id", rs.getInt("patient_id"))
                        .append("admitted_at", rs.getObject("admitted_at", java.time.OffsetDateTime.class).toInstant())
                        .append("department", rs.getString("department"))
                        .append("diagnosis_code", rs.getString("diagnosis_code"))
                        .append("notes", rs.getString("notes")));
            }
        }
        return out;
    }
}
