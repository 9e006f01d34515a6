package io.phigate.identity;

/** A token failed verification. The message is safe to show the client and to log: it never holds the token. */
public final class TokenRejectedException extends Exception {
    public TokenRejectedException(String message) {
        super(message);
    }
}
