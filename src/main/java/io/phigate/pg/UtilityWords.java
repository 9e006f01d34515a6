package io.phigate.pg;

import java.util.ArrayList;
import java.util.List;

/**
 * The few facts about utility statements that the session-state registry needs and {@code StatementAnalysis}
 * does not carry yet: a cursor's holdability and query, a PREPARE's statement, DEALLOCATE ALL, DISCARD ALL, and
 * whether a transaction statement ends the transaction.
 *
 * <p>TEMPORARY: a hand-written reading of the words before a statement's body, kept here until the analyser on
 * PostgreSQL's own parser (libpg_query) reports these facts; the lead moves them there. It reads only the leading
 * words (names, keywords, parentheses), never past the body's first token, and answers null or false when the
 * text holds anything else (a string, say), so a caller falls back to the analysis it already has.
 */
final class UtilityWords {
    private UtilityWords() {
    }

    /** A leading word: unquoted ones folded to lower case (ASCII only, as PostgreSQL does), with where it ends. */
    private record Word(String value, boolean quoted, int end) {
        boolean is(String w) {
            return !quoted && value.equals(w);
        }
    }

    /** The statement after {@code PREPARE name [(types)] AS}, or null. */
    static String preparedBody(String text) {
        return after(text, "prepare", "as");
    }

    /** The query after {@code DECLARE name ... FOR}, or null. */
    static String cursorQuery(String text) {
        return after(text, "declare", "for");
    }

    /** True for {@code DECLARE name ... WITH HOLD ... FOR}. */
    static boolean withHold(String text) {
        List<Word> w = words(text, 12);
        if (w.isEmpty() || !w.getFirst().is("declare")) {
            return false;
        }
        for (int i = 2; i + 1 < w.size() && !w.get(i).is("for"); i++) {
            if (w.get(i).is("with") && w.get(i + 1).is("hold")) {
                return true;
            }
        }
        return false;
    }

    /** {@code DEALLOCATE [PREPARE] ALL}. */
    static boolean deallocateAll(String text) {
        List<Word> w = words(text, 3);
        int i = w.size() > 1 && w.get(1).is("prepare") ? 2 : 1;
        return !w.isEmpty() && w.getFirst().is("deallocate") && i < w.size() && w.get(i).is("all");
    }

    /** {@code DISCARD ALL}. */
    static boolean discardAll(String text) {
        List<Word> w = words(text, 2);
        return w.size() == 2 && w.get(0).is("discard") && w.get(1).is("all");
    }

    /**
     * COMMIT, END, ROLLBACK, ABORT (with WORK, TRANSACTION or AND [NO] CHAIN), and PREPARE TRANSACTION: statements
     * that end the open transaction. Not ROLLBACK TO SAVEPOINT, nor COMMIT/ROLLBACK PREPARED (which finish another
     * transaction).
     */
    static boolean endsTransaction(String text) {
        List<Word> w = words(text, 3);
        if (w.isEmpty()) {
            return false;
        }
        Word first = w.getFirst();
        if (first.is("prepare")) {
            return w.size() > 1 && w.get(1).is("transaction");
        }
        if (!(first.is("commit") || first.is("end") || first.is("rollback") || first.is("abort"))) {
            return false;
        }
        for (int i = 1; i < w.size(); i++) {
            if (w.get(i).is("to") || w.get(i).is("prepared")) {
                return false;
            }
        }
        return true;
    }

    /** The text after the first top-level {@code keyword} of a statement starting with {@code verb}, or null. */
    private static String after(String text, String verb, String keyword) {
        if (text == null) {
            return null;
        }
        List<Word> w = words(text, 64);
        if (w.size() < 3 || !w.getFirst().is(verb)) {
            return null;
        }
        for (int i = 2; i < w.size(); i++) {
            if (w.get(i).is(keyword)) {
                String body = text.substring(w.get(i).end()).strip();
                return body.isEmpty() ? null : body;
            }
        }
        return null;
    }

    /**
     * Up to {@code max} leading words at parenthesis depth 0, skipping comments and what is inside parentheses.
     * Stops (returning what it has) at anything it does not read: a string, a dollar quote, a semicolon.
     */
    private static List<Word> words(String s, int max) {
        List<Word> out = new ArrayList<>();
        if (s == null) {
            return out;
        }
        int n = s.length();
        int i = 0;
        int depth = 0;
        while (i < n && out.size() < max) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '-' && i + 1 < n && s.charAt(i + 1) == '-') {
                while (i < n && s.charAt(i) != '\n' && s.charAt(i) != '\r') {
                    i++;
                }
            } else if (c == '/' && i + 1 < n && s.charAt(i + 1) == '*') {
                i = endOfComment(s, i);
            } else if (c == '"') {
                int end = i + 1;
                StringBuilder v = new StringBuilder();
                while (end < n) {
                    if (s.charAt(end) == '"') {
                        if (end + 1 < n && s.charAt(end + 1) == '"') {
                            v.append('"');
                            end += 2;
                            continue;
                        }
                        break;
                    }
                    v.append(s.charAt(end++));
                }
                if (end >= n) {
                    return out;
                }
                if (depth == 0) {
                    out.add(new Word(v.toString(), true, end + 1));
                }
                i = end + 1;
            } else if (isWordStart(c)) {
                int end = i + 1;
                while (end < n && isWordPart(s.charAt(end))) {
                    end++;
                }
                if (end < n && (s.charAt(end) == '\'' || s.charAt(end) == '&')) {
                    return out; // E'..', U&'..' and friends: not a word
                }
                if (depth == 0) {
                    out.add(new Word(foldAscii(s.substring(i, end)), false, end));
                }
                i = end;
            } else if (c == '(') {
                depth++;
                i++;
            } else if (c == ')') {
                depth = Math.max(0, depth - 1);
                i++;
            } else if (c == ',' || c == '.' || c == '[' || c == ']' || Character.isDigit(c)) {
                i++;
            } else {
                return out;
            }
        }
        return out;
    }

    private static int endOfComment(String s, int start) {
        int depth = 0;
        int i = start;
        while (i + 1 < s.length()) {
            if (s.charAt(i) == '/' && s.charAt(i + 1) == '*') {
                depth++;
                i += 2;
            } else if (s.charAt(i) == '*' && s.charAt(i + 1) == '/') {
                depth--;
                i += 2;
                if (depth == 0) {
                    return i;
                }
            } else {
                i++;
            }
        }
        return s.length();
    }

    private static boolean isWordStart(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
    }

    private static boolean isWordPart(char c) {
        return isWordStart(c) || (c >= '0' && c <= '9') || c == '$';
    }

    /** PostgreSQL folds unquoted identifiers in ASCII only. */
    private static String foldAscii(String w) {
        StringBuilder b = new StringBuilder(w.length());
        for (int i = 0; i < w.length(); i++) {
            char c = w.charAt(i);
            b.append(c >= 'A' && c <= 'Z' ? (char) (c + 32) : c);
        }
        return b.toString();
    }
}
