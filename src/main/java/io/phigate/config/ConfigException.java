package io.phigate.config;

/** A configuration problem, with the message naming the file, line and key where it is known. */
public final class ConfigException extends Exception {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
