package io.phigate.mask;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;

/**
 * Withholds what a PostgreSQL error or notice may have copied out of the data, for a session that sees PHI
 * masked. Messages print the value that failed: quoted ({@code relation "smith" does not exist} from
 * {@code last_name::regclass}, {@code "8" is not a valid binary digit} from one character cast to {@code bit}),
 * unquoted ({@code cross-database references are not implemented: jane.smith.x}), or as a number computed from it
 * ({@code bit string length 54 does not match type bit(3)}). Which of these carry data cannot be told by shape,
 * nor by a statement position (a type name read from a value reports one), and quotes delimit nothing: PostgreSQL
 * does not escape them, so a value can close its own quote.
 *
 * <p>So the message is read against the server's own templates ({@link MessageTemplates}): the template's text
 * stays, and each value it filled in stays only if the client already knows it: a word, identifier, literal,
 * number or symbol of the statement it sent, a name the message carries in its own fields (schema, table,
 * column, type, constraint), or a schema, relation or column name of the upstream's catalog: names, not data. A value made of type names and known words ({@code text =
 * integer}) stays; an errno text ({@code %m}) stays. Everything else becomes {@value #WITHHELD}.
 *
 * <p>A message no template reads (a newer server's) is judged word by word instead: quoted text, digit runs and
 * any word the server's templates never use are withheld unless known. What can still pass there is a value that
 * is itself one of the server's words and stands outside quotes.
 *
 * <p>An agent can still learn a value it lists in its statement (the error then says which one matched): that is
 * the predicate channel the threat model accepts, a guess confirmed rather than a value read.
 */
final class EchoedValues {
    static final String WITHHELD = "[withheld by phigate]";

    /** Words of type names, which messages print unquoted (format_type). */
    private static final Set<String> TYPE_WORDS = Set.of("smallint", "integer", "bigint", "int2", "int4", "int8",
            "numeric", "decimal", "real", "double", "precision", "float4", "float8", "money", "text", "character",
            "varying", "varchar", "char", "bpchar", "name", "bytea", "boolean", "bool", "date", "time", "timestamp",
            "timestamptz", "timetz", "with", "without", "zone", "interval", "json", "jsonb", "jsonpath", "xml", "uuid",
            "inet", "cidr", "macaddr", "macaddr8", "bit", "tsvector", "tsquery", "point", "line", "lseg", "box",
            "path", "polygon", "circle", "oid", "regclass", "regtype", "regproc", "regprocedure", "regoper",
            "regoperator", "regrole", "regnamespace", "regconfig", "regdictionary", "regcollation", "unknown",
            "record", "void", "cstring", "anyelement", "anyarray", "anynonarray", "anyenum", "anyrange",
            "anymultirange", "anycompatible", "anycompatiblearray", "int4range", "int8range", "numrange", "tsrange",
            "tstzrange", "daterange", "pg_lsn", "pg_snapshot", "txid_snapshot", "tid", "xid", "cid", "array");

    /** The words of the marker itself, met again when a message passes through twice. */
    private static final Set<String> WITHHELD_WORDS = Set.of("withheld", "by", "phigate");

    private EchoedValues() {
    }

    /** {@code text} with every value the client did not already know withheld. */
    static String withhold(String text, Predicate<String> known) {
        return withhold(text, known, MessageTemplates.postgres());
    }

    static String withhold(String text, Predicate<String> known, MessageTemplates templates) {
        MessageTemplates.Match match = templates.match(text);
        return match == null ? byWords(text, known, templates) : byTemplate(match, text, known, templates);
    }

    private static String byTemplate(MessageTemplates.Match match, String text, Predicate<String> known,
            MessageTemplates templates) {
        Matcher m = match.matcher();
        String conversions = match.template().conversions;
        StringBuilder out = new StringBuilder(text.length() + 16);
        int at = 0;
        for (int g = 1; g <= m.groupCount(); g++) {
            out.append(text, at, m.start(g));
            String value = m.group(g);
            char conversion = conversions.charAt(g - 1);
            boolean servers = conversion == 's' && templates.isConstant(value); // "syntax error" at or near
            out.append(servers || keeps(value, conversion, known) ? value : WITHHELD);
            at = m.end(g);
        }
        out.append(text, at, text.length());
        return out.toString();
    }

    private static boolean keeps(String value, char conversion, Predicate<String> known) {
        if (value.isEmpty() || conversion == 'm' || isKnown(value, known)) {
            return true; // %m is the operating system's error text
        }
        if (conversion != 's') {
            return false; // a number or a character: only the client's own
        }
        List<String> words = words(value);
        if (words.isEmpty()) {
            return false; // symbols only, such as the "@" of an address read as a type name
        }
        for (String w : words) {
            if (!TYPE_WORDS.contains(w) && !known.test(w) && !WITHHELD_WORDS.contains(w)) {
                return false;
            }
        }
        return true;
    }

    private static boolean isKnown(String value, Predicate<String> known) {
        return value.equals(WITHHELD) || known.test(value.toLowerCase(Locale.ROOT));
    }

    /**
     * No template reads the message: quoted text (to the first closing quote that ends a word) is kept only if
     * known, and outside quotes a word stays only if the server's templates use it or the client knows it.
     */
    private static String byWords(String text, Predicate<String> known, MessageTemplates templates) {
        StringBuilder out = new StringBuilder(text.length() + 16);
        int i = 0;
        int n = text.length();
        while (i < n) {
            char c = text.charAt(i);
            if (c == '"' || c == '\'') {
                int end = i + 1;
                while (end < n && !(text.charAt(end) == c && (end + 1 == n || !isWordChar(text.charAt(end + 1))))) {
                    end++;
                }
                String inner = text.substring(i + 1, end);
                out.append(c).append(isKnown(inner, known) ? inner : WITHHELD);
                if (end < n) {
                    out.append(c);
                }
                i = end + 1;
            } else if (isWordChar(c)) {
                int end = i;
                while (end < n && isWordChar(text.charAt(end))) {
                    end++;
                }
                String word = text.substring(i, end);
                String lower = word.toLowerCase(Locale.ROOT);
                boolean digits = lower.chars().allMatch(Character::isDigit);
                boolean kept = known.test(lower) || WITHHELD_WORDS.contains(lower)
                        || (!digits && (templates.isServerWord(lower) || TYPE_WORDS.contains(lower)));
                out.append(kept ? word : WITHHELD);
                i = end;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static boolean isWordChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }

    /** The lower-cased runs of letters, digits and underscores in {@code text}. */
    static List<String> words(String text) {
        List<String> words = new ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            if (isWordChar(text.charAt(i))) {
                int end = i;
                while (end < text.length() && isWordChar(text.charAt(end))) {
                    end++;
                }
                words.add(text.substring(i, end).toLowerCase(Locale.ROOT));
                i = end;
            } else {
                i++;
            }
        }
        return words;
    }
}
