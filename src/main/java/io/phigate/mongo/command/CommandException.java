package io.phigate.mongo.command;

import io.phigate.mongo.wire.MongoError;

/** A command the gateway cannot read as the server would, refused with the error the server would give it. */
public final class CommandException extends Exception {
    private final transient MongoError error;

    public CommandException(MongoError error, String message) {
        super(message);
        this.error = error;
    }

    public MongoError error() {
        return error;
    }
}
