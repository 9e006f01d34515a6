package io.phigate.cli;

import io.phigate.Gateway;
import io.phigate.config.ConfigLoader;
import io.phigate.config.GatewayConfig;
import io.phigate.config.HttpConfig;
import io.phigate.identity.IdentityConfig;
import io.phigate.demo.DemoDatabase;
import io.phigate.demo.DemoDocumentStore;
import io.phigate.identity.KeyTool;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code phigate demo}: an embedded PostgreSQL with synthetic patients, the same patients as documents in an
 * in-memory document store, the gateway in front of both, and a token for a demo agent, all in one folder. The
 * gateway is configured by writing a real {@code phigate.yaml} and loading it with {@link ConfigLoader}, so the
 * demo runs the same path as {@code phigate serve}.
 */
@Command(name = "demo", description = "Run the gateway in front of an embedded PostgreSQL with synthetic patients"
        + " and an in-memory document store holding them as documents.")
final class DemoCommand implements Callable<Integer> {
    static final String ISSUER = "https://demo.phigate.local";
    static final String AUDIENCE = "phigate";
    static final String AGENT_SUBJECT = "system:serviceaccount:clinical:triage-agent";
    static final String AGENT_USER = "triage-agent";
    static final String UPSTREAM = "clinical";

    static final String CONFIG_FILE = "phigate.yaml";
    static final String TOKEN_FILE = "agent.token";
    static final String PASSWORD_FILE = "secrets/clinical.password";
    static final String KEYS_DIR = "keys";
    static final String AUDIT_FILE = "audit.db";
    static final String AUDIT_KEY_FILE = "audit-signing.key";
    static final String POLICY_FILE = "policy.yaml";
    static final String MASKING_KEY_FILE = "secrets/masking.key";
    static final String CONSOLE_TOKEN_FILE = "console.token";
    static final String OPERATOR_SUBJECT = "demo-operator@hospital.example";

    /**
     * Everything a previous demo wrote here, apart from the PostgreSQL cluster, which DemoDatabase removes itself.
     * Only these are deleted, never the whole folder: {@code --dir} may name a folder that holds other things.
     */
    private static final List<String> PREVIOUS_STATE = List.of(CONFIG_FILE, TOKEN_FILE, CONSOLE_TOKEN_FILE, PASSWORD_FILE,
            KEYS_DIR + "/" + KeyTool.PRIVATE_KEY_FILE, KEYS_DIR + "/" + KeyTool.JWKS_FILE,
            KEYS_DIR + "/" + AUDIT_KEY_FILE, KEYS_DIR + "/" + AUDIT_KEY_FILE + ".pub",
            AUDIT_FILE, AUDIT_FILE + "-wal", AUDIT_FILE + "-shm", AUDIT_FILE + "-journal", AUDIT_FILE + ".checkpoints");

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--port", defaultValue = "6432", paramLabel = "PORT",
            description = "Port on 127.0.0.1 for the gateway (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--mongo-port", defaultValue = "27018", paramLabel = "PORT",
            description = "Port on 127.0.0.1 for the gateway's document-store (MongoDB) listener; not 27017, where a"
                    + " real mongod may run (default: ${DEFAULT-VALUE}).")
    int mongoPort;

    @Option(names = "--patients", defaultValue = "300", paramLabel = "N",
            description = "Synthetic patients to generate (default: ${DEFAULT-VALUE}).")
    int patients;

    @Option(names = "--dir", defaultValue = "demo-data", paramLabel = "DIR",
            description = "Folder for the database, keys, config, token and audit log; a previous demo's state in it"
                    + " is replaced (default: ${DEFAULT-VALUE}).")
    Path dir;

    @Option(names = "--ttl", defaultValue = "1h", paramLabel = "DURATION", converter = TokenCommand.TtlConverter.class,
            description = "Lifetime of the demo agent's token, such as 30m, 1h or 1d (default: ${DEFAULT-VALUE}).")
    Duration ttl;

    @Override
    public Integer call() throws InterruptedException {
        if (port < 0 || port > 65535) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--port must be 0-65535, got " + port);
        }
        if (mongoPort < 0 || mongoPort > 65535) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--mongo-port must be 0-65535, got "
                    + mongoPort);
        }
        if (patients < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--patients must be at least 1, got " + patients);
        }
        Running demo;
        try {
            demo = start(dir, port, mongoPort, patients, ttl);
        } catch (StartFailed e) {
            spec.commandLine().getErr().println("phigate demo: " + e.getMessage());
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            demo.close();
            stopped.countDown();
        }, "phigate-demo-shutdown"));
        PrintWriter out = spec.commandLine().getOut();
        out.print(instructions(demo, patients));
        out.flush();
        stopped.await();
        return 0;
    }

    /** A running demo. {@link #close()} stops the gateway first, so no session outlives its stores. */
    static final class Running implements AutoCloseable {
        private final Path dir;
        private final DemoDatabase database;
        private final DemoDocumentStore documents;
        private final Gateway gateway;
        private final String token;
        private final LocalTime tokenExpires;
        private boolean closed;

        private Running(Path dir, DemoDatabase database, DemoDocumentStore documents, Gateway gateway, String token,
                        LocalTime tokenExpires) {
            this.dir = dir;
            this.database = database;
            this.documents = documents;
            this.gateway = gateway;
            this.token = token;
            this.tokenExpires = tokenExpires;
        }

        Path dir() {
            return dir;
        }

        int port() {
            return gateway.postgresAddress().getPort();
        }

        int mongoPort() {
            return gateway.mongoAddress().getPort();
        }

        int httpPort() {
            return gateway.httpAddress().getPort();
        }

        int databasePort() {
            return database.port();
        }

        Path tokenFile() {
            return dir.resolve(TOKEN_FILE);
        }

        Path auditFile() {
            return dir.resolve(AUDIT_FILE);
        }

        /** Idempotent, since both the shutdown hook and a test's try-with-resources may call it. */
        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                gateway.close();
            } finally {
                documents.close();
                database.close();
            }
        }
    }

    /** Why the demo could not start, in one line for the terminal. */
    static final class StartFailed extends Exception {
        StartFailed(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Prepares {@code dir} and starts the database and the gateway; the caller owns the result and must close it.
     * On failure everything already started is stopped again.
     *
     * @param port      the gateway's PostgreSQL port on 127.0.0.1, or 0 for a free one
     * @param mongoPort its document-store port, or 0 for a free one
     */
    static Running start(Path dir, int port, int mongoPort, int patients, Duration ttl) throws StartFailed {
        // Checked before anything is deleted: the usual reason a port is taken is a demo still running from
        // this same folder, and wiping its files under it would break it.
        for (int p : new int[]{port, mongoPort}) {
            if (p != 0) {
                requireFreePort(p, p == port ? "--port" : "--mongo-port");
            }
        }
        DemoDatabase database = null;
        DemoDocumentStore documents = null;
        Gateway gateway = null;
        try {
            Files.createDirectories(dir);
            for (String file : PREVIOUS_STATE) {
                Files.deleteIfExists(dir.resolve(file));
            }
            database = startDatabase(dir, patients);
            documents = startDocuments(database);

            Files.createDirectories(dir.resolve(PASSWORD_FILE).getParent());
            writeOwnerOnly(dir.resolve(PASSWORD_FILE), database.password() + "\n");
            KeyTool.generate(dir.resolve(KEYS_DIR), true);
            io.phigate.audit.CheckpointKeys.generate(dir.resolve(KEYS_DIR).resolve(AUDIT_KEY_FILE));
            byte[] maskingKey = new byte[32];
            new java.security.SecureRandom().nextBytes(maskingKey);
            writeOwnerOnly(dir.resolve(MASKING_KEY_FILE), java.util.Base64.getEncoder().encodeToString(maskingKey) + "\n");
            Files.writeString(dir.resolve(POLICY_FILE), POLICY, StandardCharsets.UTF_8);
            Path configFile = dir.resolve(CONFIG_FILE);
            Files.writeString(configFile, config(port, mongoPort, freePort(), database, ttl)
                    + documents.configSection(), StandardCharsets.UTF_8);
            GatewayConfig config = ConfigLoader.load(configFile);
            gateway = startGateway(config);

            String token = KeyTool.mint(dir.resolve(KEYS_DIR).resolve(KeyTool.PRIVATE_KEY_FILE), ISSUER,
                    AGENT_SUBJECT, List.of(AUDIENCE), ttl, agentClaims());
            LocalTime expires = LocalTime.now().plus(ttl).truncatedTo(ChronoUnit.SECONDS);
            writeOwnerOnly(dir.resolve(TOKEN_FILE), token + "\n");
            // The console's operator: a person (not a workload) who may approve, end sessions and read everything.
            writeOwnerOnly(dir.resolve(CONSOLE_TOKEN_FILE), KeyTool.mint(dir.resolve(KEYS_DIR)
                    .resolve(KeyTool.PRIVATE_KEY_FILE), ISSUER, OPERATOR_SUBJECT, List.of(AUDIENCE), ttl,
                    Map.of("groups", List.of("phi-approvers", "phigate-admins"))) + "\n");
            return new Running(dir, database, documents, gateway, token, expires);
        } catch (Exception e) {
            if (gateway != null) {
                gateway.close();
            }
            if (documents != null) {
                documents.close();
            }
            if (database != null) {
                database.close();
            }
            throw e instanceof StartFailed f ? f : new StartFailed(oneLine(e), e);
        }
    }

    /** A free loopback port for the console and API (bound again by the gateway a moment later). */
    private static int freePort() throws IOException {
        try (var probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return probe.getLocalPort();
        }
    }

    private static void requireFreePort(int port, String option) throws StartFailed {
        try (var probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        } catch (IOException e) {
            throw new StartFailed("127.0.0.1:" + port + " is already in use (another phigate demo?);"
                    + " stop it or pick another port with " + option, e);
        }
    }

    private static DemoDatabase startDatabase(Path dir, int patients) throws StartFailed {
        try {
            return DemoDatabase.start(dir, 0, patients);
        } catch (IOException | RuntimeException e) {
            throw new StartFailed("could not start the embedded PostgreSQL: " + oneLine(e), e);
        }
    }

    private static DemoDocumentStore startDocuments(DemoDatabase database) throws StartFailed {
        try {
            return DemoDocumentStore.start(database.superuserDataSource());
        } catch (java.sql.SQLException | RuntimeException e) {
            throw new StartFailed("could not start the in-memory document store: " + oneLine(e), e);
        }
    }

    private static Gateway startGateway(GatewayConfig config) throws StartFailed {
        try {
            return Gateway.start(config);
        } catch (BindException e) {
            throw new StartFailed("cannot listen on " + config.listen().postgres() + ": " + e.getMessage()
                    + "; pick another port with --port", e);
        } catch (Exception e) {
            throw new StartFailed("could not start the gateway: " + oneLine(e), e);
        }
    }

    /**
     * The demo's config, as a person would write it. Paths are relative to the config's folder, so the file
     * still works with {@code phigate serve --config DIR/phigate.yaml} while the demo database runs.
     */
    static String config(int port, int mongoPort, int httpPort, DemoDatabase database, Duration ttl) {
        // The demo's own --ttl must not be refused by the default limit it runs under.
        Duration lifetime = ttl.compareTo(IdentityConfig.DEFAULT_MAX_TOKEN_LIFETIME) > 0 ? ttl
                : IdentityConfig.DEFAULT_MAX_TOKEN_LIFETIME;
        return """
                # Written by `phigate demo`, and rewritten on every run. Paths are relative to this folder.
                listen:
                  postgres: 127.0.0.1:%1$d
                  mongo: 127.0.0.1:%16$d                # document-store (MongoDB wire protocol) clients
                  http: 127.0.0.1:%14$d                # the web console, the API and /metrics; the admin API
                                                       # takes the token phigate writes to admin.token at start

                upstreams:
                  %2$s:
                    address: localhost:%3$d          # the embedded PostgreSQL
                    database: %4$s
                    credentials:
                      mode: static
                      user: %5$s
                      password_file: %6$s
                    tls:
                      mode: disable                   # loopback only

                identity:
                  issuers:
                    - issuer: %7$s
                      audience: %8$s
                      jwks_file: %9$s/%10$s
                  max_token_lifetime: %15$s             # tokens that live longer are refused

                audit:
                  store: sqlite:%11$s
                  replica: demo
                  checkpoints:
                    key_file: %9$s/%12$s
                    interval: 10s

                tls:
                  # No certificate: clients on this machine connect in cleartext, nobody else can connect.
                  mode: require
                  allow_loopback_cleartext: true

                policy: %13$s                     # which columns are PHI and how they are masked

                console:
                  # Sign in by pasting a token from the demo issuer (console.token); people in these groups:
                  roles:
                    admin:
                      - { issuer: %7$s, claims: { groups: phigate-admins } }
                    auditor:
                      - { issuer: %7$s, claims: { groups: phigate-auditors } }
                """.formatted(port, UPSTREAM, database.port(), database.database(), database.user(), PASSWORD_FILE,
                ISSUER, AUDIENCE, KEYS_DIR, KeyTool.JWKS_FILE, AUDIT_FILE, AUDIT_KEY_FILE, POLICY_FILE, httpPort,
                lifetime.toSeconds() % 3600 == 0 ? lifetime.toHours() + "h" : lifetime.toSeconds() + "s", mongoPort);
    }

    /** The demo's policy: the patients' identifiers are PHI, masked for every agent by the type's default operator. */
    static final String POLICY = """
            # Written by `phigate demo`. Tagging a column is enough to mask it (docs/configuration.md, "The policy file").
            phi:
              clinical:
                columns:
                  public.patients.mrn: mrn                # token: the same MRN always gives the same token
                  public.patients.first_name: name        # redact
                  public.patients.last_name: name
                  public.patients.birth_date: dob         # year only
                  public.patients.ssn: ssn
                  public.patients.phone: phone
                  public.patients.email: email
                  public.patients.street: address
                  public.patients.city: address
                  public.patients.zip: zip                # first three digits
                  public.encounters.notes: free_text
                subjects: { public.patients: id }
            masking:
              key_file: secrets/masking.key
            approvers:
              phi-approvers:                          # people, matched on their own tokens
                match: { issuer: "https://demo.phigate.local", claims: { groups: phi-approvers } }
            rules:
              - name: patient-record-changes          # held inside the agent's connection until approved
                when: { operations: [update, delete, truncate], tables: [patients] }   # and clinical.patients' documents
                require_approval: { group: phi-approvers, approvers: 1, timeout: 10m, mode: hold }
            """;

    /** The claims a Kubernetes projected service-account token carries, so the audit trail shows a realistic agent. */
    private static Map<String, Object> agentClaims() {
        return Map.of("kubernetes.io", Map.of(
                "namespace", "clinical",
                "serviceaccount", Map.of("name", "triage-agent", "uid", UUID.randomUUID().toString()),
                "pod", Map.of("name", "triage-agent-7d9f", "uid", UUID.randomUUID().toString())));
    }

    static String instructions(Running demo, int patients) {
        String dir = shellWord(demo.dir().normalize().toString());
        String dirPrefix = dir.equals(".") ? "" : dir + "/";
        return """

                phigate demo is running.

                  gateway      127.0.0.1:%1$d, in front of an embedded PostgreSQL on port %2$d with %3$d synthetic patients
                               127.0.0.1:%20$d, in front of the same patients as documents (in memory)
                  agent        %4$s (token in %5$s%6$s, valid until %7$s)
                  config       %5$s%8$s

                Connect as the demo agent, through the gateway (the token is the password):

                  PGPASSWORD='%9$s' psql "host=127.0.0.1 port=%1$d dbname=%10$s user=%11$s sslmode=disable"

                Then try:

                  select mrn, first_name, last_name, birth_date, zip from patients limit 5;
                  select lower(last_name) || ssn, row_to_json(p) from patients p limit 2;
                  select department, count(*) from encounters group by department order by 2 desc;

                Or with mongosh (npm install -g mongosh), as the same agent, to the same patients as documents:

                  mongosh "mongodb://127.0.0.1:%20$d/%21$s?authMechanism=PLAIN&authSource=%%24external" --username %11$s --password '%9$s'

                  db.patients.find({}, {name: 1, ssn: 1, birth_date: 1, addresses: 1}).limit(3)
                  db.encounters.aggregate([{$lookup: {from: "patients", localField: "patient_id", foreignField: "_id", as: "p"}}, {$unwind: "$p"}, {$group: {_id: "$department", visits: {$sum: 1}, oldest: {$min: "$p.birth_date"}}}])
                  db.patients.find({ssn: /^4/})    // refused: a condition on a masked field

                PHI is masked by the policy in %5$spolicy.yaml; the audit log says what was masked.

                The web console (approvals, live sessions, replay, audit search, evidence):

                  http://127.0.0.1:%17$d/console  (sign in by pasting the token in %5$s%18$s)

                An update of a patient waits there for approval, inside the agent's connection:

                  update patients set phone = '555-0100' where id = 1;
                  db.patients.updateOne({_id: 1}, {$set: {"contact.phone": "555-0100"}})

                List the live sessions, or end one, through the admin API (the CLI reads the token the
                gateway wrote to %5$s%19$s, readable by you only; a restart replaces it):

                  bin/phigate sessions list --config %5$s%8$s
                  bin/phigate sessions kill --config %5$s%8$s --identity %4$s

                Every statement is in the audit log:

                  sqlite3 %5$s%12$s 'select seq,kind,subject,statement from audit_event order by seq desc limit 10'

                and tamper-evident (a hash chain plus signed checkpoints every 10 s):

                  bin/phigate audit verify --config %5$s%8$s

                Mint a token for another agent:

                  bin/phigate token mint --key %5$s%13$s/%14$s --issuer %15$s \\
                      --subject system:serviceaccount:clinical:billing-agent --audience %16$s --ttl 10m

                Ctrl-C stops everything.
                """.formatted(demo.port(), demo.databasePort(), patients, AGENT_SUBJECT, dirPrefix, TOKEN_FILE,
                demo.tokenExpires, CONFIG_FILE, demo.token, UPSTREAM, AGENT_USER, AUDIT_FILE, KEYS_DIR,
                KeyTool.PRIVATE_KEY_FILE, ISSUER, AUDIENCE, demo.httpPort(), CONSOLE_TOKEN_FILE,
                HttpConfig.DEFAULT_ADMIN_TOKEN_FILE, demo.mongoPort(), DemoDocumentStore.DATABASE);
    }

    private static final Pattern PLAIN_WORD = Pattern.compile("[A-Za-z0-9_./:@%+=,-]+");

    /** Quotes a path for a POSIX shell only when it needs it, so the usual {@code demo-data} prints as is. */
    static String shellWord(String text) {
        return PLAIN_WORD.matcher(text).matches() ? text : "'" + text.replace("'", "'\\''") + "'";
    }

    /** Creates the file owner-only from the start, so a secret is never readable by others, not even briefly. */
    private static void writeOwnerOnly(Path file, String content) throws IOException {
        Files.deleteIfExists(file);
        if (Files.getFileStore(file.toAbsolutePath().getParent()).supportsFileAttributeView("posix")) {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } else {
            Files.createFile(file);
        }
        Files.writeString(file, content, StandardCharsets.UTF_8);
    }

    private static String oneLine(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return message.strip().replaceAll("\\s*\\R\\s*", "; ");
    }
}
