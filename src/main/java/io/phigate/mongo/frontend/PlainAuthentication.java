package io.phigate.mongo.frontend;

import io.phigate.credentials.CredentialExchange;
import io.phigate.identity.Identity;
import io.phigate.identity.IdentityConfig;
import io.phigate.identity.TokenRejectedException;
import io.phigate.identity.TokenVerifier;
import io.phigate.mongo.command.CommandException;
import io.phigate.mongo.wire.MongoError;
import org.bson.BsonDocument;

/**
 * Who a {@code saslStart} says the agent is, by the PostgreSQL handshake's rules (decisions 0003, 0017, 0052): the
 * PLAIN password is the agent's token and its subject is the identity, whatever user name the connection string
 * gives (kept as evidence); a user name of the credential exchange ({@code phigate-otc-...}) makes the password
 * that one-time credential, never read as a token; either way the subject and signing key are checked against
 * {@code identity.revoked}. Called on the connection's thread.
 */
public final class PlainAuthentication {
    private final TokenVerifier verifier;
    private final CredentialExchange exchange;
    private final IdentityConfig.Revoked revoked;

    /** {@code exchange}: null when the gateway issues no one-time credentials (such user names are refused). */
    public PlainAuthentication(TokenVerifier verifier, CredentialExchange exchange, IdentityConfig.Revoked revoked) {
        this.verifier = verifier;
        this.exchange = exchange;
        this.revoked = revoked;
    }

    /** An agent let in: its identity, the user name it gave, and the justification its credential carried. */
    public record Authenticated(Identity identity, String user, String justification) {
    }

    /** A refusal: the error the client gets, and the identity the credentials proved when they proved one. */
    public static final class Refused extends Exception {
        private final MongoError error;
        private final Identity who;

        Refused(MongoError error, String message, Identity who) {
            super(message);
            this.error = error;
            this.who = who;
        }

        public MongoError error() {
            return error;
        }

        public Identity who() {
            return who;
        }
    }

    /** {@code saslStart} addressed to {@code database}, for the store named {@code upstream}. */
    public Authenticated authenticate(BsonDocument saslStart, String database, String upstream) throws Refused {
        PlainCredentials credentials;
        try {
            credentials = PlainCredentials.read(saslStart, database);
        } catch (CommandException e) {
            throw new Refused(e.error(), e.getMessage(), null);
        }
        Identity identity;
        String keyId;
        String justification = null;
        if (CredentialExchange.isExchangeUser(credentials.user())) {
            if (exchange == null) {
                throw new Refused(MongoError.AUTHENTICATION_FAILED, "one-time credential rejected: this gateway"
                        + " issues none", null);
            }
            try {
                CredentialExchange.Redeemed r = exchange.redeem(credentials.user(), credentials.token(), upstream);
                identity = r.identity();
                keyId = r.keyId();
                justification = r.justification();
            } catch (CredentialExchange.Refused e) {
                throw new Refused(MongoError.AUTHENTICATION_FAILED, e.getMessage(), null);
            }
        } else {
            try {
                identity = verifier.verify(credentials.token());
                keyId = TokenVerifier.keyId(credentials.token());
            } catch (TokenRejectedException e) {
                throw new Refused(MongoError.AUTHENTICATION_FAILED, "token rejected: " + e.getMessage(), null);
            }
        }
        String revocation = revoked.reason(identity.subject(), keyId);
        if (revocation != null) {
            throw new Refused(MongoError.AUTHENTICATION_FAILED, revocation, identity);
        }
        return new Authenticated(identity, credentials.user(), justification);
    }
}
