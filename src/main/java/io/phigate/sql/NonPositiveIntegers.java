package io.phigate.sql;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * Puts back the integer constants libpg_query 15-4's JSON leaves out. Its writer emits an Integer's {@code ival}
 * only when it is above zero ({@code if (node->ival > 0)} in pg_query_outfuncs_json.c), so {@code substr(x, 1, -1)}
 * reads {@code {"A_Const":{"ival":{}}}}, the same as {@code 0}: a reader of the tree would take every negative
 * constant for zero (decision 0085). The value is read back from the statement text, with the server's scanner,
 * right after the tree is read, so no reader of the tree has to know.
 *
 * <p>An empty {@code ival} is a value of zero or below, and the grammar makes one in few ways, each read here from
 * the tokens at the node's location:
 * <ul>
 *   <li>a constant folded with its minus signs ({@code -1}, {@code - /*c*&#47; 5}, {@code -(5)}, {@code SET x = -3}):
 *       the location is the first {@code -}; minus signs and opening parentheses, then the ICONST;</li>
 *   <li>a zero ({@code 0}, {@code TIMESTAMP(0)}): the location is the ICONST itself;</li>
 *   <li>a false the grammar made for {@code READ WRITE} and {@code NOT DEFERRABLE}: the location is that keyword;</li>
 *   <li>XML's {@code STANDALONE YES} (0), the only one made without a location.</li>
 * </ul>
 * A bare Integer that is an option's value ({@code INCREMENT BY -1}, {@code fillfactor = -1}) is read from the
 * first sign or number after the option's location. Bare Integers elsewhere carry no location ({@code SET
 * STATISTICS -1}, an array type's {@code []} bound, an aggregate's argument counts, trigger events): nothing in the
 * gateway reads their value, so they are left as they are; should one under an option be met, the statement is
 * refused when its text holds any negative integer. Anything else is refused too: a value the tokens do not
 * explain is never guessed.
 */
final class NonPositiveIntegers {

    static final String UNREADABLE = "statement holds an integer constant the gateway cannot read back from its text";

    private static final int MINUS = '-';
    private static final int PLUS = '+';
    private static final int OPEN = '(';

    private final String sql;
    private final PgGrammar.Offsets offsets;
    /** Tokens of the text from {@link #from} on, scanned when first needed. */
    private List<PgGrammar.Token> tokens;
    private int from;

    private NonPositiveIntegers(String sql, PgGrammar.Offsets offsets) {
        this.sql = sql;
        this.offsets = offsets;
    }

    /**
     * Writes the value of every empty-bodied integer under {@code root} back into it.
     *
     * @param json the tree's bytes as the library wrote them: most statements have no empty ival, which a pass
     *             over these bytes shows without walking the tree or scanning the text
     * @return null when every value was restored, else why the statement cannot be read
     */
    static String restore(JsonNode root, byte[] json, String sql, PgGrammar.Offsets offsets) {
        if (!holdsEmptyInteger(json)) {
            return null;
        }
        try {
            new NonPositiveIntegers(sql, offsets).walk(root, false);
            return null;
        } catch (Unreadable e) {
            return UNREADABLE;
        }
    }

    /** True when the bytes hold {@code "ival":{}} or {@code "Integer":{}} (never inside a JSON string, whose quotes are escaped). */
    static boolean holdsEmptyInteger(byte[] json) {
        for (int i = 1; i + 1 < json.length; i++) {
            if (json[i] == '{' && json[i + 1] == '}' && json[i - 1] == ':'
                    && (endsWith(json, i - 1, "\"ival\"") || endsWith(json, i - 1, "\"Integer\""))) {
                return true;
            }
        }
        return false;
    }

    private static boolean endsWith(byte[] json, int end, String word) {
        int from = end - word.length();
        if (from < 0) {
            return false;
        }
        for (int k = 0; k < word.length(); k++) {
            if (json[from + k] != word.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    private void walk(JsonNode node, boolean underOption) {
        if (node.isArray()) {
            for (JsonNode e : node) {
                walk(e, underOption);
            }
            return;
        }
        if (!node.isObject()) {
            return;
        }
        JsonNode constant = node.get("A_Const");
        if (constant != null && empty(constant.get("ival"))) {
            int value = constant(location(constant));
            if (value != 0) {
                ((ObjectNode) constant.get("ival")).put("ival", value);
            }
            return;
        }
        JsonNode option = node.get("DefElem");
        if (option != null) {
            JsonNode arg = option.path("arg");
            JsonNode integer = arg.get("Integer");
            if (integer != null && integer.isEmpty()) {
                int value = optionValue(location(option));
                if (value != 0) {
                    ((ObjectNode) integer).put("ival", value);
                }
            } else {
                walk(arg, true);
            }
            return;
        }
        if (underOption && empty(node.get("Integer")) && holdsNegativeInteger()) {
            throw new Unreadable();
        }
        for (JsonNode v : node) {
            walk(v, underOption);
        }
    }

    private static boolean empty(JsonNode n) {
        return n != null && n.isObject() && n.isEmpty();
    }

    /** The node's location as a character offset, or -1 for none (the writer leaves out a location of 0). */
    private int location(JsonNode body) {
        int bytes = body.path("location").asInt(0);
        return bytes < 0 ? -1 : offsets.charAt(bytes);
    }

    /** An A_Const's value, from the tokens at its location. */
    private int constant(int at) {
        if (at < 0) {
            return 0; // XML's STANDALONE YES
        }
        int i = tokenAt(at);
        PgGrammar.Token first = tokens().get(i);
        if (first.isKeyword()) {
            String word = sql.substring(from + first.start(), from + first.end());
            if (word.equalsIgnoreCase("read") || word.equalsIgnoreCase("not")) {
                return 0; // READ WRITE, NOT DEFERRABLE
            }
            throw new Unreadable();
        }
        long sign = 1;
        for (; ; i = next(i)) {
            int t = tokens().get(i).token();
            if (t == MINUS) {
                sign = -sign;
            } else if (t != OPEN) {
                break;
            }
        }
        return nonPositive(sign * digits(i));
    }

    /** An option's Integer value: the first sign or number from the option's location on. */
    private int optionValue(int at) {
        if (at < 0) {
            throw new Unreadable();
        }
        int i = tokenAt(at);
        while (!numeric(tokens().get(i).token())) {
            i = next(i);
        }
        int t = tokens().get(i).token();
        long sign = t == MINUS ? -1 : 1;
        return nonPositive(sign * digits(t == MINUS || t == PLUS ? next(i) : i));
    }

    private static boolean numeric(int token) {
        return token == MINUS || token == PLUS || token == PgGrammar.Token.ICONST
                || token == PgGrammar.Token.FCONST;
    }

    /** The ICONST at {@code i} (PostgreSQL 15's are decimal digits that fit an int; larger ones are FCONST). */
    private long digits(int i) {
        PgGrammar.Token t = tokens().get(i);
        if (t.token() != PgGrammar.Token.ICONST) {
            throw new Unreadable();
        }
        try {
            return Long.parseLong(sql, from + t.start(), from + t.end(), 10);
        } catch (NumberFormatException e) {
            throw new Unreadable();
        }
    }

    /** An empty ival that the text says is above zero contradicts the writer: refused, never guessed. */
    private static int nonPositive(long value) {
        if (value > 0 || value < Integer.MIN_VALUE) {
            throw new Unreadable();
        }
        return (int) value;
    }

    private boolean holdsNegativeInteger() {
        if (from != 0) {
            scan(0);
        }
        List<PgGrammar.Token> all = tokens();
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i).token() == MINUS) {
                int j = i + 1;
                while (j < all.size() && all.get(j).isComment()) {
                    j++;
                }
                if (j < all.size() && all.get(j).token() == PgGrammar.Token.ICONST) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The index of the token starting at character {@code at}. */
    private int tokenAt(int at) {
        if (tokens == null || at < from) {
            scan(tokens == null ? at : 0);
        }
        at -= from;
        List<PgGrammar.Token> all = tokens;
        int lo = 0;
        int hi = all.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int start = all.get(mid).start();
            if (start == at) {
                return mid;
            }
            if (start < at) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        throw new Unreadable();
    }

    /** The index of the next token that is not a comment. */
    private int next(int i) {
        List<PgGrammar.Token> all = tokens();
        for (int j = i + 1; j < all.size(); j++) {
            if (!all.get(j).isComment()) {
                return j;
            }
        }
        throw new Unreadable();
    }

    /** The tokens scanned so far (from {@link #from} on), or the whole text's when none were. */
    private List<PgGrammar.Token> tokens() {
        if (tokens == null) {
            scan(0);
        }
        return tokens;
    }

    /**
     * Scans the text from character {@code start} on, which is always a token's first character (a location the
     * parser reported) so the scanner, starting there in its initial state, reads the same tokens as from the
     * text's start: the part before is not scanned, a few microseconds on a short statement. Token offsets stay
     * relative to {@code start}. A later node located before it rescans the whole text.
     */
    private void scan(int start) {
        tokens = PgGrammar.scanHere(start == 0 ? sql : sql.substring(start));
        from = start;
        if (tokens == null || tokens.isEmpty()) {
            throw new Unreadable();
        }
    }

    /** Unwinds the walk: the statement is refused as unreadable. */
    private static final class Unreadable extends RuntimeException {
        Unreadable() {
            super(null, null, false, false);
        }
    }
}
