package io.phigate.sql;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/** What a client wrote in a statement, as a set of words: so a message quoting one of them reveals nothing new. */
public final class StatementWords {
    private StatementWords() {
    }

    /**
     * The statement's words, identifiers, string literals, numbers and symbols, lower-cased (PostgreSQL folds
     * names, and quotes them back in either case). Comments are not read: a value is not "known" for appearing
     * inside one.
     */
    public static Set<String> of(String text) {
        Set<String> words = new HashSet<>();
        if (text == null) {
            return words;
        }
        for (Lexer.Token t : Lexer.tokens(text)) {
            switch (t.type()) {
                case WORD, QUOTED_IDENT, STRING, NUMBER, SYMBOL -> words.add(t.value().toLowerCase(Locale.ROOT));
                default -> {
                }
            }
        }
        return words;
    }
}
