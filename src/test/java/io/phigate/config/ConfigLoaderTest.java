package io.phigate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.phigate.audit.AuditConfig;
import io.phigate.identity.IssuerConfig;
import io.phigate.mask.SecretRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    private static final String MINIMAL = io.phigate.TestConfigs.WITHOUT_AUDIT + """
            audit:
              store: sqlite:audit.db
            """;

    @TempDir
    Path dir;

    @BeforeEach
    void createReferencedFiles() throws IOException {
        // Files the docs and examples point at; their content is not checked by the loader.
        write("keys/jwks.json", "{\"keys\":[]}");
        write("tls/server.crt", "-----BEGIN CERTIFICATE-----\n");
        write("tls/server.key", "-----BEGIN PRIVATE KEY-----\n");
        write("tls/db-ca.pem", "-----BEGIN CERTIFICATE-----\n");
    }

    @Test
    void minimalConfigGetsDefaults() throws Exception {
        GatewayConfig config = parse(MINIMAL);

        assertThat(config.listen().postgres()).isEqualTo(new HostPort("127.0.0.1", 6432));
        assertThat(config.listen().http()).isNull();
        UpstreamConfig clinical = config.upstreams().get("clinical");
        assertThat(clinical.name()).isEqualTo("clinical");
        assertThat(clinical.address()).isEqualTo(new HostPort("127.0.0.1", 5432));
        assertThat(clinical.database()).isEqualTo("clinical");
        assertThat(clinical.credentials().mode()).isEqualTo(CredentialsConfig.Mode.STATIC);
        assertThat(clinical.credentials().password()).isEqualTo(new SecretRef("CLINICAL_DB_PASSWORD", null));
        assertThat(clinical.tls()).isEqualTo(UpstreamTlsConfig.DISABLED);

        IssuerConfig issuer = config.identity().issuers().getFirst();
        assertThat(issuer.audiences()).containsExactly("phigate");
        assertThat(issuer.algorithms()).isEqualTo(IssuerConfig.DEFAULT_ALGORITHMS);
        assertThat(issuer.discovery()).isFalse();
        assertThat(issuer.jwksUrl()).isNull();
        assertThat(config.identity().clockSkew()).isEqualTo(Duration.ofSeconds(60));
        assertThat(config.identity().sessionGrace()).isEqualTo(Duration.ZERO);

        assertThat(config.audit()).isEqualTo(new AuditConfig("sqlite:audit.db", dir.resolve("audit.db"), 65536,
                Duration.ofSeconds(5), Duration.ofSeconds(2)));
        assertThat(config.limits()).isEqualTo(new LimitsConfig(1000, 64 * 1024 * 1024, Duration.ofSeconds(10)));
        assertThat(config.tls()).isEqualTo(new ClientTlsConfig(ClientTlsConfig.Mode.REQUIRE, null, null, true));
        assertThat(config.policy()).isNull();
        assertThat(config.baseDir()).isEqualTo(dir.toAbsolutePath().normalize());
    }

    @Test
    void auditRetentionDefaultsToSixYearsAndCanBeSet() throws Exception {
        assertThat(parse(MINIMAL).audit().retention()).isEqualTo(Duration.ofDays(2192));
        assertThat(parse(MINIMAL + "  retention: 3650d\n").audit().retention()).isEqualTo(Duration.ofDays(3650));
    }

    @Test
    void auditQueueBytesDefaultsTo64MiBAndIsBounded() throws Exception {
        assertThat(parse(MINIMAL).audit().queueBytes()).isEqualTo(64 * 1024 * 1024);
        assertThat(parse(MINIMAL + "  queue_bytes: 16MiB\n").audit().queueBytes()).isEqualTo(16 * 1024 * 1024);
        assertThat(errors(MINIMAL + "  queue_bytes: 4KiB\n")).contains("audit.queue_bytes: must be from 1MiB to 1GiB, got 4KiB");
        assertThat(errors(MINIMAL + "  queue_bytes: 2GiB\n")).contains("audit.queue_bytes: must be from 1MiB to 1GiB, got 2GiB");
    }

    @Test
    void consoleRolesAndSignInAreReadAndChecked() throws Exception {
        assertThat(parse(MINIMAL).console()).isNull();
        ConsoleConfig console = parse(MINIMAL + """
                console:
                  roles:
                    auditor:
                      - { issuer: https://issuer.example, claims: { groups: compliance } }
                    admin: { issuer: https://issuer.example, subject: "admin-*" }
                """).console();
        assertThat(console.localSignIn()).isTrue();
        assertThat(console.oidc()).isNull();
        assertThat(console.sessionTtl()).isEqualTo(ConsoleConfig.DEFAULT_SESSION_TTL);
        assertThat(console.roles().get("auditor")).singleElement()
                .satisfies(m -> assertThat(m.claims()).containsEntry("groups", "compliance"));
        assertThat(console.roles().get("admin").getFirst().subject()).isEqualTo("admin-*");

        ConsoleConfig oidc = parse(MINIMAL + """
                console:
                  local_sign_in: false
                  session_ttl: 1h
                  oidc:
                    issuer: https://login.example
                    client_id: phigate-console
                    redirect_uri: https://phigate.example/console/oidc/callback
                  roles:
                    approver: [ { issuer: https://login.example } ]
                """).console();
        assertThat(oidc.oidc().scopes()).containsExactly("openid", "profile", "email");
        assertThat(oidc.oidc().clientSecret()).isNull();
        assertThat(oidc.sessionTtl()).hasHours(1);

        assertThat(errors(MINIMAL + "console:\n  local_sign_in: true\n")).contains("console.roles: required");
        assertThat(errors(MINIMAL + "console:\n  roles:\n    auditor: [ { claims: { groups: x } } ]\n"))
                .contains("a console role must name the issuer");
        assertThat(errors(MINIMAL + "console:\n  roles:\n    superuser: [ { issuer: https://i.example } ]\n"))
                .contains("console.roles.superuser: unknown key");
        assertThat(errors(MINIMAL + "console:\n  local_sign_in: false\n  roles:\n    admin: [ { issuer: https://i.example } ]\n"))
                .contains("console.oidc is required");
        assertThat(errors(MINIMAL + """
                console:
                  oidc: { issuer: https://login.example, client_id: c, redirect_uri: https://p.example/cb, scopes: [profile] }
                  roles:
                    admin: [ { issuer: https://login.example } ]
                """)).contains("scopes must include openid");
    }

    @Test
    void maxTokenLifetimeDefaultsToADayAndMustBePositive() throws Exception {
        assertThat(parse(MINIMAL).identity().maxTokenLifetime()).isEqualTo(Duration.ofHours(24));
        assertThat(parse(MINIMAL.replace("identity:\n", "identity:\n  max_token_lifetime: 1h\n")).identity()
                .maxTokenLifetime()).isEqualTo(Duration.ofHours(1));
        assertThat(errors(MINIMAL.replace("identity:\n", "identity:\n  max_token_lifetime: 0s\n")))
                .contains("phigate.yaml:").contains("identity.max_token_lifetime: must be longer than zero");
        assertThat(errors(MINIMAL.replace("identity:\n", "identity:\n  max_token_lifetme: 1h\n")))
                .contains("identity.max_token_lifetme: unknown key").contains("max_token_lifetime");
    }

    @Test
    void httpSectionNamesHostsTheAdminTokenFileAndBearerAdmins() throws Exception {
        HttpConfig defaults = parse(MINIMAL).http();
        assertThat(defaults.allowedHosts()).isEmpty();
        assertThat(defaults.admins()).isEmpty();
        assertThat(defaults.adminTokenFile()).isEqualTo(dir.toAbsolutePath().normalize().resolve("admin.token"));

        HttpConfig http = parse(MINIMAL + """
                http:
                  allowed_hosts: [ phigate.Example.org, "[2001:db8::1]", 10.0.0.7 ]
                  admin_token_file: run/admin.token
                  admins:
                    - { issuer: https://issuer.example, claims: { groups: phigate-admins } }
                """).http();
        assertThat(http.allowedHosts()).containsExactly("phigate.example.org", "[2001:db8::1]", "10.0.0.7");
        assertThat(http.adminTokenFile()).isEqualTo(dir.toAbsolutePath().normalize().resolve("run/admin.token"));
        assertThat(http.admins()).singleElement().satisfies(m -> assertThat(m.claims())
                .containsEntry("groups", "phigate-admins"));
        assertThat(parse(MINIMAL + "http:\n  admin_token_file: off\n").http().adminTokenFile()).isNull();

        String bad = errors(MINIMAL + """
                http:
                  allowed_hosts: [ "https://phigate.example.org", "phigate.example.org:8080" ]
                  admins: [ { claims: { groups: phigate-admins } } ]
                """);
        assertThat(bad).contains("http.allowed_hosts: expected a host name or IP address without scheme or port"
                + " (like phigate.example.org or [2001:db8::1]), got \"https://phigate.example.org\"")
                .contains("got \"phigate.example.org:8080\"")
                .contains("http.admins[0].issuer: an HTTP API admin must name the issuer");
        assertThat(errors(MINIMAL + "http:\n  allowed_host: x\n")).contains("http.allowed_host: unknown key");
    }

    @Test
    void startupParametersAnUpstreamAllowsAreReadAsPostgresReadsSettingNames() throws Exception {
        String allow = "    startup_parameters:\n      allow: [Work-Mem, jit]\n";
        String config = MINIMAL.replace("    address: 127.0.0.1\n", "    address: 127.0.0.1\n" + allow);
        assertThat(parse(config).upstreams().get("clinical").startupParameters())
                .containsExactlyInAnyOrder("work_mem", "jit");
        assertThat(parse(MINIMAL).upstreams().get("clinical").startupParameters()).isEmpty();
        assertThat(errors(config.replace("jit]", "client_encoding]")))
                .contains("upstreams.clinical.startup_parameters.allow: client_encoding has a fixed rule");
        assertThat(errors(config.replace("jit]", "\"x y\"]"))).contains("expected a setting name");
    }

    @Test
    void unknownKeyIsReportedWithItsLineAndASuggestion() {
        String message = errors(MINIMAL.replace("    address: 127.0.0.1", "    adress: 127.0.0.1"));

        assertThat(message).contains("phigate.yaml:5: upstreams.clinical.adress: unknown key; did you mean \"address\"?");
    }

    @Test
    void unknownKeyFarFromAnyKnownKeyListsTheKnownKeys() {
        String message = errors(MINIMAL + "colour: blue\n");

        assertThat(message).isEqualTo("phigate.yaml:16: colour: unknown key (known keys: listen, upstreams, identity, audit, limits, tls, policy, console, http, documents)");
    }

    @Test
    void aPasswordWrittenInTheConfigIsRefusedAndPointsToTheReference() {
        String message = errors(MINIMAL.replace("password_env: CLINICAL_DB_PASSWORD", "password: hunter2"));

        assertThat(message)
                .contains("phigate.yaml:8: upstreams.clinical.credentials.password: unknown key; did you mean \"password_env\"?")
                .contains("phigate.yaml:6: upstreams.clinical.credentials: one of password_env or password_file is required");
    }

    @Test
    void allErrorsAreReportedTogetherInLineOrder() {
        String message = errors("""
                listen:
                  postgres: abc
                upstreams:
                  clinical:
                    address: 127.0.0.1:99999
                    credentials:
                      user: phigate
                      password_env: CLINICAL_DB_PASSWORD
                identity:
                  issuers:
                    - issuer: https://issuer.example
                      audience: phigate
                      jwks_file: keys/jwks.json
                  clock_skew: soon
                audit:
                  store: sqlite:audit.db
                  queue_capacity: 0
                """);

        assertThat(message.lines().toList()).containsExactly(
                "phigate.yaml:2: listen.postgres: expected host:port, got \"abc\"",
                "phigate.yaml:5: upstreams.clinical.address: port must be between 1 and 65535, got 99999",
                "phigate.yaml:14: identity.clock_skew: expected a duration like 250ms, 10s, 5m, 1h or 2d, got \"soon\"",
                "phigate.yaml:17: audit.queue_capacity: must be between 1 and 2147483647, got 0");
    }

    @Test
    void missingRequiredKeysAreNamedAtTheirSection() {
        String message = errors("""
                listen:
                  http: 127.0.0.1:8080
                upstreams:
                  clinical:
                    credentials:
                      password_env: X
                """);

        assertThat(message.lines().toList()).containsExactly(
                "phigate.yaml:1: listen.postgres: required key is missing",
                "phigate.yaml:1: identity: required key is missing",
                "phigate.yaml:1: audit: required key is missing",
                "phigate.yaml:4: upstreams.clinical.address: required key is missing",
                "phigate.yaml:5: upstreams.clinical.credentials.user: required key is missing");
    }

    @Test
    void yamlSyntaxErrorGivesItsLine() {
        String message = errors("""
                listen:
                  postgres: 127.0.0.1:6432
                upstreams: [clinical
                identity: {}
                """);

        assertThat(message).startsWith("phigate.yaml:4: YAML syntax error: ");
        assertThat(message.lines()).hasSize(1);
    }

    @Test
    void tabIndentationIsReportedOnItsOwnLine() {
        assertThat(errors("listen:\n\tpostgres: :6432\n")).startsWith("phigate.yaml:2: YAML syntax error: ");
    }

    @Test
    void aliasesAreRefusedRatherThanReadAsTheirName() {
        String message = errors(MINIMAL.replace("listen:", "listen: &l") + "limits: *l\n");

        assertThat(message).isEqualTo("phigate.yaml:16: limits: YAML aliases (*l) are not supported; write the value out");
    }

    @Test
    void duplicateKeysAreErrorsNotLastOneWins() {
        String message = errors(MINIMAL + "listen:\n  postgres: 0.0.0.0:6432\n");

        assertThat(message).contains("phigate.yaml:16: listen: duplicate key (first set on line 1)");
    }

    @Test
    void wrongTypesAreReportedNeverThrown() {
        String message = errors("""
                listen: 6432
                upstreams: [a, b]
                identity:
                  issuers: https://issuer.example
                audit: sqlite:audit.db
                limits: []
                tls: true
                policy: [a]
                """);

        assertThat(message.lines().toList()).containsExactly(
                "phigate.yaml:1: listen: expected a mapping, got 6432",
                "phigate.yaml:2: upstreams: expected a mapping of upstream name to settings, got a list",
                "phigate.yaml:4: identity.issuers: expected a list of issuers, got \"https://issuer.example\"",
                "phigate.yaml:5: audit: expected a mapping, got \"sqlite:audit.db\"",
                "phigate.yaml:6: limits: expected a mapping, got a list",
                "phigate.yaml:7: tls: expected a mapping, got true",
                "phigate.yaml:8: policy: expected a path, got a list");
    }

    @Test
    void emptyOrNonMappingDocumentsAreRejected() {
        assertThat(errors("")).isEqualTo("phigate.yaml:1: the file is empty");
        assertThat(errors("- a\n")).isEqualTo("phigate.yaml:1: expected a mapping of settings at the top level, got a list");
        assertThat(errors(MINIMAL + "---\nlisten: {}\n")).contains("only one YAML document is allowed");
    }

    @Test
    void relativePathsResolveAgainstTheConfigFolder() throws Exception {
        write("conf/keys/jwks.json", "{\"keys\":[]}");
        write("conf/tls/server.crt", "x");
        write("conf/tls/server.key", "x");
        Path file = write("conf/phigate.yaml", MINIMAL.replace("password_env: CLINICAL_DB_PASSWORD", "password_file: secrets/db")
                + "tls:\n  cert_file: tls/server.crt\n  key_file: ./tls/../tls/server.key\npolicy: policy.yaml\n");

        GatewayConfig config = ConfigLoader.load(file);

        Path conf = dir.resolve("conf").toAbsolutePath().normalize();
        assertThat(config.baseDir()).isEqualTo(conf);
        assertThat(config.identity().issuers().getFirst().jwksFile()).isEqualTo(conf.resolve("keys/jwks.json"));
        assertThat(config.audit().sqlitePath()).isEqualTo(conf.resolve("audit.db"));
        assertThat(config.upstreams().get("clinical").credentials().password().file()).isEqualTo(conf.resolve("secrets/db"));
        assertThat(config.tls().certFile()).isEqualTo(conf.resolve("tls/server.crt"));
        assertThat(config.tls().keyFile()).isEqualTo(conf.resolve("tls/server.key"));
        assertThat(config.policy()).isEqualTo(conf.resolve("policy.yaml"));
    }

    @Test
    void absolutePathsAreKeptAsWritten() throws Exception {
        Path jwks = write("elsewhere/jwks.json", "{}").toAbsolutePath();
        GatewayConfig config = parse(MINIMAL.replace("jwks_file: keys/jwks.json", "jwks_file: " + jwks)
                .replace("sqlite:audit.db", "sqlite:/var/lib/phigate/audit.db"));

        assertThat(config.identity().issuers().getFirst().jwksFile()).isEqualTo(jwks);
        assertThat(config.audit().sqlitePath()).isEqualTo(Path.of("/var/lib/phigate/audit.db"));
    }

    @Test
    void loadNamesTheFileWhenItCannotBeRead() {
        Path missing = dir.resolve("nope.yaml");

        assertThatThrownBy(() -> ConfigLoader.load(missing))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(missing + ": cannot read the config file");
    }

    @Test
    void loadErrorsNameTheFileAsGiven() throws Exception {
        Path file = write("bad.yaml", MINIMAL.replace("127.0.0.1:6432", "abc"));

        assertThatThrownBy(() -> ConfigLoader.load(file))
                .hasMessage(file + ":2: listen.postgres: expected host:port, got \"abc\"");
    }

    @Test
    void addressesAcceptHostPortBracketedIpv6AndBarePort() throws Exception {
        GatewayConfig config = parse(MINIMAL.replace("postgres: 127.0.0.1:6432", "postgres: :6432\n  http: \"[::1]:0\"")
                .replace("address: 127.0.0.1", "address: db.internal"));

        assertThat(config.listen().postgres()).isEqualTo(new HostPort("0.0.0.0", 6432));
        assertThat(config.listen().http()).isEqualTo(new HostPort("::1", 0));
        assertThat(config.listen().http().toString()).isEqualTo("[::1]:0");
        assertThat(config.upstreams().get("clinical").address()).isEqualTo(new HostPort("db.internal", 5432));
    }

    @Test
    void badAddressesAreExplained() {
        assertThat(Units.hostPort("[::1]:5433", false)).isEqualTo(new HostPort("::1", 5433));
        assertThat(Units.hostPort("[::1]", false)).isEqualTo(new HostPort("::1", 5432));
        assertThatThrownBy(() -> Units.hostPort("::1:5432", false)).hasMessageContaining("brackets");
        assertThatThrownBy(() -> Units.hostPort("db:0", false)).hasMessage("port must be between 1 and 65535, got 0");
        assertThatThrownBy(() -> Units.hostPort(":5432", false)).hasMessageContaining("the host is missing");
        assertThatThrownBy(() -> Units.hostPort("127.0.0.1", true)).hasMessage("expected host:port, got \"127.0.0.1\"");
        assertThatThrownBy(() -> Units.hostPort("db:port", true)).hasMessageContaining("the port must be a number");
        assertThatThrownBy(() -> Units.hostPort("a b:1", true)).hasMessageContaining("not a valid host name");
    }

    @Test
    void durationsTakeUnitsAndBareIntegersAreSeconds() {
        assertThat(Units.duration("250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(Units.duration("10s")).isEqualTo(Duration.ofSeconds(10));
        assertThat(Units.duration("5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(Units.duration("1h")).isEqualTo(Duration.ofHours(1));
        assertThat(Units.duration("2d")).isEqualTo(Duration.ofDays(2));
        assertThat(Units.duration("30")).isEqualTo(Duration.ofSeconds(30));
        for (String bad : List.of("1.5s", "-1s", "10x", "s", "")) {
            assertThatThrownBy(() -> Units.duration(bad)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("expected a duration");
        }
        assertThatThrownBy(() -> Units.duration("99999999999999999999d")).hasMessageStartingWith("duration is too large");
    }

    @Test
    void sizesTakeBinaryUnitsAndRefuseDecimalOnes() {
        assertThat(Units.size("65536")).isEqualTo(65536);
        assertThat(Units.size("64KiB")).isEqualTo(64 * 1024);
        assertThat(Units.size("64MiB")).isEqualTo(64L * 1024 * 1024);
        assertThat(Units.size("1GiB")).isEqualTo(1024L * 1024 * 1024);
        assertThatThrownBy(() -> Units.size("64MB")).hasMessage("unknown size unit \"MB\"; use plain bytes or KiB, MiB, GiB (1024-based)");
        assertThatThrownBy(() -> Units.size("1.5GiB")).hasMessageStartingWith("expected a size");
    }

    @Test
    void limitsAreParsedAndBounded() throws Exception {
        GatewayConfig config = parse(MINIMAL + "limits:\n  max_sessions: 5\n  max_frame_bytes: 8KiB\n  startup_timeout: 250ms\n");
        assertThat(config.limits()).isEqualTo(new LimitsConfig(5, 8192, Duration.ofMillis(250)));

        String message = errors(MINIMAL + "limits:\n  max_sessions: 0\n  max_frame_bytes: 2GiB\n  startup_timeout: 0s\n");
        assertThat(message.lines().toList()).containsExactly(
                "phigate.yaml:17: limits.max_sessions: must be between 1 and 2147483647, got 0",
                "phigate.yaml:18: limits.max_frame_bytes: must be between 8KiB and 1GiB, got 2GiB",
                "phigate.yaml:19: limits.startup_timeout: must be longer than zero");
    }

    @Test
    void perAddressConnectRateIsParsedAndBounded() throws Exception {
        GatewayConfig config = parse(MINIMAL + "limits:\n  connect_rate_per_address: 5\n  connect_burst_per_address: 12\n");
        assertThat(config.limits().connectRatePerAddress()).isEqualTo(5);
        assertThat(config.limits().connectBurstPerAddress()).isEqualTo(12);
        // Without a burst, a rate above the default burst is its own burst.
        assertThat(parse(MINIMAL + "limits:\n  connect_rate_per_address: 500\n").limits().connectBurstPerAddress())
                .isEqualTo(500);
        assertThat(parse(MINIMAL + "limits:\n  connect_rate_per_address: 0\n").limits().connectRatePerAddress()).isZero();

        String message = errors(MINIMAL + "limits:\n  connect_rate_per_address: -1\n  connect_burst_per_address: 0\n"
                + "  connect_rate: 5\n");
        assertThat(message).contains("phigate.yaml:17: limits.connect_rate_per_address: must be between 0 and 1000000, got -1")
                .contains("phigate.yaml:18: limits.connect_burst_per_address: must be between 1 and 1000000, got 0")
                .contains("limits.connect_rate");
    }

    @Test
    void maxHandshakesIsParsedBoundedAndDefaultsTo256() throws Exception {
        assertThat(parse(MINIMAL + "limits:\n  max_handshakes: 16\n").limits().maxHandshakes()).isEqualTo(16);
        assertThat(parse(MINIMAL).limits().maxHandshakes()).isEqualTo(LimitsConfig.DEFAULT_MAX_HANDSHAKES).isEqualTo(256);
        assertThat(parse(MINIMAL + "limits:\n  max_sessions: 5\n").limits().maxHandshakes()).isEqualTo(256);
        assertThat(errors(MINIMAL + "limits:\n  max_handshakes: 0\n"))
                .contains("phigate.yaml:17: limits.max_handshakes: must be between 1 and 1000000, got 0");
    }

    @Test
    void cookieKeysAreAListOfIdsWithAKeySourceTheFirstSealing() throws Exception {
        String roles = "  roles:\n    auditor: [ { issuer: https://i.example } ]\n";
        ConsoleConfig console = parse(MINIMAL + "console:\n" + roles + """
                  cookie_keys:
                    - id: 2026-12
                      key_file: secrets/cookie-2026-12
                    - id: 2026-06
                      key_env: PHIGATE_COOKIE_KEY_OLD
                """).console();
        assertThat(console.cookieKeys()).extracting(ConsoleConfig.CookieKey::id).containsExactly("2026-12", "2026-06");
        assertThat(console.cookieKeys().getFirst().secret().file()).isEqualTo(dir.resolve("secrets/cookie-2026-12"));
        assertThat(console.cookieKeys().get(1).secret().env()).isEqualTo("PHIGATE_COOKIE_KEY_OLD");
        assertThat(parse(MINIMAL + "console:\n" + roles).console().cookieKeys()).isEmpty();

        assertThat(errors(MINIMAL + "console:\n" + roles + "  cookie_keys:\n    - id: a.b\n      key_env: K\n"
                + "    - id: k\n      key_env: K\n    - id: k\n      key_file: f\n    - id: n\n"))
                .contains("console.cookie_keys[0].id: expected 1 to 32 letters, digits, _ or -, got \"a.b\"")
                .contains("console.cookie_keys[2].id: duplicate cookie key id \"k\"")
                .contains("console.cookie_keys[3]: one of key_env or key_file is required");
        assertThat(errors(MINIMAL + "console:\n" + roles + "  cookie_keys: secret\n"))
                .contains("console.cookie_keys: expected a list of keys");
    }

    @Test
    void replicaEnvNamesTheVariableHoldingTheReplicaAndAnUnsetOneIsAProblem() throws Exception {
        String audit = MINIMAL.replace("  store: sqlite:audit.db\n", "  store: sqlite:audit.db\n  replica_env: %s\n");
        assertThat(errors(audit.formatted("PHIGATE_TEST_SURELY_UNSET_POD_NAME")))
                .contains("audit.replica_env: environment variable PHIGATE_TEST_SURELY_UNSET_POD_NAME is not set");
        assertThat(errors(audit.formatted("PATH") + "  replica: a\n")).contains("set only one of replica or replica_env");
        // A value that is no replica name is refused like one written in the config.
        assertThat(errors(audit.formatted("PATH"))).contains("audit.replica: expected 1 to 128 letters");
    }

    @Test
    void drainGraceIsParsedMayBeZeroAndDefaultsToThirtySeconds() throws Exception {
        assertThat(parse(MINIMAL + "limits:\n  drain_grace: 45s\n").limits().drainGrace()).isEqualTo(Duration.ofSeconds(45));
        assertThat(parse(MINIMAL + "limits:\n  drain_grace: 0s\n").limits().drainGrace()).isZero();
        assertThat(parse(MINIMAL).limits().drainGrace()).isEqualTo(LimitsConfig.DEFAULT_DRAIN_GRACE)
                .isEqualTo(Duration.ofSeconds(30));
        assertThat(errors(MINIMAL + "limits:\n  drain_grace: soon\n")).contains("phigate.yaml:17: limits.drain_grace:");
    }

    @Test
    void platformSessionThreadsIsParsedMayBeZeroAndDefaultsTo128() throws Exception {
        assertThat(parse(MINIMAL + "limits:\n  platform_session_threads: 16\n").limits().platformSessionThreads())
                .isEqualTo(16);
        assertThat(parse(MINIMAL + "limits:\n  platform_session_threads: 0\n").limits().platformSessionThreads())
                .isZero();
        assertThat(parse(MINIMAL).limits().platformSessionThreads()).isEqualTo(128);
        assertThat(errors(MINIMAL + "limits:\n  platform_session_threads: -1\n"))
                .contains("phigate.yaml:17: limits.platform_session_threads:");
    }

    @Test
    void eventLoopIsOffUnlessSetToPlainAndNamesTheChoicesOtherwise() throws Exception {
        assertThat(parse(MINIMAL).limits().eventLoop()).isEqualTo(LimitsConfig.EventLoop.OFF);
        LimitsConfig on = parse(MINIMAL + "limits:\n  event_loop: plain\n  event_loop_threads: 4\n").limits();
        assertThat(on.eventLoop()).isEqualTo(LimitsConfig.EventLoop.PLAIN);
        assertThat(on.eventLoopThreads()).isEqualTo(4);
        assertThat(parse(MINIMAL + "limits:\n  event_loop: off\n").limits().eventLoop())
                .isEqualTo(LimitsConfig.EventLoop.OFF);
        assertThat(errors(MINIMAL + "limits:\n  event_loop: masked\n"))
                .contains("phigate.yaml:17: limits.event_loop:").contains("off, plain");
    }

    @Test
    void audienceMayBeOneStringOrAList() throws Exception {
        GatewayConfig config = parse(MINIMAL.replace("audience: phigate", "audience: [phigate, https://phigate.example]"));

        assertThat(config.identity().issuers().getFirst().audiences()).containsExactly("phigate", "https://phigate.example");
        assertThat(errors(MINIMAL.replace("audience: phigate", "audience: []")))
                .contains("identity.issuers[0].audience: must list at least one value");
    }

    @Test
    void unsignedAndHmacAlgorithmsAreRefused() {
        String message = errors(MINIMAL.replace("jwks_file: keys/jwks.json", "jwks_file: keys/jwks.json\n      algorithms: [none, HS256, es256]"));

        assertThat(message.lines().toList()).containsExactly(
                "phigate.yaml:14: identity.issuers[0].algorithms: \"none\" is refused: an unsigned token proves nothing",
                "phigate.yaml:14: identity.issuers[0].algorithms: \"HS256\" is refused: HMAC keys are shared secrets, so whoever can verify a token can also forge one",
                "phigate.yaml:14: identity.issuers[0].algorithms: unknown algorithm \"es256\"; did you mean \"ES256\"?");
    }

    @Test
    void eachIssuerNeedsExactlyOneKeySource() {
        assertThat(errors(MINIMAL.replace("      jwks_file: keys/jwks.json\n", "")))
                .isEqualTo("phigate.yaml:11: identity.issuers[0]: one of jwks_file, jwks_url or discovery: true is required (where the issuer's public keys come from)");
        assertThat(errors(MINIMAL.replace("jwks_file: keys/jwks.json", "jwks_file: keys/jwks.json\n      discovery: true")))
                .isEqualTo("phigate.yaml:11: identity.issuers[0]: set only one of jwks_file, jwks_url or discovery: true");
    }

    @Test
    void jwksSourcesAreChecked() throws Exception {
        assertThat(errors(MINIMAL.replace("keys/jwks.json", "keys/missing.json")))
                .isEqualTo("phigate.yaml:13: identity.issuers[0].jwks_file: file not found: " + dir.toAbsolutePath().normalize().resolve("keys/missing.json"));
        assertThat(errors(MINIMAL.replace("jwks_file: keys/jwks.json", "jwks_url: file:///etc/jwks.json")))
                .isEqualTo("phigate.yaml:13: identity.issuers[0].jwks_url: expected an http(s) URL, got \"file:///etc/jwks.json\"");
        assertThat(errors(MINIMAL.replace("issuer: https://issuer.example", "issuer: local")
                .replace("jwks_file: keys/jwks.json", "discovery: true")))
                .contains("identity.issuers[0].discovery: discovery needs the issuer to be an http(s) URL, got \"local\"");

        GatewayConfig config = parse(MINIMAL.replace("jwks_file: keys/jwks.json", "jwks_url: https://issuer.example/jwks"));
        assertThat(config.identity().issuers().getFirst().jwksUrl()).hasToString("https://issuer.example/jwks");
    }

    @Test
    void duplicateIssuersAreErrors() {
        String twice = MINIMAL.replace("audit:", """
                    - issuer: https://issuer.example
                      audience: other
                      jwks_file: keys/jwks.json
                audit:""");

        assertThat(errors(twice)).isEqualTo("phigate.yaml:14: identity.issuers[1].issuer: duplicate issuer \"https://issuer.example\" (first on line 11)");
    }

    @Test
    void issuerMustBeANonEmptyString() {
        assertThat(errors(MINIMAL.replace("issuer: https://issuer.example", "issuer: \"\"")))
                .isEqualTo("phigate.yaml:11: identity.issuers[0].issuer: must not be empty");
    }

    @Test
    void exactlyOnePasswordSourceIsRequired() {
        assertThat(errors(MINIMAL.replace("password_env: CLINICAL_DB_PASSWORD", "password_env: A\n      password_file: b")))
                .isEqualTo("phigate.yaml:9: upstreams.clinical.credentials.password_file: set only one of password_env or password_file");
        assertThat(errors(MINIMAL.replace("password_env: CLINICAL_DB_PASSWORD", "password_env: 1-bad")))
                .contains("upstreams.clinical.credentials.password_env: expected an environment variable name");
        assertThat(errors(MINIMAL.replace("user: phigate", "mode: vault\n      user: phigate")))
                .isEqualTo("phigate.yaml:7: upstreams.clinical.credentials.mode: expected one of static, ephemeral, got \"vault\"");
    }

    @Test
    void upstreamsKeepFileOrderAndMayRenameTheDatabase() throws Exception {
        GatewayConfig config = parse(MINIMAL.replace("identity:", """
                  billing:
                    address: billing.internal:6543
                    database: billing_prod
                    credentials:
                      user: phigate
                      password_env: BILLING_DB_PASSWORD
                identity:"""));

        assertThat(config.upstreams().keySet()).containsExactly("clinical", "billing");
        UpstreamConfig billing = config.upstreams().get("billing");
        assertThat(billing.database()).isEqualTo("billing_prod");
        assertThat(billing.address()).isEqualTo(new HostPort("billing.internal", 6543));
        assertThatThrownBy(() -> config.upstreams().put("x", billing)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void upstreamTlsVerifyFullNeedsACaFile() throws Exception {
        assertThat(errors(MINIMAL.replace("    credentials:", "    tls:\n      mode: verify-full\n    credentials:")))
                .isEqualTo("phigate.yaml:6: upstreams.clinical.tls.ca_file: required when mode is verify-full (the CA that signed the database's certificate)");

        GatewayConfig config = parse(MINIMAL.replace("    credentials:", "    tls:\n      mode: verify-full\n      ca_file: tls/db-ca.pem\n    credentials:"));
        assertThat(config.upstreams().get("clinical").tls())
                .isEqualTo(new UpstreamTlsConfig(UpstreamTlsConfig.Mode.VERIFY_FULL, dir.toAbsolutePath().normalize().resolve("tls/db-ca.pem")));
        assertThat(errors(MINIMAL.replace("    credentials:", "    tls:\n      mode: verify_full\n    credentials:")))
                .contains("upstreams.clinical.tls.mode: expected one of disable, require, verify-full, got \"verify_full\"; did you mean \"verify-full\"?");
    }

    @Test
    void anAsynchronousRecordLingersFiveMillisecondsUnlessToldOtherwise() throws Exception {
        assertThat(parse(MINIMAL).audit().asyncLinger()).isEqualTo(Duration.ofMillis(5));
        assertThat(parse(MINIMAL + "  async_linger: 0ms\n").audit().asyncLinger()).isZero();
        assertThat(parse(MINIMAL + "  async_linger: 20ms\n").audit().asyncLinger()).isEqualTo(Duration.ofMillis(20));
        assertThat(errors(MINIMAL + "  async_linger: 2s\n")).contains("audit.async_linger: must be at most 1s, got 2s");
        assertThat(errors(MINIMAL + "  async_linger: soon\n")).contains("audit.async_linger");
    }

    @Test
    void theAuditJournalIsOnBesideASqliteFileAndOnlyOnRequestForPostgres() throws Exception {
        Path base = dir.toAbsolutePath().normalize();
        AuditConfig sqlite = parse(MINIMAL).audit();
        assertThat(sqlite.journalDir()).isEqualTo(base.resolve("audit.db.journal/local"));
        assertThat(sqlite.journalMaxBytes()).isEqualTo(1L << 30);
        assertThat(parse(MINIMAL + "  replica: gw-2\n").audit().journalDir()).isEqualTo(base.resolve("audit.db.journal/gw-2"));
        assertThat(parse(MINIMAL + "  journal: false\n").audit().journalDir()).isNull();
        assertThat(parse(MINIMAL + "  journal_dir: wal\n  journal_max_bytes: 8MiB\n").audit())
                .satisfies(a -> assertThat(a.journalDir()).isEqualTo(base.resolve("wal")))
                .satisfies(a -> assertThat(a.journalMaxBytes()).isEqualTo(8L << 20));
        assertThat(errors(MINIMAL + "  journal_max_bytes: 4KiB\n")).contains("audit.journal_max_bytes: must be at least 1MiB");

        String postgres = MINIMAL.replace("sqlite:audit.db", "postgres://a@db/audit\n  password_env: X");
        assertThat(parse(postgres).audit().journalDir()).isNull();
        assertThat(parse(postgres + "  journal_dir: /var/lib/phigate/journal\n").audit().journalDir())
                .isEqualTo(Path.of("/var/lib/phigate/journal"));
        assertThat(errors(postgres + "  journal: true\n")).contains("audit.journal: with a postgres:// store the journal needs journal_dir");
    }

    @Test
    void auditStoreIsSqliteOrPostgresWithThePasswordOutsideTheConfig() throws Exception {
        GatewayConfig config = parse(MINIMAL.replace("sqlite:audit.db",
                "postgres://phigate_audit@db.internal:6543/evidence\n  password_env: AUDIT_DB_PASSWORD"));
        assertThat(config.audit().sqlitePath()).isNull();
        assertThat(config.audit().postgres()).isEqualTo(new AuditConfig.Postgres("db.internal", 6543, "evidence",
                "phigate_audit", new SecretRef("AUDIT_DB_PASSWORD", null)));
        assertThat(config.audit().postgres().jdbcUrl()).isEqualTo("jdbc:postgresql://db.internal:6543/evidence");

        config = parse(MINIMAL.replace("sqlite:audit.db", "postgresql://a@[::1]/db\n  password_file: secrets/audit"));
        assertThat(config.audit().postgres()).isEqualTo(new AuditConfig.Postgres("::1", 5432, "db", "a",
                new SecretRef(null, dir.toAbsolutePath().normalize().resolve("secrets/audit"))));

        assertThat(errors(MINIMAL.replace("sqlite:audit.db", "postgres://audit@db/audit")))
                .isEqualTo("phigate.yaml:14: audit: one of password_env or password_file is required (passwords are never written in the config)");
        String withPassword = errors(MINIMAL.replace("sqlite:audit.db", "postgres://audit:s3cret@db/audit\n  password_env: X"));
        assertThat(withPassword)
                .isEqualTo("phigate.yaml:15: audit.store: a password does not belong in the store URI; use password_env or password_file")
                .doesNotContain("s3cret");
        assertThat(errors(MINIMAL.replace("sqlite:audit.db", "postgres://audit@db\n  password_env: X")))
                .isEqualTo("phigate.yaml:15: audit.store: expected a database name after the host, like postgres://user@host:5432/phigate");
        assertThat(errors(MINIMAL.replace("sqlite:audit.db", "sqlite:audit.db\n  password_env: X")))
                .isEqualTo("phigate.yaml:16: audit.password_env: only a postgres:// store has a password");
        assertThat(errors(MINIMAL.replace("sqlite:audit.db", "audit.db")))
                .isEqualTo("phigate.yaml:15: audit.store: expected sqlite:PATH or postgres://user@host:port/database, got \"audit.db\"");
        assertThat(errors(MINIMAL.replace("sqlite:audit.db", "\"sqlite:\"")))
                .isEqualTo("phigate.yaml:15: audit.store: sqlite: needs a file path, like sqlite:audit.db");
    }

    @Test
    void clientTlsWithACertificateNeedsBothFilesToExist() throws Exception {
        GatewayConfig config = parse(MINIMAL + "tls:\n  cert_file: tls/server.crt\n  key_file: tls/server.key\n  allow_loopback_cleartext: false\n");
        assertThat(config.tls().hasCertificate()).isTrue();
        assertThat(config.tls().allowLoopbackCleartext()).isFalse();

        assertThat(errors(MINIMAL + "tls:\n  cert_file: tls/server.crt\n"))
                .isEqualTo("phigate.yaml:16: tls.key_file: cert_file and key_file go together; key_file is missing");
        assertThat(errors(MINIMAL + "tls:\n  mode: allow\n  cert_file: tls/server.crt\n  key_file: tls/nope.key\n"))
                .isEqualTo("phigate.yaml:19: tls.key_file: file not found: " + dir.toAbsolutePath().normalize().resolve("tls/nope.key"));
    }

    @Test
    void requireWithoutACertificateIsRefusedWhenLoopbackCleartextIsOff() throws Exception {
        assertThat(errors(MINIMAL + "tls:\n  allow_loopback_cleartext: false\n"))
                .startsWith("phigate.yaml:16: tls.mode: require without cert_file and key_file, and with allow_loopback_cleartext: false, refuses every client");

        assertThat(parse(MINIMAL + "tls:\n  mode: disable\n  allow_loopback_cleartext: false\n").tls().mode())
                .isEqualTo(ClientTlsConfig.Mode.DISABLE);
        assertThat(errors(MINIMAL + "tls:\n  allow_loopback_cleartext: yes please\n"))
                .isEqualTo("phigate.yaml:17: tls.allow_loopback_cleartext: expected true or false, got \"yes please\"");
    }

    @Test
    void anEmptyValueMeansTheKeyIsAbsent() throws Exception {
        GatewayConfig config = parse(MINIMAL.replace("postgres: 127.0.0.1:6432", "postgres: 127.0.0.1:6432\n  http:") + "limits:\ntls:\n");

        assertThat(config.listen().http()).isNull();
        assertThat(config.limits().maxSessions()).isEqualTo(1000);
        assertThat(config.tls().mode()).isEqualTo(ClientTlsConfig.Mode.REQUIRE);
        assertThat(errors(MINIMAL.replace("user: phigate", "user:")))
                .isEqualTo("phigate.yaml:7: upstreams.clinical.credentials.user: has no value, but one is required");
    }

    @Test
    void theShippedExampleParses() throws Exception {
        Path file = dir.resolve("phigate.yaml");
        Files.copy(Path.of("examples/phigate.yaml"), file);

        GatewayConfig config = ConfigLoader.load(file);

        assertThat(config.listen().postgres()).isEqualTo(new HostPort("127.0.0.1", 6432));
        UpstreamConfig clinical = config.upstreams().get("clinical");
        assertThat(clinical.address()).isEqualTo(new HostPort("127.0.0.1", 5432));
        assertThat(clinical.credentials().password().env()).isEqualTo("CLINICAL_DB_PASSWORD");
        assertThat(config.identity().issuers().getFirst().jwksFile()).isEqualTo(dir.toAbsolutePath().normalize().resolve("keys/jwks.json"));
    }

    @Test
    void everyYamlExampleInTheDocsParses() throws Exception {
        String all = Files.readString(Path.of("docs/configuration.md"));
        int policyPart = all.indexOf("\n# The policy file");
        String docs = policyPart < 0 ? all : all.substring(0, policyPart);
        if (policyPart >= 0) {
            // The policy file's own examples are policy files, read by the policy loader.
            Matcher policies = Pattern.compile("```yaml\\n(.*?)```", Pattern.DOTALL).matcher(all.substring(policyPart));
            while (policies.find()) {
                try {
                    PolicyLoader.parse(policies.group(1), Path.of("."), "docs/configuration.md");
                } catch (ConfigException e) {
                    throw new AssertionError("docs policy example failed:\n" + policies.group(1) + "\n" + e.getMessage(), e);
                }
            }
        }
        Matcher blocks = Pattern.compile("```yaml\\n(.*?)```", Pattern.DOTALL).matcher(docs);
        int count = 0;
        while (blocks.find()) {
            // Section snippets replace the same sections of the minimal config, so each is checked in a whole file.
            // Snippets of the policy file (under "# The policy file") are checked as a policy.
            boolean policy = Pattern.compile("^(phi|masking|roles|approvers|rules):", Pattern.MULTILINE)
                    .matcher(blocks.group(1)).find();
            try {
                if (policy) {
                    PolicyLoader.parse(blocks.group(1), dir, "policy.yaml");
                } else {
                    parse(overlay(MINIMAL, blocks.group(1)));
                }
            } catch (ConfigException e) {
                throw new AssertionError("docs example failed:\n" + blocks.group(1) + "\n" + e.getMessage(), e);
            }
            count++;
        }
        assertThat(count).isGreaterThanOrEqualTo(7);
    }

    private static String overlay(String base, String snippet) {
        Map<String, String> sections = topLevelSections(base);
        sections.putAll(topLevelSections(snippet));
        return String.join("", sections.values());
    }

    private static Map<String, String> topLevelSections(String yaml) {
        Map<String, String> sections = new LinkedHashMap<>();
        String key = null;
        List<String> lines = new ArrayList<>();
        for (String line : yaml.split("(?<=\n)")) {
            Matcher m = Pattern.compile("^([A-Za-z_]+):").matcher(line);
            if (m.find()) {
                if (key != null) {
                    sections.put(key, String.join("", lines));
                }
                key = m.group(1);
                lines.clear();
            }
            if (key != null) {
                lines.add(line.endsWith("\n") ? line : line + "\n");
            }
        }
        if (key != null) {
            sections.put(key, String.join("", lines));
        }
        return sections;
    }

    private static final String WITH_MONGO_LISTENER = MINIMAL.replace("listen:\n", "listen:\n  mongo: 127.0.0.1:27018\n");

    @Test
    void withoutADocumentsSectionThereIsNoDocumentStore() throws Exception {
        GatewayConfig config = parse(MINIMAL);

        assertThat(config.listen().mongo()).isNull();
        assertThat(config.documents()).isNull();
    }

    @Test
    void documentStoresAreReadByNameAndASingleOneIsTheDefault() throws Exception {
        GatewayConfig config = parse(WITH_MONGO_LISTENER + """
                documents:
                  upstreams:
                    records:
                      address: db.internal
                """);

        assertThat(config.listen().mongo()).isEqualTo(new HostPort("127.0.0.1", 27018));
        assertThat(config.documents().defaultUpstream()).isEqualTo("records");
        assertThat(config.documents().defaultAddress()).isEqualTo(new HostPort("db.internal", 27017));
    }

    @Test
    void severalDocumentStoresNeedADefaultThatIsOneOfThem() throws Exception {
        String two = WITH_MONGO_LISTENER + """
                documents:
                  upstreams:
                    records:
                      address: 10.0.0.1:27017
                    archive:
                      address: 10.0.0.2:27019
                """;

        assertThat(parse(two + "  default_upstream: archive\n").documents().defaultAddress())
                .isEqualTo(new HostPort("10.0.0.2", 27019));
        assertThat(errors(two)).contains("documents.default_upstream: required key is missing");
        assertThat(errors(two + "  default_upstream: notes\n")).contains("documents.default_upstream: no document"
                + " store named \"notes\" under upstreams (known: records, archive)");
    }

    @Test
    void aDocumentStoreDeclaresItsPhiByCollectionAndFieldPath() throws Exception {
        GatewayConfig config = parse(WITH_MONGO_LISTENER + """
                documents:
                  upstreams:
                    records:
                      address: db.internal
                      collections:
                        clinic.patients:
                          ssn: ssn
                          address.street: address
                          contacts.$.phone: phone
                          "visits[].note": free_text
                """);

        assertThat(config.documents().defaultCatalog().paths("clinic.patients")).isEqualTo(java.util.Map.of(
                "ssn", io.phigate.mask.PhiType.SSN, "address.street", io.phigate.mask.PhiType.ADDRESS,
                "contacts.phone", io.phigate.mask.PhiType.PHONE, "visits.note", io.phigate.mask.PhiType.FREE_TEXT));
    }

    @Test
    void aDocumentStoresPhiThatDoesNotParseIsNamedWithItsLine() {
        String message = errors(WITH_MONGO_LISTENER + """
                documents:
                  upstreams:
                    records:
                      address: db.internal
                      collections:
                        patients:
                          ssn: ssn
                        clinic.patients:
                          ssn: snn
                          contacts.0.phone: phone
                """);

        assertThat(message).contains("documents.upstreams.records.collections.patients: expected database.collection")
                .contains("phigate.yaml:25: documents.upstreams.records.collections.clinic.patients.ssn: unknown PHI"
                        + " type \"snn\" (did you mean ssn?)")
                .contains("collections.clinic.patients.contacts.0.phone: not a field path");
    }

    @Test
    void aDocumentStoreAddressThatDoesNotParseIsNamedWithItsLine() {
        String message = errors(WITH_MONGO_LISTENER + """
                documents:
                  upstreams:
                    records:
                      address: db.internal:mongo
                """);

        assertThat(message).contains("phigate.yaml:20: documents.upstreams.records.address: expected host:port or"
                + " host, got \"db.internal:mongo\" (the port must be a number)");
    }

    @Test
    void aDocumentStoreTakesTheGatewaysOwnLoginWithItsSourceAdminByDefault() throws Exception {
        GatewayConfig config = parse(WITH_MONGO_LISTENER + """
                documents:
                  upstreams:
                    records:
                      address: db.internal
                      credentials:
                        user: phigate
                        password_env: RECORDS_PASSWORD
                    archive:
                      address: db.archive
                      credentials:
                        user: gateway
                        password_file: /run/secrets/archive
                        source: clinic
                    open:
                      address: db.open
                  default_upstream: records
                """);

        assertThat(config.documents().defaultCredentials()).isEqualTo(new DocumentsConfig.Credentials("phigate",
                new SecretRef("RECORDS_PASSWORD", null), "admin"));
        assertThat(config.documents().credentials().get("archive")).isEqualTo(new DocumentsConfig.Credentials(
                "gateway", new SecretRef(null, Path.of("/run/secrets/archive")), "clinic"));
        assertThat(config.documents().credentials()).doesNotContainKey("open");
    }

    @Test
    void aDocumentStoreLoginWithoutItsPasswordOrUserIsNamedWithItsLine() {
        String message = errors(WITH_MONGO_LISTENER + """
                documents:
                  upstreams:
                    records:
                      address: db.internal
                      credentials:
                        user: phigate
                        password: hunter2
                """);

        assertThat(message).contains("phigate.yaml:21: documents.upstreams.records.credentials: one of password_env"
                        + " or password_file is required (passwords are never written in the config)")
                .contains("documents.upstreams.records.credentials.password: unknown key")
                .doesNotContain("hunter2");
        assertThat(errors(WITH_MONGO_LISTENER + """
                documents:
                  upstreams:
                    records:
                      address: db.internal
                      credentials:
                        password_env: RECORDS_PASSWORD
                """)).contains("documents.upstreams.records.credentials.user: required key is missing");
    }

    @Test
    void unknownKeysInTheDocumentsSectionAreRefused() {
        assertThat(errors(WITH_MONGO_LISTENER + """
                documents:
                  upstreams:
                    records:
                      address: db.internal
                      user: phigate
                  default: records
                """)).contains("documents.upstreams.records.user: unknown key (known keys: address, collections, tls,"
                        + " credentials)")
                .contains("documents.default: unknown key; did you mean \"default_upstream\"?");
        assertThat(errors(MINIMAL.replace("listen:\n", "listen:\n  mongodb: :27018\n")))
                .contains("listen.mongodb: unknown key; did you mean \"mongo\"?");
    }

    @Test
    void theMongoListenerAndTheDocumentStoresComeTogether() {
        assertThat(errors(WITH_MONGO_LISTENER)).contains("documents: required key is missing");
        assertThat(errors(MINIMAL + """
                documents:
                  upstreams:
                    records:
                      address: db.internal
                """)).contains("documents: needs listen.mongo");
        assertThat(errors(WITH_MONGO_LISTENER + "documents:\n  upstreams: {}\n"))
                .contains("documents.upstreams: expected a mapping of document store name to settings (at least one)");
        assertThat(errors(WITH_MONGO_LISTENER + "documents:\n  upstreams:\n    records:\n"))
                .contains("documents.upstreams.records: expected a mapping");
    }

    private GatewayConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, dir, "phigate.yaml");
    }

    private String errors(String yaml) {
        return assertThrows(ConfigException.class, () -> parse(yaml)).getMessage();
    }

    private Path write(String relative, String content) throws IOException {
        Path file = dir.resolve(relative);
        Files.createDirectories(file.getParent());
        return Files.writeString(file, content);
    }
}
