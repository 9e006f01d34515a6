package io.phigate.pg.frontend;

import io.phigate.pg.message.ErrorCodes;
import io.phigate.policy.Justifications;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Splits a client's startup parameters into what the gateway keeps for itself and what goes to the server.
 * Identity and routing ({@code user}, {@code database}) are the gateway's; {@code phigate.*} settings are the
 * gateway's (from {@code options=-c phigate.justification=...}, a top-level startup parameter of that name as
 * asyncpg's {@code server_settings} sends, or {@code application_name=phigate:justification=...}); settings that
 * would change the upstream role ({@code role}, {@code session_authorization}) are refused, because a session user
 * that may SET ROLE to a broader role would step out of its least-privilege group.
 *
 * <p>{@code options} is parsed as PostgreSQL does ({@code pg_split_opts}: whitespace separates, backslash escapes
 * the next character) and only {@code -c name=value} and {@code --name=value} are accepted in it: any other switch
 * is refused rather than forwarded unread.
 *
 * @param upstream      the parameters to send upstream, in the client's order
 * @param justification the justification the client gave at startup, or null
 */
public record StartupSettings(Map<String, String> upstream, String justification) {

    /** Startup parameters that are never a setting for the server to apply. */
    private static final Set<String> GATEWAY_OWNED = Set.of("user", "database", "replication");
    /** Settings that switch the server-side role: an agent must not choose its database role. */
    private static final Set<String> ROLE_SWITCHING = Set.of("role", "session_authorization");
    static final String APPLICATION_NAME_PREFIX = "phigate:justification=";

    public StartupSettings {
        upstream = Collections.unmodifiableMap(new LinkedHashMap<>(upstream));
    }

    /**
     * @throws HandshakeRefused 42501 for a role-switching setting, 08P01 for an options switch other than a
     *                          setting, 22023 for an unknown {@code phigate.*} setting or an unusable justification
     */
    public static StartupSettings of(Map<String, String> parameters, String upstreamName) throws HandshakeRefused {
        Map<String, String> out = new LinkedHashMap<>();
        String justification = null;
        for (Map.Entry<String, String> p : parameters.entrySet()) {
            String key = p.getKey();
            String name = settingName(key);
            if (GATEWAY_OWNED.contains(key) || key.startsWith("_pq_.")) {
                continue;
            }
            if (key.equals("options")) {
                List<String[]> settings = options(p.getValue(), upstreamName);
                List<String> kept = new ArrayList<>();
                for (String[] s : settings) {
                    String n = settingName(s[0]);
                    if (n.startsWith("phigate.")) {
                        justification = gatewaySetting(n, s[1], upstreamName);
                    } else {
                        refuseRoleSwitch(n, upstreamName);
                        kept.add("-c " + escape(s[0]) + "=" + escape(s[1]));
                    }
                }
                if (!kept.isEmpty()) {
                    out.put("options", String.join(" ", kept));
                }
            } else if (name.startsWith("phigate.")) {
                justification = gatewaySetting(name, p.getValue(), upstreamName);
            } else if (key.equals("application_name") && p.getValue().startsWith(APPLICATION_NAME_PREFIX)) {
                // Not forwarded: it is a justification, not a program name, and would show in pg_stat_activity.
                justification = gatewaySetting(Justifications.SETTING,
                        p.getValue().substring(APPLICATION_NAME_PREFIX.length()), upstreamName);
            } else {
                refuseRoleSwitch(name, upstreamName);
                out.put(key, p.getValue());
            }
        }
        return new StartupSettings(out, justification);
    }

    private static String gatewaySetting(String name, String value, String upstreamName) throws HandshakeRefused {
        if (!name.equals(Justifications.SETTING)) {
            throw new HandshakeRefused("22023", "unrecognized phigate setting \"" + name + "\"; the only one is "
                    + Justifications.SETTING, upstreamName);
        }
        String problem = Justifications.problem(value);
        if (problem != null) {
            throw new HandshakeRefused("22023", problem, upstreamName);
        }
        return value.strip();
    }

    private static void refuseRoleSwitch(String name, String upstreamName) throws HandshakeRefused {
        if (ROLE_SWITCHING.contains(name)) {
            throw new HandshakeRefused("42501", "phigate does not let a client set \"" + name
                    + "\" at startup: the database role is chosen by the gateway", upstreamName);
        }
    }

    /**
     * Every value these settings give the server for the setting {@code name} (lower case), as a startup parameter
     * of its own or as a {@code -c} in {@code options}; empty when none does.
     */
    public List<String> values(String name) {
        List<String> values = new ArrayList<>();
        try {
            for (Map.Entry<String, String> s : settings()) {
                if (s.getKey().equals(name)) {
                    values.add(s.getValue());
                }
            }
        } catch (HandshakeRefused e) {
            values.add(null); // of() wrote it from what it accepted; unreadable now is unknown, not absent
        }
        return values;
    }

    /**
     * Every setting these give the server, in order, as a startup parameter of its own or as a {@code -c} or
     * {@code --} in {@code options}: name as PostgreSQL reads it (lower case, {@code -} as {@code _}), and value.
     */
    public List<Map.Entry<String, String>> settings() throws HandshakeRefused {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        for (Map.Entry<String, String> p : upstream.entrySet()) {
            if (p.getKey().equals("options")) {
                for (String[] setting : options(p.getValue(), null)) {
                    out.add(Map.entry(settingName(setting[0]), setting[1]));
                }
            } else {
                out.add(Map.entry(settingName(p.getKey()), p.getValue()));
            }
        }
        return out;
    }

    /** GUC names are case-insensitive, and command-line style names may use dashes for underscores. */
    private static String settingName(String raw) {
        return raw.strip().toLowerCase(Locale.ROOT).replace('-', '_');
    }

    /** The {@code name=value} settings in an options string, in order. */
    static List<String[]> options(String options, String upstreamName) throws HandshakeRefused {
        List<String> words = split(options);
        List<String[]> settings = new ArrayList<>();
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            String assignment;
            if (w.equals("-c")) {
                if (i + 1 >= words.size()) {
                    throw badOption("-c without a setting", upstreamName);
                }
                assignment = words.get(++i);
            } else if (w.startsWith("-c")) {
                assignment = w.substring(2);
            } else if (w.startsWith("--")) {
                assignment = w.substring(2);
            } else {
                throw badOption("\"" + truncate(w) + "\" is not a -c name=value setting", upstreamName);
            }
            int eq = assignment.indexOf('=');
            if (eq <= 0) {
                throw badOption("\"" + truncate(assignment) + "\" is not name=value", upstreamName);
            }
            settings.add(new String[]{assignment.substring(0, eq), assignment.substring(eq + 1)});
        }
        return settings;
    }

    private static HandshakeRefused badOption(String what, String upstreamName) {
        return new HandshakeRefused(ErrorCodes.PROTOCOL_VIOLATION, "phigate accepts only -c name=value settings in"
                + " the options startup parameter: " + what, upstreamName);
    }

    /** As {@code pg_split_opts}: runs of whitespace separate words; a backslash makes the next character literal. */
    static List<String> split(String options) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        for (int i = 0; i < options.length(); i++) {
            char c = options.charAt(i);
            if (Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                inWord = true;
                if (c == '\\' && i + 1 < options.length()) {
                    c = options.charAt(++i);
                }
                word.append(c);
            }
        }
        if (inWord) {
            words.add(word.toString());
        }
        return words;
    }

    private static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' || Character.isWhitespace(c)) {
                b.append('\\');
            }
            b.append(c);
        }
        return b.toString();
    }

    private static String truncate(String s) {
        return s.length() <= 64 ? s : s.substring(0, 64) + "...";
    }

    @Override
    public String toString() {
        return "StartupSettings[upstream=" + upstream.keySet() + ", justification=" + (justification != null) + "]";
    }
}
