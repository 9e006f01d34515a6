package io.phigate.config;

/** How the gateway authenticates upstream. Only {@code static} exists until just-in-time credentials arrive. */
public record CredentialsConfig(Mode mode, String user, SecretRef password) {
    public enum Mode { STATIC }
}
