package io.phigate.credentials;

import com.ongres.scram.client.ScramClient;
import com.ongres.scram.common.ScramFunctions;
import com.ongres.scram.common.ServerFirstMessage;
import com.ongres.scram.common.StringPreparation;
import com.ongres.scram.common.exception.ScramException;
import com.ongres.scram.common.exception.ScramInvalidServerSignatureException;
import com.ongres.scram.common.exception.ScramServerErrorException;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.List;

/**
 * The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) over the ongres SCRAM library (the one pgjdbc ships;
 * decision 0040), without channel binding, as both upstream protocols use it: PostgreSQL's logins and the document
 * store's (decision 0052). What differs between them is the user name sent and how the password is prepared, so
 * each has its factory ({@link #postgres}, {@link #mongo}).
 *
 * <p>This class adds what the gateway needs around the library: whatever the server sends, failures are
 * {@link GeneralSecurityException}s only (the library also throws IllegalArgumentException and parse errors),
 * which the caller maps to a refused connection; and an iteration count past {@link #MAX_ITERATIONS} is refused
 * before any hashing, so a hostile server cannot make the gateway spend minutes deriving a key. Messages name the
 * step and never the password (the library echoes neither proof nor signature). The keys derived from the password
 * are kept for the next login with the same password and salt ({@link ScramKeys}).
 */
public final class ScramSha256 {
    public static final String MECHANISM = "SCRAM-SHA-256";
    /** PostgreSQL's default is 4096; the bound only stops a server asking for hours of key derivation. */
    static final int MAX_ITERATIONS = 10_000_000;
    /**
     * PostgreSQL takes the user from the startup message and ignores the one in the exchange; the library needs a
     * non-empty one, so it is {@code *}, as pgjdbc sends.
     */
    static final String IGNORED_USER = "*";
    /** The library's own nonce length. */
    private static final int NONCE_LENGTH = 24;
    private static final SecureRandom NONCES = new SecureRandom();

    /** How the password becomes the bytes the key is derived from, as the server prepared it when it stored it. */
    enum Preparation {
        /**
         * PostgreSQL's: SASLprep, falling back to the raw bytes where SASLprep refuses the text (a control
         * character, an unassigned code point), as the server does.
         */
        POSTGRESQL(StringPreparation.POSTGRESQL_PREPARATION),
        /**
         * MongoDB's for SCRAM-SHA-256: SASLprep for stored strings, with no fallback (the drivers refuse such a
         * password, and so does the server's createUser), so a password SASLprep refuses fails the exchange.
         */
        SASL(StringPreparation.SASL_PREPARATION);

        private final StringPreparation library;

        Preparation(StringPreparation library) {
            this.library = library;
        }
    }

    private final String user;
    private final String password;
    private final Preparation preparation;
    private final String nonce;
    /**
     * Null for an empty password, which neither server accepts: the exchange fails at its first step. Replaced at
     * the client-final step by one on the derived keys, which checks the server's signature.
     */
    private ScramClient client;
    private final String clientFirst;

    /**
     * PostgreSQL's exchange: the server takes the user from the startup message and ignores the one in the
     * exchange, so it is {@code *}, as pgjdbc sends.
     */
    public static ScramSha256 postgres(String password) {
        return new ScramSha256(IGNORED_USER, password, Preparation.POSTGRESQL, null);
    }

    /** MongoDB's SCRAM-SHA-256: the user's own name (escaped, not prepared, as the drivers send it). */
    public static ScramSha256 mongo(String user, String password) {
        return new ScramSha256(user, password, Preparation.SASL, null);
    }

    /** With a fixed client nonce, so the RFC 7677 test vector (user "user") can be checked; null for a fresh one. */
    ScramSha256(String user, String password, Preparation preparation, String clientNonce) {
        this.user = user;
        this.password = password;
        this.preparation = preparation;
        this.nonce = clientNonce == null ? ScramFunctions.nonce(NONCE_LENGTH, NONCES) : clientNonce;
        ScramClient.FinalBuildStage builder;
        try {
            builder = ScramClient.builder().advertisedMechanisms(List.of(MECHANISM)).username(user)
                    .password(password.toCharArray()).stringPreparation(preparation.library);
        } catch (IllegalArgumentException e) {
            builder = null;
        }
        this.client = builder == null ? null : builder.nonceSupplier(() -> nonce).build();
        // The library's exchange moves in steps; taking the first now lets the server's answer come next.
        this.clientFirst = client == null ? null : client.clientFirstMessage().toString();
    }

    public String clientFirstMessage() throws GeneralSecurityException {
        exchange();
        return clientFirst;
    }

    /** Answers the server-first-message with the client-final-message. */
    public String clientFinalMessage(String serverFirst) throws GeneralSecurityException {
        ScramClient c = exchange();
        try {
            ServerFirstMessage first = c.serverFirstMessage(serverFirst);
            if (first.getIterationCount() > MAX_ITERATIONS) {
                throw new GeneralSecurityException("SCRAM iteration count " + first.getIterationCount()
                        + " out of range");
            }
            // The same exchange again (same nonce, same server-first) on the keys, derived once per password and salt.
            ScramKeys.Keys keys = ScramKeys.of(preparation.library, password, first.getSalt(),
                    first.getIterationCount());
            ScramClient keyed = ScramClient.builder().advertisedMechanisms(List.of(MECHANISM)).username(user)
                    .clientAndServerKey(keys.client(), keys.server()).stringPreparation(preparation.library)
                    .nonceSupplier(() -> nonce).build();
            keyed.clientFirstMessage();
            keyed.serverFirstMessage(serverFirst);
            client = keyed;
            return keyed.clientFinalMessage().toString();
        } catch (ScramException | RuntimeException e) {
            throw failure(e);
        }
    }

    /** Checks the server's signature, proving the server knew the password too. */
    public void verifyServerFinal(String serverFinal) throws GeneralSecurityException {
        try {
            exchange().serverFinalMessage(serverFinal);
        } catch (ScramServerErrorException e) {
            throw new GeneralSecurityException("SCRAM server error: " + e.getServerError(), e);
        } catch (ScramInvalidServerSignatureException e) {
            throw new GeneralSecurityException("SCRAM server signature does not match", e);
        } catch (ScramException | RuntimeException e) {
            throw failure(e);
        }
    }

    private ScramClient exchange() throws GeneralSecurityException {
        if (client == null) {
            throw new GeneralSecurityException("SCRAM needs a non-empty password");
        }
        return client;
    }

    /** The library's messages name the step and never the secret (the proof and signature are not echoed). */
    private static GeneralSecurityException failure(Exception e) {
        return new GeneralSecurityException("SCRAM exchange failed: " + e.getMessage(), e);
    }
}
