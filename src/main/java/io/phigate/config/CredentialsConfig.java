package io.phigate.config;

import io.phigate.mask.SecretRef;

/**
 * How the gateway authenticates upstream. {@code static}: every session logs in as {@code user}. {@code ephemeral}:
 * {@code user} is an administrative login only the gateway holds, with which it creates one short-lived login role
 * per session, a member of {@code group} (or of the policy role's own group), and drops it when the session ends.
 *
 * @param group the default group role for ephemeral session users; null in static mode
 */
public record CredentialsConfig(Mode mode, String user, SecretRef password, String group) {
    public enum Mode { STATIC, EPHEMERAL }

    public CredentialsConfig(Mode mode, String user, SecretRef password) {
        this(mode, user, password, null);
    }
}
