package io.phigate.sql;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * DDL that builds a route for data inside the server, out of phigate's sight: code that runs there (functions,
 * procedures, triggers, rules, event triggers, aggregates, operators, casts, languages, extensions), ways out of it
 * (publications, subscriptions, foreign servers and tables), the column comments masking reads tags from, and
 * access for other principals who would read the data without phigate (GRANT, roles, row security policies,
 * default privileges). A trigger an agent writes copies {@code NEW.ssn} into a table nobody tagged on the next
 * UPDATE; no statement the agent sends afterwards names the PHI column, so lineage has nothing to follow.
 */
final class DataRoutes {
    /**
     * What may follow CREATE [OR REPLACE] [CONSTRAINT | TRUSTED | PROCEDURAL] or ALTER. DATABASE: CREATE DATABASE
     * ... TEMPLATE copies every table to a database phigate does not serve, and ALTER DATABASE ... SET changes the
     * search path later sessions resolve names by.
     */
    private static final Set<String> OBJECTS = Set.of("function", "procedure", "routine", "trigger", "rule", "event",
            "aggregate", "operator", "cast", "transform", "language", "extension", "publication", "subscription",
            "server", "foreign", "policy", "role", "group", "default", "database");

    private DataRoutes() {
    }

    /**
     * The statement's form in upper case ({@code "CREATE TRIGGER"}, {@code "COMMENT ON"}) when it builds such a
     * route, or null. Reads the statement's tokens, so comments, quoting and case do not hide the form. Called by
     * {@link SqlAnalyzer} once per statement text, with the tokens it has already read.
     */
    static String of(List<Lexer.Token> t) {
        int i = 0;
        while (i < t.size() && t.get(i).isSymbol("(")) {
            i++;
        }
        if (i >= t.size() || t.get(i).type() != Lexer.Type.WORD) {
            return null;
        }
        String first = t.get(i).value();
        switch (first) {
            case "comment" -> {
                return "COMMENT ON";
            }
            case "grant" -> {
                return "GRANT";
            }
            case "security" -> {
                return word(t, i + 1, "label") ? "SECURITY LABEL" : null;
            }
            case "import" -> {
                return word(t, i + 1, "foreign") ? "IMPORT FOREIGN SCHEMA" : null;
            }
            case "create", "alter" -> {
                int j = i + 1;
                if (first.equals("create") && word(t, j, "or") && word(t, j + 1, "replace")) {
                    j += 2;
                }
                if (first.equals("create")) {
                    String nested = nestedRoute(t, j);
                    if (nested != null) {
                        return nested;
                    }
                }
                while (word(t, j, "constraint") || word(t, j, "trusted") || word(t, j, "procedural")) {
                    j++;
                }
                if (j < t.size() && t.get(j).type() == Lexer.Type.WORD && OBJECTS.contains(t.get(j).value())) {
                    return (first + " " + t.get(j).value()).toUpperCase(Locale.ROOT);
                }
                if (first.equals("alter") && word(t, j, "schema")) {
                    // A renamed schema takes its tables out from under the policy's schema.table.column tags.
                    return "ALTER SCHEMA";
                }
                if (word(t, j, "user")) {
                    return (first + (word(t, j + 1, "mapping") ? " USER MAPPING" : " USER")).toUpperCase(Locale.ROOT);
                }
                return null;
            }
            default -> {
                return null;
            }
        }
    }

    /**
     * Routes inside a CREATE that names no route object first: a schema created with subcommands (CREATE SCHEMA s
     * CREATE TRIGGER ... ON public.patients), a table that becomes a partition or child of another (rows written to
     * a tagged parent would land in an untagged table), and a table filled from a prepared statement, whose
     * lineage this text does not show (CREATE TABLE t AS EXECUTE p).
     */
    private static String nestedRoute(List<Lexer.Token> t, int from) {
        boolean schema = word(t, from, "schema");
        boolean table = false;
        for (int k = from; k < t.size() && k <= from + 3; k++) {
            table |= word(t, k, "table");
        }
        for (int k = from + 1; k < t.size(); k++) {
            if (schema && (t.get(k).is("create") || t.get(k).is("grant"))) {
                return "CREATE SCHEMA with " + t.get(k).value().toUpperCase(Locale.ROOT);
            }
            if (table && t.get(k).is("partition") && word(t, k + 1, "of")) {
                return "CREATE TABLE ... PARTITION OF";
            }
            if (table && t.get(k).is("inherits")) {
                return "CREATE TABLE ... INHERITS";
            }
            if (table && t.get(k).is("as") && word(t, k + 1, "execute")) {
                return "CREATE TABLE ... AS EXECUTE";
            }
        }
        return null;
    }

    /** True when the statement's first word is ALTER (comments and parentheses before it skipped). */
    static boolean isAlter(List<Lexer.Token> t) {
        for (Lexer.Token k : t) {
            if (!k.isSymbol("(")) {
                return k.is("alter");
            }
        }
        return false;
    }

    private static boolean word(List<Lexer.Token> t, int i, String w) {
        return i < t.size() && t.get(i).is(w);
    }
}
