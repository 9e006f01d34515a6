package io.phigate.mongo.masking;

/** A command the masking analysis cannot let through: why, in words an agent can act on. Names no value. */
public final class Refused extends Exception {
    public Refused(String message) {
        super(message, null, false, false);
    }
}
