package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.config.CredentialsConfig;
import io.phigate.config.HostPort;
import io.phigate.mask.SecretRef;
import io.phigate.config.UpstreamConfig;
import io.phigate.config.UpstreamTlsConfig;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;

/**
 * TLS toward the database, against a PostgreSQL of its own that accepts only {@code hostssl} SCRAM logins and
 * presents a certificate for {@code localhost} (DNS name only) signed by a test CA.
 */
class UpstreamTlsTest {
    private static final String ROLE = "gateway_tls";
    private static final String SSL_QUERY = "select ssl from pg_stat_ssl where pid = pg_backend_pid()";
    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    @TempDir
    static Path shared;

    private static EmbeddedPostgres postgres;
    private static Path caFile;
    private static Path otherCaFile;
    private static Path passwordFile;

    @TempDir
    Path dir;

    @BeforeAll
    static void startPostgresThatRequiresTls() throws Exception {
        Issuer ca = Issuer.create("CN=phigate upstream test CA");
        caFile = ca.writeCertificate(shared.resolve("ca.crt"));
        otherCaFile = Issuer.create("CN=some other CA").writeCertificate(shared.resolve("other-ca.crt"));
        Path serverCert = shared.resolve("server.crt");
        Path serverKey = shared.resolve("server.key");
        ca.issueServerCertificate("localhost", serverCert, serverKey);

        postgres = EmbeddedPostgres.builder()
                .setPGStartupWait(Duration.ofSeconds(60))
                .setServerConfig("listen_addresses", "localhost")
                .setServerConfig("password_encryption", "scram-sha-256")
                .setServerConfig("ssl", "on")
                .setServerConfig("ssl_cert_file", serverCert.toString())
                .setServerConfig("ssl_key_file", serverKey.toString())
                .start();

        byte[] secret = new byte[18];
        new SecureRandom().nextBytes(secret);
        String password = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        passwordFile = shared.resolve("upstream.password");
        Files.writeString(passwordFile, password + "\n");
        Path pgdata;
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE clinical");
            s.execute("CREATE ROLE " + ROLE + " LOGIN");
            c.unwrap(PGConnection.class).alterUserPassword(ROLE, password.toCharArray(), "scram-sha-256");
            try (ResultSet rs = s.executeQuery("SHOW data_directory")) {
                rs.next();
                pgdata = Path.of(rs.getString(1));
            }
            // Only TLS logins with a password from here on; zonky's own trust rules are replaced.
            Files.writeString(pgdata.resolve("pg_hba.conf"), """
                    # TYPE   DATABASE  USER  ADDRESS       METHOD
                    hostssl  all       all   127.0.0.1/32  scram-sha-256
                    hostssl  all       all   ::1/128       scram-sha-256
                    """);
            s.execute("SELECT pg_reload_conf()");
        }
        awaitCleartextRefused(password);
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        if (postgres != null) {
            postgres.close();
        }
    }

    @Test
    void requireEncryptsWithoutCheckingTheCertificate() throws Exception {
        // Neither the CA nor the name (127.0.0.1 is not in the certificate) is checked: libpq's sslmode=require.
        try (GatewayHarness gw = gateway("127.0.0.1", new UpstreamTlsConfig(UpstreamTlsConfig.Mode.REQUIRE, null))) {
            assertThat(upstreamSeesTls(gw)).isTrue();
        }
    }

    @Test
    void verifyFullWithTheSigningCaConnectsOverTls() throws Exception {
        try (GatewayHarness gw = gateway("localhost", new UpstreamTlsConfig(UpstreamTlsConfig.Mode.VERIFY_FULL, caFile))) {
            assertThat(upstreamSeesTls(gw)).isTrue();
            assertThat(gw.audit("kind = 'connection_refused'")).isEmpty();
        }
    }

    @Test
    void verifyFullWithAnotherCaIsRefusedAndAudited() throws Exception {
        try (GatewayHarness gw = gateway("localhost", new UpstreamTlsConfig(UpstreamTlsConfig.Mode.VERIFY_FULL, otherCaFile))) {
            assertRefused(gw, "PKIX path building failed");
            List<Map<String, Object>> refused = gw.auditEventually("kind = 'connection_refused'", 1);
            assertThat(refused).hasSize(1);
            assertThat(refused.getFirst()).containsEntry("upstream", "clinical").containsEntry("sqlstate", "08006");
            assertThat((String) refused.getFirst().get("detail")).contains("upstream 'clinical'");
        }
    }

    @Test
    void disableIsRefusedByAServerThatOnlyAcceptsTls() throws Exception {
        try (GatewayHarness gw = gateway("127.0.0.1", UpstreamTlsConfig.DISABLED)) {
            assertRefused(gw, "no pg_hba.conf entry");
        }
    }

    @Test
    void verifyFullRefusesACertificateIssuedForAnotherName() throws Exception {
        // Same trusted CA as the passing verify-full test; only the address differs from the certificate's name.
        try (GatewayHarness gw = gateway("127.0.0.1", new UpstreamTlsConfig(UpstreamTlsConfig.Mode.VERIFY_FULL, caFile))) {
            assertRefused(gw, "No subject alternative names matching IP address 127.0.0.1");
            assertThat(gw.auditEventually("kind = 'connection_refused' and sqlstate = '08006'", 1)).hasSize(1);
        }
    }

    @Test
    void requireIsRefusedRatherThanDowngradedWhenTheServerDeclinesTls() throws Exception {
        // A stand-in server that answers the SSLRequest with 'N', as a PostgreSQL with ssl=off does.
        try (ServerSocket declining = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                try (Socket s = declining.accept()) {
                    s.getInputStream().readNBytes(8);
                    s.getOutputStream().write('N');
                    s.getOutputStream().flush();
                    s.getInputStream().read(); // until the gateway hangs up
                } catch (IOException ignored) {
                    // test over
                }
            });
            try (GatewayHarness gw = GatewayHarness.start(dir, new UpstreamConfig("clinical",
                    new HostPort("127.0.0.1", declining.getLocalPort()), "clinical",
                    new CredentialsConfig(CredentialsConfig.Mode.STATIC, ROLE, new SecretRef(null, passwordFile)),
                    new UpstreamTlsConfig(UpstreamTlsConfig.Mode.REQUIRE, null)))) {
                assertRefused(gw, "does not accept TLS");
            }
        }
    }

    @Test
    void anUpstreamThatAcceptsAndNeverAnswersIsRefusedAfterTheConnectTimeout() throws Exception {
        // The bound is a timer that shuts the socket's input (net.ReadDeadline), not a socket timeout: both the
        // plain startup and the SSLRequest must still end, with the reason, and the gateway must go on serving.
        try (ServerSocket silent = new ServerSocket(0, 4, InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                while (!silent.isClosed()) {
                    try {
                        Socket s = silent.accept();
                        Thread.ofVirtual().start(() -> {
                            try (s) {
                                s.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
                            } catch (IOException ignored) {
                                // the gateway hung up
                            }
                        });
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            for (UpstreamTlsConfig tls : List.of(UpstreamTlsConfig.DISABLED,
                    new UpstreamTlsConfig(UpstreamTlsConfig.Mode.REQUIRE, null))) {
                try (GatewayHarness gw = GatewayHarness.start(dir, new UpstreamConfig("clinical",
                        new HostPort("127.0.0.1", silent.getLocalPort()), "clinical",
                        new CredentialsConfig(CredentialsConfig.Mode.STATIC, ROLE, new SecretRef(null, passwordFile)),
                        tls))) {
                    long start = System.nanoTime();
                    assertRefused(gw, "no answer within 10 s");
                    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as(tls.mode().name())
                            .isBetween(9_000L, 30_000L);
                }
            }
        }
    }

    @Test
    void cancelReachesAnUpstreamThatOnlyAcceptsTls() throws Exception {
        // The CancelRequest goes over a connection of its own, which must negotiate TLS like the session did.
        try (GatewayHarness gw = gateway("localhost", new UpstreamTlsConfig(UpstreamTlsConfig.Mode.VERIFY_FULL, caFile));
             Connection c = gw.connect(); Statement s = c.createStatement()) {
            ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
            try {
                timer.schedule(() -> {
                    s.cancel();
                    return null;
                }, 500, TimeUnit.MILLISECONDS);
                long start = System.nanoTime();
                assertThatThrownBy(() -> s.execute("select pg_sleep(30)")).isInstanceOfSatisfying(SQLException.class,
                        e -> assertThat(e.getSQLState()).isEqualTo("57014"));
                assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).isLessThan(10);
            } finally {
                timer.shutdownNow();
            }
            try (ResultSet rs = s.executeQuery(SSL_QUERY)) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getBoolean(1)).isTrue();
            }
        }
    }

    private GatewayHarness gateway(String host, UpstreamTlsConfig tls) throws Exception {
        return GatewayHarness.start(dir, new UpstreamConfig("clinical", new HostPort(host, postgres.getPort()), "clinical",
                new CredentialsConfig(CredentialsConfig.Mode.STATIC, ROLE, new SecretRef(null, passwordFile)), tls));
    }

    private static boolean upstreamSeesTls(GatewayHarness gw) throws Exception {
        try (Connection c = gw.connect(); ResultSet rs = c.createStatement().executeQuery(SSL_QUERY)) {
            assertThat(rs.next()).isTrue();
            return rs.getBoolean(1);
        }
    }

    private static void assertRefused(GatewayHarness gw, String messagePart) {
        assertThatThrownBy(() -> gw.connect().close()).isInstanceOfSatisfying(SQLException.class, e -> {
            assertThat(e.getSQLState()).isEqualTo("08006");
            assertThat(e.getMessage()).contains("upstream 'clinical'").contains(messagePart);
        });
    }

    /** pg_reload_conf() only signals the postmaster; wait until a cleartext login with the right password fails. */
    private static void awaitCleartextRefused(String password) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", ROLE);
        p.setProperty("password", password);
        p.setProperty("sslmode", "disable");
        String url = "jdbc:postgresql://127.0.0.1:" + postgres.getPort() + "/clinical";
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            try (Connection ignored = DriverManager.getConnection(url, p)) {
                Thread.sleep(50);
            } catch (SQLException expected) {
                assertThat(expected.getMessage()).contains("no pg_hba.conf entry");
                return;
            }
        }
        throw new AssertionError("the test PostgreSQL still accepts cleartext logins after reloading pg_hba.conf");
    }

    /** A test certificate authority: an EC key and its self-signed CA certificate. */
    private record Issuer(X500Name name, KeyPair keys, X509CertificateHolder certificate) {
        static Issuer create(String dn) throws Exception {
            KeyPair kp = ecKeyPair();
            X500Name name = new X500Name(dn);
            long now = System.currentTimeMillis();
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(SERIAL.incrementAndGet()),
                    new Date(now - 60_000), new Date(now + 86_400_000L), name, kp.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            return new Issuer(name, kp, b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
        }

        Path writeCertificate(Path file) throws Exception {
            Files.writeString(file, pem(certificate));
            return file;
        }

        /**
         * Writes a server certificate whose only name is the DNS name {@code dnsName}, and its PKCS#8 key with mode
         * 0600 (PostgreSQL refuses a key others can read).
         */
        void issueServerCertificate(String dnsName, Path certFile, Path keyFile) throws Exception {
            KeyPair kp = ecKeyPair();
            long now = System.currentTimeMillis();
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(SERIAL.incrementAndGet()),
                    new Date(now - 60_000), new Date(now + 86_400_000L), new X500Name("CN=" + dnsName), kp.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(new GeneralName(GeneralName.dNSName, dnsName)));
            X509CertificateHolder cert = b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()));
            Files.writeString(certFile, pem(cert));
            Files.deleteIfExists(keyFile);
            Files.createFile(keyFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(keyFile, pkcs8(kp.getPrivate()));
        }

        private static KeyPair ecKeyPair() throws Exception {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(256);
            return g.generateKeyPair();
        }

        private static String pem(X509CertificateHolder cert) throws Exception {
            StringWriter w = new StringWriter();
            try (JcaPEMWriter pem = new JcaPEMWriter(w)) {
                pem.writeObject(cert);
            }
            return w.toString();
        }

        private static String pkcs8(PrivateKey key) {
            return "-----BEGIN PRIVATE KEY-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(key.getEncoded())
                    + "\n-----END PRIVATE KEY-----\n";
        }
    }
}
