package io.phigate.console;

import io.phigate.identity.Identity;
import java.time.Instant;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A signed-in console user: the verified identity, the console roles it holds, the CSRF token its forms carry,
 * when the sign-in ends (never after the token it signed in with expires), and the sign-in's id (null for an API
 * caller with a bearer token), which its sign-in and sign-out records carry.
 */
record ConsoleUser(Identity identity, Set<ConsoleRole> roles, String csrf, Instant expiresAt, String method,
                   String signInId) {

    boolean has(ConsoleRole role) {
        return roles.contains(role);
    }

    String roleNames() {
        return roles.stream().sorted().map(ConsoleRole::configName).collect(Collectors.joining(", "));
    }
}
