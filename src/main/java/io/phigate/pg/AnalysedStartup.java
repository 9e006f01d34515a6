package io.phigate.pg;

import io.phigate.session.StatementRules;
import io.phigate.session.ClientEncoding;
import io.phigate.config.UpstreamConfig;
import io.phigate.pg.backend.UpstreamConnection;
import io.phigate.pg.frontend.HandshakeRefused;
import io.phigate.pg.message.BackendMessage;
import io.phigate.session.SessionPolicies;
import io.phigate.pg.frontend.StartupSettings;
import io.phigate.pg.message.ErrorCodes;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The startup settings a session whose statements phigate analyses may give the server: an allowlist of what real
 * drivers send (pgjdbc, libpq/psql, node-postgres, pgx, asyncpg, Npgsql), each with the values the analysis can
 * run with, plus what {@code upstreams.NAME.startup_parameters.allow} adds. Anything else (the preload libraries,
 * planner and JIT switches, lc_messages, which would change the error texts the masking reads) is refused before
 * the upstream session opens, naming the setting and that key. The same list holds for {@code -c} and {@code --}
 * settings in {@code options}. Pass-through sessions never come here.
 *
 * <p>client_encoding is always UTF8 in such a session: a client that names another is refused, one that names
 * none gets UTF8 sent for it, which also overrides a database's encoding and ALTER ROLE/DATABASE ... SET
 * client_encoding (a startup setting wins over both). The server's own reports back this up ({@link ServerReports}).
 */
final class AnalysedStartup {

    /** Settings drivers send, with the values an analysed session may run with. */
    private static final Map<String, Predicate<String>> DRIVER_SETTINGS = Map.ofEntries(
            Map.entry("application_name", v -> true),
            Map.entry(ClientEncoding.SETTING, ClientEncoding::isUtf8),
            Map.entry("datestyle", AnalysedStartup::isoDateStyle),
            Map.entry("timezone", v -> true),
            Map.entry("extra_float_digits", v -> true),
            // Judged once the upstream is open, against the path its catalog was read with (PgFrontDoor).
            Map.entry("search_path", v -> true),
            Map.entry("intervalstyle", v -> true),
            Map.entry("bytea_output", v -> true),
            Map.entry("standard_conforming_strings", StatementRules::isOn),
            Map.entry("default_transaction_read_only", v -> true),
            Map.entry("default_transaction_isolation", v -> true),
            Map.entry("statement_timeout", v -> true),
            Map.entry("lock_timeout", v -> true),
            Map.entry("idle_in_transaction_session_timeout", v -> true));

    private AnalysedStartup() {
    }

    /**
     * The settings to send upstream for an analysed session: the client's, checked against the allowlist, with
     * {@code client_encoding=UTF8} added when the client named none.
     *
     * @throws HandshakeRefused 0A000 for a client_encoding other than UTF8 or another value the analysis cannot
     *                          run with, 42501 for a setting not on the list
     */
    static StartupSettings check(StartupSettings settings, UpstreamConfig upstream) throws HandshakeRefused {
        boolean encodingNamed = false;
        for (Map.Entry<String, String> s : settings.settings()) {
            String name = s.getKey();
            String value = s.getValue();
            if (name.equals(ClientEncoding.SETTING)) {
                encodingNamed = true;
                if (!ClientEncoding.isUtf8(value)) {
                    throw new HandshakeRefused(ErrorCodes.FEATURE_NOT_SUPPORTED, "phigate does not accept"
                            + " client_encoding \"" + shorten(value) + "\" for this session: it reads the statements"
                            + " of a session it analyses as UTF-8, so the server must too (use client_encoding UTF8,"
                            + " or name none)", upstream.name());
                }
                continue;
            }
            Predicate<String> safe = DRIVER_SETTINGS.get(name);
            if (safe == null && !upstream.startupParameters().contains(name)) {
                throw new HandshakeRefused(ErrorCodes.INSUFFICIENT_PRIVILEGE, "phigate does not pass the startup"
                        + " setting \"" + shorten(name) + "\" to the server in a session whose statements it analyses;"
                        + " an operator may allow it with upstreams." + upstream.name()
                        + ".startup_parameters.allow", upstream.name());
            }
            if (safe != null && !safe.test(value)) {
                // A setting drivers send, with a value phigate cannot analyse under: as client_encoding, 0A000.
                throw new HandshakeRefused(ErrorCodes.FEATURE_NOT_SUPPORTED, "phigate does not accept " + name
                        + " \"" + shorten(value) + "\" at startup in a session whose statements it analyses"
                        + (name.equals("datestyle") ? ": the masking reads dates in ISO output style" : ""),
                        upstream.name());
            }
        }
        if (encodingNamed) {
            return settings;
        }
        Map<String, String> upstreamSettings = new LinkedHashMap<>(settings.upstream());
        upstreamSettings.put(ClientEncoding.SETTING, ClientEncoding.UTF8);
        return new StartupSettings(upstreamSettings, settings.justification());
    }

    /** DateStyle with ISO output (the masking's date operators read ISO); the field order does not matter. */
    private static boolean isoDateStyle(String value) {
        boolean iso = false;
        for (String word : value.toLowerCase(Locale.ROOT).split("[\\s,]+")) {
            switch (word) {
                case "iso" -> iso = true;
                case "sql", "postgres", "german" -> {
                    return false;
                }
                default -> {
                    // an order (ymd, dmy, mdy, euro, us, ...) or something the server itself will refuse
                }
            }
        }
        return iso;
    }

    private static String shorten(String s) {
        return s.length() <= 64 ? s : s.substring(0, 64) + "...";
    }

    /**
     * What the opened upstream session reports that an analysed session cannot run with, refused before the client
     * is told the session started: standard_conforming_strings off, a server report {@link ServerReports} names, or
     * (where PHI is masked) a startup search_path other than the one the catalog was read with.
     */
    static void checkOpened(SessionPolicies.Setup setup, UpstreamConnection up, StartupSettings settings,
                            String database) throws HandshakeRefused {
        if (setup.rules() != null && !standardStrings(up, settings)) {
            // With standard_conforming_strings off the server reads \' inside '...' as a quote, where phigate's
            // analyser (as the SQL standard) ends the string: 'a\' , ' , upper(last_name) FROM patients --' is two
            // constants to the analyser and a column to the server. Masking, scope and rules would judge the wrong
            // statement.
            throw new HandshakeRefused(ErrorCodes.FEATURE_NOT_SUPPORTED, "standard_conforming_strings is off for this"
                    + " session; phigate reads string literals as the SQL standard does, so it analyses statements only"
                    + " with it on (set it on for the database or role, or do not set it at startup)",
                    database);
        }
        String reported = setup.rules() == null ? null : ServerReports.problem(up.parameters());
        if (reported != null) {
            // Startup sent client_encoding UTF8, which wins over every default; this is the server's own word.
            throw new HandshakeRefused(ErrorCodes.FEATURE_NOT_SUPPORTED, "phigate cannot start this session: "
                    + reported, database);
        }
        if (setup.masking() != null && setup.masking().masksPhi()
                && !settings.values("search_path").stream().allMatch(setup.masking()::resolvesNamesBy)) {
            // As SET search_path is (StatementRules): masking resolves names by the search path the catalog was read
            // with, so a session that put another schema first could read its PHI table under a harmless name.
            throw new HandshakeRefused(ErrorCodes.INSUFFICIENT_PRIVILEGE, "a search_path other than the upstream's own"
                    + " is refused at startup for a session that sees PHI masked: masking resolves names by that path",
                    database);
        }
        if (setup.rules() != null
                && !settings.values("search_path").stream().allMatch(setup.rules()::acceptsStartupSearchPath)) {
            // The role's allow rules or the risk rules name tables by schema (decision 0058).
            throw new HandshakeRefused(ErrorCodes.INSUFFICIENT_PRIVILEGE, "a search_path other than the upstream's own"
                    + " is refused at startup for a session whose rules name tables by schema: they resolve names by"
                    + " that path", database);
        }
    }

    /** True if the server reads '...' as the SQL standard does: its own report at startup, and what the client set. */
    private static boolean standardStrings(UpstreamConnection up, StartupSettings settings) {
        for (BackendMessage.ParameterStatus p : up.parameters()) {
            if (p.name().equals("standard_conforming_strings") && !StatementRules.isOn(p.value())) {
                return false;
            }
        }
        return settings.values("standard_conforming_strings").stream().allMatch(StatementRules::isOn);
    }

}
