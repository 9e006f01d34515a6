package io.phigate.credentials;

/**
 * Quoting for the administrative statements built here, whose values (role names, comments, verifiers) are the
 * gateway's own and still never trusted to be free of quotes.
 */
final class AdminSql {
    private AdminSql() {
    }

    /** A string literal with standard_conforming_strings on (PostgreSQL's default since 9.1). */
    static String literal(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    static String identifier(String s) {
        return "\"" + s.replace("\"", "\"\"") + "\"";
    }
}
