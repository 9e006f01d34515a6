package io.phigate.console;

import java.util.Locale;

/**
 * What a console user may do. Every role reads; {@link #APPROVER} also decides approval requests (of its own
 * approver groups, as the approvals API checks); {@link #ADMIN} also ends sessions and sees the configuration.
 */
enum ConsoleRole {
    AUDITOR, APPROVER, ADMIN;

    String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    static ConsoleRole of(String configName) {
        return valueOf(configName.toUpperCase(Locale.ROOT));
    }
}
