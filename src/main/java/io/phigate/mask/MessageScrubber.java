package io.phigate.mask;

import io.phigate.sql.Catalog;
import io.phigate.sql.PgCatalog;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Scrubs the fields of a server's errors and notices for one session. When the session sees PHI masked
 * ({@code withholdEchoes}), values the server echoes back are withheld whole (see {@link #scrub}); content
 * detection then runs over what is left. Field codes are PostgreSQL's ErrorResponse codes, which name the same
 * parts (message, detail, hint, context, internal query) that any server's error has.
 */
public final class MessageScrubber {
    /** Context lines that name where an error arose and quote no data (see {@link #safeContext}). */
    private static final Pattern SAFE_CONTEXT = Pattern.compile(
            "PL/pgSQL function [\\w.\"$]+\\([\\w ,.\\[\\]\"]*\\) line \\d+ at [A-Z][A-Z ]*"
                    + "|SQL function \"[\\w$]+\"( statement \\d+| during startup| during inlining)?|parallel worker");
    /** {@code Key (ssn)=(123-45-6789)} and {@code Failing row contains (...)}. */
    private static final Pattern ROW_VALUES = Pattern.compile("(=|contains )\\((?:[^()]|\\([^()]*\\))*\\)");

    private final boolean withholdEchoes;
    private final Catalog catalog;
    private final Scrubber scrubber;

    /** {@code catalog}: the upstream's, whose schema, relation and column names an error may name freely. */
    public MessageScrubber(boolean withholdEchoes, Catalog catalog, Scrubber scrubber) {
        this.withholdEchoes = withholdEchoes;
        this.catalog = catalog;
        this.scrubber = scrubber;
    }

    /** Reads PostgreSQL's message templates, which the first error of a masked session would otherwise wait for. */
    public static void loadTemplates() {
        MessageTemplates.postgres();
    }

    /**
     * Scrubs one field of an error or notice. For a role that sees PHI masked, values PostgreSQL echoes back (a
     * bad input, a duplicate key, a failing row, a name read as a type or a relation) are withheld whole, since a
     * name or a date in them is not recognisable by shape, unless the client already knows them ({@code known}:
     * the lower-cased words, literals and numbers of the statement it sent, and the names the message carries),
     * or they are names of the upstream's schemas, relations and columns (see {@link EchoedValues}). Detectors
     * then run over what is left.
     */
    public String scrub(char field, String text, Set<String> known) {
        if (text == null || text.isEmpty()) {
            return text;
        }
        String out = text;
        if (withholdEchoes) {
            switch (field) {
                case 'M' -> out = EchoedValues.withhold(out, knownOrNamed(known));
                case 'D', 'H' -> out = EchoedValues.withhold(replaceAll(ROW_VALUES, out, null), knownOrNamed(known));
                case 'W' -> out = safeContext(out);
                case 'q' -> out = "[withheld by phigate]"; // an internal query can carry values inline
                default -> {
                }
            }
        }
        return scrubber.scrub(out);
    }

    /** What the client sent, or a name of the upstream's catalog (a hint naming the column that was meant). */
    private Predicate<String> knownOrNamed(Set<String> known) {
        PgCatalog pg = PgCatalog.of(catalog);
        Set<String> names = pg == null ? Set.of() : pg.names();
        return w -> known.contains(w) || names.contains(w);
    }

    /**
     * Context lines name where an error arose; some quote the data being read ({@code JSON data, line 1: ...},
     * {@code COPY t, line 3, column c: "..."}), unquoted. Only lines of the known harmless shapes are kept.
     */
    private static String safeContext(String context) {
        StringBuilder out = new StringBuilder();
        for (String line : context.split("\n", -1)) {
            if (!out.isEmpty()) {
                out.append('\n');
            }
            out.append(SAFE_CONTEXT.matcher(line).matches() ? line : "[context withheld by phigate]");
        }
        return out.toString();
    }

    private static String replaceAll(Pattern p, String text, String replacement) {
        Matcher m = p.matcher(text);
        if (!m.find()) {
            return text;
        }
        StringBuilder sb = new StringBuilder();
        do {
            String r = replacement != null ? replacement : m.group(1) + "([withheld by phigate])";
            m.appendReplacement(sb, Matcher.quoteReplacement(r));
        } while (m.find());
        m.appendTail(sb);
        return sb.toString();
    }
}
