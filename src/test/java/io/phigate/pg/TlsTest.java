package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.GatewayHarness;
import io.phigate.config.ClientTlsConfig;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TLS toward clients: negotiated on SSLRequest, and required when configured, loopback included. */
public class TlsTest {
    @TempDir
    Path dir;

    /** Writes a self-signed certificate for 127.0.0.1/localhost and its PKCS#8 key as PEM. */
    public static Path[] selfSigned(Path dir) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        KeyPair kp = g.generateKeyPair();
        X500Name name = new X500Name("CN=phigate-test");
        long now = System.currentTimeMillis();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(now), new Date(now - 60_000),
                new Date(now + 86_400_000L), name, kp.getPublic());
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[]{
                new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.dNSName, "localhost")}));
        X509CertificateHolder cert = b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate()));
        Path certFile = dir.resolve("server.crt");
        Path keyFile = dir.resolve("server.key");
        StringWriter w = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(w)) {
            pem.writeObject(cert);
        }
        Files.writeString(certFile, w.toString());
        Files.writeString(keyFile, "-----BEGIN PRIVATE KEY-----\n"
                + java.util.Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(kp.getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n");
        return new Path[]{certFile, keyFile};
    }

    @Test
    void tlsIsNegotiatedAndCleartextIsRefusedWhenRequiredEvenOnLoopback() throws Exception {
        Path[] pem = selfSigned(dir);
        try (GatewayHarness gw = GatewayHarness.start(dir, c -> GatewayHarness.withTls(c,
                new ClientTlsConfig(ClientTlsConfig.Mode.REQUIRE, pem[0], pem[1], false)))) {
            Properties p = new Properties();
            p.setProperty("user", "triage-agent");
            p.setProperty("password", gw.token());
            p.setProperty("sslmode", "verify-full");
            p.setProperty("sslrootcert", pem[0].toString());
            String url = "jdbc:postgresql://127.0.0.1:" + gw.port() + "/clinical";
            try (Connection c = java.sql.DriverManager.getConnection(url, p);
                 ResultSet rs = c.createStatement().executeQuery("show ssl")) {
                // The gateway terminates TLS; the upstream leg here is plain loopback.
                assertThat(rs.next()).isTrue();
            }
            assertThat(gw.audit("kind = 'session_started' and detail like '%TLS%'")).isNotEmpty();

            assertThatThrownBy(() -> gw.connect().close()) // sslmode=disable from the harness URL
                    .satisfies(e -> {
                        assertThat(((SQLException) e).getSQLState()).isEqualTo("28000");
                        assertThat(e.getMessage()).contains("requires TLS");
                    });
        }
    }

    @Test
    void withoutACertificateSslRequestIsAnsweredNoAndLoopbackCleartextStillWorks() throws Exception {
        try (GatewayHarness gw = GatewayHarness.start(dir)) {
            Properties p = new Properties();
            p.setProperty("user", "triage-agent");
            p.setProperty("password", gw.token());
            p.setProperty("sslmode", "prefer");
            String url = "jdbc:postgresql://127.0.0.1:" + gw.port() + "/clinical";
            try (Connection c = java.sql.DriverManager.getConnection(url, p); ResultSet rs = c.createStatement().executeQuery("select 1")) {
                assertThat(rs.next()).isTrue();
            }
            List<Map<String, Object>> started = gw.audit("kind = 'session_started'");
            assertThat(started).isNotEmpty();
        }
    }
}
