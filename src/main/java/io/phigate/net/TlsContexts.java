package io.phigate.net;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/** Builds TLS contexts from the PEM files operators already have for PostgreSQL and pgbouncer. */
public final class TlsContexts {
    private TlsContexts() {
    }

    /** A server context from a PEM certificate chain and a PEM PKCS#8 private key (RSA or EC). */
    public static SSLContext server(Path certFile, Path keyFile) throws IOException, GeneralSecurityException {
        Certificate[] chain = readCertificates(certFile).toArray(Certificate[]::new);
        if (chain.length == 0) {
            throw new GeneralSecurityException("no certificate in " + certFile);
        }
        PrivateKey key = readPrivateKey(keyFile);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        char[] none = new char[0];
        ks.setKeyEntry("phigate", key, none, chain);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, none);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, new SecureRandom());
        return ctx;
    }

    /** A client context that verifies the server against the CAs in {@code caFile}. */
    public static SSLContext verifyingClient(Path caFile) throws IOException, GeneralSecurityException {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        int i = 0;
        for (Certificate c : readCertificates(caFile)) {
            trust.setCertificateEntry("ca" + i++, c);
        }
        if (i == 0) {
            throw new GeneralSecurityException("no certificate in " + caFile);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), new SecureRandom());
        return ctx;
    }

    /**
     * A client context that encrypts without verifying the server, as libpq's sslmode=require does. Operators
     * who need the server verified configure verify-full with a CA file.
     */
    public static SSLContext encryptOnlyClient() throws GeneralSecurityException {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[]{new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, new SecureRandom());
        return ctx;
    }

    /**
     * Starts TLS as a client over the connected {@code plain} socket, for the PostgreSQL and the document-store
     * upstreams alike. With {@code caFile} the chain is checked against it; without one, {@code verifyFull} trusts
     * the JDK's CAs and anything less checks nothing (libpq's sslmode=require). {@code verifyFull} also checks that
     * the certificate names {@code host}.
     */
    public static SSLSocket startClient(Socket plain, String host, int port, Path caFile, boolean verifyFull)
            throws IOException, GeneralSecurityException {
        SSLContext ctx = caFile != null ? verifyingClient(caFile)
                : verifyFull ? SSLContext.getDefault() : encryptOnlyClient();
        SSLSocket ssl = (SSLSocket) ctx.getSocketFactory().createSocket(plain, host, port, true);
        ssl.setUseClientMode(true);
        if (verifyFull) {
            SSLParameters p = ssl.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            ssl.setSSLParameters(p);
        }
        ssl.startHandshake();
        return ssl;
    }

    static Collection<? extends Certificate> readCertificates(Path file) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(file)) {
            return CertificateFactory.getInstance("X.509").generateCertificates(in);
        }
    }

    static PrivateKey readPrivateKey(Path file) throws IOException, GeneralSecurityException {
        String pem = Files.readString(file, StandardCharsets.US_ASCII);
        int begin = pem.indexOf("-----BEGIN PRIVATE KEY-----");
        int end = pem.indexOf("-----END PRIVATE KEY-----");
        if (begin < 0 || end < begin) {
            throw new GeneralSecurityException(file + " is not a PEM PKCS#8 private key (BEGIN PRIVATE KEY);"
                    + " convert with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8");
        }
        String b64 = pem.substring(begin + "-----BEGIN PRIVATE KEY-----".length(), end).replaceAll("\\s", "");
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(Base64.getDecoder().decode(b64));
        GeneralSecurityException last = null;
        for (String algorithm : new String[]{"RSA", "EC", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw new GeneralSecurityException("unsupported private key in " + file, last);
    }
}
