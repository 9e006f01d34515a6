package io.phigate.sql;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * PostgreSQL's lexical rules, only as far as splitting statements and reading utility commands need them: string
 * forms ('..', E'..' with backslash escapes, $tag$..$tag$), quoted identifiers, {@code --} and nested
 * {@code /* *\/} comments. Never throws: an unterminated string or comment runs to the end of the text, which is
 * what the server would refuse anyway.
 */
final class Lexer {

    enum Type { WORD, QUOTED_IDENT, STRING, NUMBER, PARAM, SYMBOL, SEMICOLON }

    /**
     * One token. {@code value} is the folded identifier for WORD (lower case), the identifier as written for
     * QUOTED_IDENT, the string's contents for STRING, the text itself otherwise; {@code escapeString} marks E'..'
     * and {@code dollarQuoted} marks $tag$..$tag$, which JSqlParser cannot read.
     */
    record Token(Type type, String value, int start, int end, boolean escapeString, boolean dollarQuoted) {
        boolean is(String word) {
            return type == Type.WORD && value.equals(word);
        }

        boolean isSymbol(String s) {
            return type == Type.SYMBOL && value.equals(s);
        }

        /** An identifier as PostgreSQL folds it: unquoted words in lower case, quoted ones as written. */
        boolean isName() {
            return type == Type.WORD || type == Type.QUOTED_IDENT;
        }
    }

    private Lexer() {
    }

    static List<Token> tokens(String s) {
        List<Token> out = new ArrayList<>();
        int n = s.length();
        int i = 0;
        while (i < n) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '-' && i + 1 < n && s.charAt(i + 1) == '-') {
                int nl = s.indexOf('\n', i);
                i = nl < 0 ? n : nl + 1;
            } else if (c == '/' && i + 1 < n && s.charAt(i + 1) == '*') {
                i = skipBlockComment(s, i);
            } else if (c == '\'') {
                i = string(s, i, i, false, out);
            } else if ((c == 'e' || c == 'E') && i + 1 < n && s.charAt(i + 1) == '\'') {
                i = string(s, i, i + 1, true, out);
            } else if ((c == 'b' || c == 'B' || c == 'x' || c == 'X' || c == 'n' || c == 'N')
                    && i + 1 < n && s.charAt(i + 1) == '\'') {
                i = string(s, i, i + 1, false, out);
            } else if ((c == 'u' || c == 'U') && i + 2 < n && s.charAt(i + 1) == '&'
                    && (s.charAt(i + 2) == '\'' || s.charAt(i + 2) == '"')) {
                if (s.charAt(i + 2) == '\'') {
                    i = string(s, i, i + 2, false, out);
                } else {
                    i = quotedIdent(s, i, i + 2, out);
                }
            } else if (c == '"') {
                i = quotedIdent(s, i, i, out);
            } else if (c == '$') {
                i = dollar(s, i, out);
            } else if (c == ';') {
                out.add(new Token(Type.SEMICOLON, ";", i, i + 1, false, false));
                i++;
            } else if (Character.isDigit(c) || (c == '.' && i + 1 < n && Character.isDigit(s.charAt(i + 1)))) {
                int j = i + 1;
                while (j < n && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '.' || s.charAt(j) == '_')) {
                    j++;
                }
                out.add(new Token(Type.NUMBER, s.substring(i, j), i, j, false, false));
                i = j;
            } else if (isIdentStart(c)) {
                int j = i + 1;
                while (j < n && isIdentPart(s.charAt(j))) {
                    j++;
                }
                out.add(new Token(Type.WORD, s.substring(i, j).toLowerCase(Locale.ROOT), i, j, false, false));
                i = j;
            } else if (c == ':' && i + 1 < n && s.charAt(i + 1) == ':') {
                out.add(new Token(Type.SYMBOL, "::", i, i + 2, false, false));
                i += 2;
            } else {
                out.add(new Token(Type.SYMBOL, String.valueOf(c), i, i + 1, false, false));
                i++;
            }
        }
        return out;
    }

    static boolean isIdentStart(char c) {
        return Character.isLetter(c) || c == '_' || c > 127;
    }

    static boolean isIdentPart(char c) {
        return isIdentStart(c) || Character.isDigit(c) || c == '$';
    }

    private static int skipBlockComment(String s, int i) {
        int depth = 0;
        int n = s.length();
        while (i < n) {
            if (s.startsWith("/*", i)) {
                depth++;
                i += 2;
            } else if (s.startsWith("*/", i)) {
                depth--;
                i += 2;
                if (depth == 0) {
                    return i;
                }
            } else {
                i++;
            }
        }
        return n;
    }

    /** {@code quote} is the index of the opening quote; {@code start} where the token (with its prefix) begins. */
    private static int string(String s, int start, int quote, boolean backslashes, List<Token> out) {
        StringBuilder v = new StringBuilder();
        int end = quoted(s, quote, '\'', backslashes, v);
        out.add(new Token(Type.STRING, v.toString(), start, end, backslashes, false));
        return end;
    }

    private static int quotedIdent(String s, int start, int quote, List<Token> out) {
        StringBuilder v = new StringBuilder();
        int end = quoted(s, quote, '"', false, v);
        out.add(new Token(Type.QUOTED_IDENT, v.toString(), start, end, false, false));
        return end;
    }

    /** Reads up to the closing {@code q} (doubled, it stands for itself) into {@code v}; returns the index after. */
    private static int quoted(String s, int open, char q, boolean backslashes, StringBuilder v) {
        int n = s.length();
        int i = open + 1;
        while (i < n) {
            char c = s.charAt(i);
            if (backslashes && c == '\\' && i + 1 < n) {
                v.append(unescape(s.charAt(i + 1)));
                i += 2;
            } else if (c == q) {
                if (i + 1 < n && s.charAt(i + 1) == q) {
                    v.append(q);
                    i += 2;
                } else {
                    return i + 1;
                }
            } else {
                v.append(c);
                i++;
            }
        }
        return n;
    }

    private static char unescape(char c) {
        return switch (c) {
            case 'n' -> '\n';
            case 't' -> '\t';
            case 'r' -> '\r';
            case 'b' -> '\b';
            case 'f' -> '\f';
            default -> c;
        };
    }

    /** {@code $1} is a parameter; {@code $tag$} or {@code $$} opens a dollar-quoted string closed by the same tag. */
    private static int dollar(String s, int i, List<Token> out) {
        int n = s.length();
        int j = i + 1;
        if (j < n && Character.isDigit(s.charAt(j))) {
            while (j < n && Character.isDigit(s.charAt(j))) {
                j++;
            }
            out.add(new Token(Type.PARAM, s.substring(i, j), i, j, false, false));
            return j;
        }
        while (j < n && s.charAt(j) != '$' && isIdentPart(s.charAt(j))) {
            j++;
        }
        if (j < n && s.charAt(j) == '$') {
            String tag = s.substring(i, j + 1);
            int close = s.indexOf(tag, j + 1);
            int end = close < 0 ? n : close + tag.length();
            String body = s.substring(j + 1, close < 0 ? n : close);
            out.add(new Token(Type.STRING, body, i, end, false, true));
            return end;
        }
        out.add(new Token(Type.SYMBOL, "$", i, i + 1, false, false));
        return i + 1;
    }
}
