package io.phigate.sql;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/** What a client wrote in a statement, as a set of words: so a message quoting one of them reveals nothing new. */
public final class StatementWords {
    private StatementWords() {
    }

    /**
     * The statement's words, identifiers, string literals, numbers and symbols as PostgreSQL's scanner reads them,
     * lower-cased (PostgreSQL folds names, and quotes them back in either case). Comments are not read: a value
     * is not "known" for appearing inside one. A text the scanner rejects gives no words.
     */
    public static Set<String> of(String text) {
        Set<String> words = new HashSet<>();
        if (text == null) {
            return words;
        }
        java.util.List<PgGrammar.Token> tokens = PgGrammar.scan(text);
        if (tokens == null) {
            return words;
        }
        for (PgGrammar.Token t : tokens) {
            if (t.isComment()) {
                continue;
            }
            String raw = text.substring(t.start(), t.end());
            words.add(contents(raw, t.token()).toLowerCase(Locale.ROOT));
        }
        return words;
    }

    /** A token's value: a quoted name or string without its quotes (doubled quotes undone), else its text. */
    private static String contents(String raw, int token) {
        if (raw.startsWith("$") && token == PgGrammar.Token.SCONST) {
            int tag = raw.indexOf('$', 1);
            return tag < 0 || raw.length() < 2 * (tag + 1) ? raw : raw.substring(tag + 1, raw.length() - tag - 1);
        }
        int open = raw.indexOf(token == PgGrammar.Token.IDENT || token == PgGrammar.Token.UIDENT ? '"' : '\'');
        if (open < 0 || open > 2 || raw.length() < open + 2) {
            return raw;
        }
        char q = raw.charAt(open);
        String inner = raw.substring(open + 1, raw.length() - 1);
        return inner.replace(String.valueOf(q) + q, String.valueOf(q));
    }
}
