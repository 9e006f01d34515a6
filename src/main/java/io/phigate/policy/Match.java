package io.phigate.policy;

import io.phigate.identity.Identity;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Which identities a role (or approver group) applies to. Every given part must match: the issuer exactly, the
 * subject and each claim by glob ({@code *} any run of characters). A claim that holds a list (groups) matches
 * when any element does. An empty match fits every identity.
 */
public record Match(String issuer, String subject, Map<String, String> claims) {

    public boolean matches(Identity identity) {
        if (issuer != null && !issuer.equals(identity.issuer())) {
            return false;
        }
        if (subject != null && !glob(subject, identity.subject())) {
            return false;
        }
        for (Map.Entry<String, String> claim : claims.entrySet()) {
            String value = identity.attributes().get(claim.getKey());
            if (value == null || !anyElementMatches(claim.getValue(), value)) {
                return false;
            }
        }
        return true;
    }

    private static boolean anyElementMatches(String pattern, String value) {
        if (glob(pattern, value)) {
            return true;
        }
        // Identity attributes flatten list claims to comma-separated text.
        for (String element : value.split(",")) {
            if (glob(pattern, element.strip())) {
                return true;
            }
        }
        return false;
    }

    /**
     * A rule's table glob against a relation named by its two parts, each part by its own glob: the pattern is split
     * at its first dot (a bare pattern is any schema's), so {@code clinic.*} does not reach schema
     * {@code "clinic.archive"} and {@code *.patients} does not reach a table named {@code "x.patients"}, as a match
     * on the joined {@code schema.table} text did. The same for a document store's {@code database.collection}.
     */
    public static boolean relation(String pattern, String schema, String name) {
        int dot = pattern.indexOf('.');
        if (dot < 0) {
            return glob(pattern, name);
        }
        return glob(pattern.substring(0, dot), schema) && glob(pattern.substring(dot + 1), name);
    }

    /** {@link #relation(String, String, String)} of a name written {@code schema.name}, split at its first dot. */
    public static boolean relation(String pattern, String qualified) {
        int dot = qualified.indexOf('.');
        return dot < 0 ? relation(pattern, "", qualified)
                : relation(pattern, qualified.substring(0, dot), qualified.substring(dot + 1));
    }

    /** Compiled globs: the patterns come from the policy and config only, so the map stays as small as they are. */
    private static final ConcurrentHashMap<String, Pattern> COMPILED = new ConcurrentHashMap<>();

    /** Glob match where {@code *} is any run of characters and everything else is literal. */
    public static boolean glob(String pattern, String text) {
        if (text == null) {
            return false;
        }
        if (!pattern.contains("*")) {
            return pattern.equals(text);
        }
        return COMPILED.computeIfAbsent(pattern, Match::compile).matcher(text).matches();
    }

    private static Pattern compile(String pattern) {
        StringBuilder regex = new StringBuilder();
        String[] parts = pattern.split("\\*", -1);
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) {
                regex.append(".*");
            }
            regex.append(Pattern.quote(parts[i]));
        }
        return Pattern.compile(regex.toString(), Pattern.DOTALL);
    }
}
