package io.phigate.sql;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.phigate.sql.ParseTreeSchema.Kind;
import io.phigate.sql.ParseTreeSchema.Message;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;

/**
 * Reads libpg_query's {@code ParseResult} protobuf ({@code pg_query_parse_protobuf}) into the tree its JSON output
 * ({@code pg_query_parse}) gives through Jackson, which is what the analysis walks ({@link Tree}): a node is
 * {@code {"SelectStmt": {...}}}, fields carry the proto's {@code json_name}, zero, false and empty fields are left
 * out, enums are their names, numbers are {@code IntNode} when they fit an int (as Jackson reads them), and the
 * places where the JSON writer departs from those rules are copied: {@code A_Const}'s {@code location} is always
 * there, a {@code String}'s {@code sval} (and {@code Float}'s, {@code BitString}'s) is there when empty, and a
 * {@code Boolean} node outside {@code A_Const} says {@code "boolval": false}, and an {@code Integer} below zero
 * has no {@code ival}, as the JSON writer prints it only when above zero (so {@code SET extra_float_digits = -3}
 * and {@code int4[]}'s bound of -1 read as 0 today; kept so that the analysis reads exactly what it read before,
 * decision 0082). {@code ParseResultDecoderTest} parses a corpus both ways and requires equal trees.
 *
 * <p>Nesting is counted as the JSON's would be (a repeated field is an array level) and refused past the same
 * limit, before the decoder recurses further. A buffer that does not match the schema (an unknown field or enum
 * value, a wrong wire type, a length past the end) is an error, never a partial tree.
 */
final class ParseResultDecoder {

    /** The text cannot be analysed as parsed (too deep, or a string the server could not hold as UTF-8). */
    static final class Refused extends Exception {
        Refused(String message) {
            super(message, null, false, false);
        }
    }

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final ParseTreeSchema SCHEMA = ParseTreeSchema.bundled();
    private static final Message PARSE_RESULT = SCHEMA.message("ParseResult");
    private static final Message NODE = SCHEMA.message("Node");
    private static final Message BOOLEAN = SCHEMA.message("Boolean");
    private static final Message INTEGER = SCHEMA.message("Integer");
    private static final String IVAL = "ival";
    private static final String BOOLVAL = "boolval";

    static {
        always(SCHEMA.message("A_Const"), "location", IntNode.valueOf(0));
        always(SCHEMA.message("String"), "sval", TextNode.valueOf(""));
        always(SCHEMA.message("Float"), "fval", TextNode.valueOf(""));
        always(SCHEMA.message("BitString"), "bsval", TextNode.valueOf(""));
        // The JSON writer prints every double ("%f"), zero too; only planner nodes have any.
        for (String name : SCHEMA.messageNames()) {
            Message m = SCHEMA.message(name);
            for (int f = 0; f < m.kinds.length; f++) {
                if (m.kinds[f] == Kind.DOUBLE) {
                    always(m, m.names[f], DoubleNode.valueOf(0));
                }
            }
        }
    }

    private final byte[] buf;
    private final int maxDepth;
    private int pos;

    private ParseResultDecoder(byte[] buf, int maxDepth) {
        this.buf = buf;
        this.maxDepth = maxDepth;
    }

    /** The tree of {@code pbuf}, as {@code {"version": ..., "stmts": [...]}}; {@code maxDepth} as Jackson counts it. */
    static ObjectNode decode(byte[] pbuf, int maxDepth) throws Refused {
        ObjectNode root = new ParseResultDecoder(pbuf, maxDepth).tree();
        if (!root.has("stmts")) {
            root.putArray("stmts"); // the JSON writer prints an empty text's list: {"version":...,"stmts":[]}
        }
        return root;
    }

    private static void always(Message m, String name, JsonNode value) {
        int n = m.always.length;
        m.always = java.util.Arrays.copyOf(m.always, n + 1);
        m.alwaysValues = java.util.Arrays.copyOf(m.alwaysValues, n + 1);
        m.always[n] = name;
        m.alwaysValues[n] = value;
    }

    /** A message being read: where its bytes end, and its depth as Jackson counts it. */
    private record Open(Message type, ObjectNode node, int end, int depth, boolean inNode) {
    }

    /**
     * Reads the whole buffer with a stack of open messages rather than by recursion: a statement nested as deep as
     * the limit allows would otherwise need a deeper Java stack than Jackson's reader (which does not recurse)
     * needed, on a carrier thread whose stack the native parse shares ({@code PgGrammar.INLINE_MAX_CHARS}).
     */
    private ObjectNode tree() throws Refused {
        java.util.ArrayDeque<Open> open = new java.util.ArrayDeque<>();
        ObjectNode root = new ObjectNode(NODES);
        open.push(new Open(PARSE_RESULT, root, buf.length, 1, false));
        while (!open.isEmpty()) {
            Open top = open.peek();
            if (pos >= top.end()) {
                if (pos != top.end()) {
                    throw malformed("a field runs past its message");
                }
                close(open.pop());
                continue;
            }
            Message m = top.type();
            ObjectNode o = top.node();
            long key = varint();
            int field = (int) (key >>> 3);
            int wire = (int) key & 7;
            if (field <= 0 || field >= m.names.length || m.names[field] == null) {
                throw malformed("unknown field " + field + " in " + m.name);
            }
            String name = m.names[field];
            Kind kind = m.kinds[field];
            boolean repeated = m.repeated[field];
            ArrayNode array = null;
            if (repeated) {
                array = o.has(name) ? (ArrayNode) o.get(name) : o.putArray(name);
                refuseDeeperThan(top.depth() + 1);
            }
            if (repeated && kind != Kind.MESSAGE && kind != Kind.STRING && wire == 2) {
                int end = pos + length();
                while (pos < end) {
                    array.add(scalar(m, field));
                }
                if (pos != end) {
                    throw malformed("a packed field runs past its length");
                }
                continue;
            }
            if (wire != wireType(kind)) {
                throw malformed("wire type " + wire + " for " + m.name + "." + name);
            }
            if (kind == Kind.MESSAGE) {
                int depth = top.depth() + (repeated ? 2 : 1);
                refuseDeeperThan(depth);
                int len = length();
                ObjectNode child = new ObjectNode(NODES);
                if (repeated) {
                    array.add(child);
                } else {
                    o.set(name, child);
                }
                open.push(new Open(m.messages[field], child, pos + len, depth, m == NODE));
                continue;
            }
            JsonNode value = scalar(m, field);
            if (repeated) {
                array.add(value);
            } else if (value != null) {
                o.set(name, value);
            }
        }
        return root;
    }

    /** What the JSON writer prints of a message beyond its non-zero fields. */
    private static void close(Open done) {
        Message m = done.type();
        ObjectNode o = done.node();
        if (m == INTEGER && o.has(IVAL) && o.get(IVAL).intValue() < 0) {
            o.remove(IVAL); // JSON's _outInteger prints ival only when above zero
        }
        if (m == BOOLEAN && done.inNode() && !o.has(BOOLVAL)) {
            o.put(BOOLVAL, false); // JSON's _outBoolean prints false too; inside A_Const it does not
        }
        for (int i = 0; i < m.always.length; i++) {
            if (!o.has(m.always[i])) {
                o.set(m.always[i], m.alwaysValues[i]);
            }
        }
    }

    private void refuseDeeperThan(int depth) throws Refused {
        if (depth > maxDepth) {
            throw new Refused("statement is too complex to analyse (nested more than " + maxDepth + " levels)");
        }
    }

    /** One scalar field's value, or null for one the JSON writer leaves out (false). */
    private JsonNode scalar(Message m, int field) throws Refused {
        return switch (m.kinds[field]) {
            case STRING -> TextNode.valueOf(string(length()));
            case ENUM -> {
                long v = varint();
                String[] names = m.enums[field];
                if (v < 0 || v >= names.length || names[(int) v] == null) {
                    throw malformed("unknown value " + v + " for " + m.name + "." + m.names[field]);
                }
                yield TextNode.valueOf(names[(int) v]);
            }
            case BOOL -> varint() != 0 ? BooleanNode.TRUE : null;
            case INT32 -> number((int) varint());
            case UINT32 -> number(varint() & 0xFFFF_FFFFL);
            case INT64 -> number(varint());
            case UINT64 -> {
                long v = varint();
                yield v >= 0 ? number(v) : BigIntegerNode.valueOf(new BigInteger(Long.toUnsignedString(v)));
            }
            case DOUBLE -> DoubleNode.valueOf(Double.longBitsToDouble(fixed64()));
            case MESSAGE -> throw malformed("a message where a scalar belongs");
        };
    }

    private static int wireType(Kind kind) {
        return switch (kind) {
            case MESSAGE, STRING -> 2;
            case DOUBLE -> 1;
            default -> 0;
        };
    }

    /** As Jackson reads a JSON number: an int when it fits one, else a long. */
    private static JsonNode number(long v) {
        return v == (int) v ? IntNode.valueOf((int) v) : LongNode.valueOf(v);
    }

    /**
     * A string field's text. Jackson refuses a JSON text that is not UTF-8 (the JSON writer copies bytes as they
     * are), so a string that is not valid UTF-8 is refused here too rather than read with replacement characters.
     */
    private String string(int len) throws Refused {
        int start = pos;
        pos += len;
        for (int i = start; i < pos; i++) {
            if (buf[i] < 0) {
                try {
                    return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(buf, start, len)).toString();
                } catch (CharacterCodingException e) {
                    throw new Refused("statement holds a string that is not valid UTF-8");
                }
            }
        }
        return new String(buf, start, len, StandardCharsets.ISO_8859_1);
    }

    private int length() {
        long len = varint();
        if (len < 0 || len > buf.length - pos) {
            throw malformed("a length runs past the end");
        }
        return (int) len;
    }

    private long fixed64() {
        if (buf.length - pos < 8) {
            throw malformed("a fixed64 runs past the end");
        }
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (buf[pos + i] & 0xFF);
        }
        pos += 8;
        return v;
    }

    private long varint() {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= buf.length) {
                throw malformed("a varint runs past the end");
            }
            byte b = buf[pos++];
            v |= (long) (b & 0x7f) << shift;
            if (b >= 0) {
                return v;
            }
        }
        throw malformed("a varint is longer than ten bytes");
    }

    private static IllegalStateException malformed(String why) {
        return new IllegalStateException("malformed parse result from libpg_query: " + why);
    }
}
