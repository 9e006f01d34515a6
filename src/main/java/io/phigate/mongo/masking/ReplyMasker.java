package io.phigate.mongo.masking;

import io.phigate.mask.ScalarMasking;
import io.phigate.mask.ScalarMasking.Scalar;
import io.phigate.mongo.masking.ReplyPlan.MaskNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Masks one reply message as it is written to the client, without building a second copy of it. A message starts
 * with its length, and masking changes lengths, so it takes two walks over the server's bytes: the first masks the
 * tagged values (keeping only those) and sums every changed document's new length; the second writes the message,
 * copying untagged fields as raw spans and putting the kept values and lengths in their places. Only the fields a
 * plan names are decoded; a sub-document no tag reaches is copied whole. A reply the walk cannot read (a length
 * that does not fit, an unknown type code, sections other than one body) is not written at all: {@link
 * Unmaskable}. A checksum cannot survive masking, so the flag is cleared (drivers check one only when it is set).
 * With a {@link DocumentBudget} (a role's {@code row_limit}), the documents of a batch ({@code cursor.firstBatch},
 * {@code cursor.nextBatch}, distinct's {@code values}, an inline mapReduce's {@code results}) past what the budget
 * has left are dropped, and when the budget is spent the cursor's {@code id} is written as 0, so the driver stops
 * (decision 0096). Runs on the connection's thread; one instance per message.
 */
public final class ReplyMasker {
    private static final int CHECKSUM_PRESENT = 1;
    /** Where a document lies in the reply: its body, the body's {@code cursor}, anywhere else. */
    private static final int TOP = 0;
    private static final int CURSOR = 1;
    private static final int INNER = 2;
    /** An entry of a catalog listing filtered for a scoped role. */
    private static final int ENTRY = 3;
    /** A plan masking nothing, walked only to count a budget's documents: every field copied as it is. */
    private static final MaskNode COUNTING = new MaskNode(java.util.Map.of(), null);

    /** A reply the masking cannot read, so it cannot say what the client would see: it must not be sent. */
    public static final class Unmaskable extends Exception {
        Unmaskable(String message) {
            super(message, null, false, false);
        }
    }

    private final byte[] b;
    private final List<Integer> lengths = new ArrayList<>();
    private final List<byte[]> values = new ArrayList<>();
    private OutputStream out;
    private int nextLength;
    private int nextValue;
    /** Null without a row limit; else what the batches of this reply may still deliver. */
    private final DocumentBudget budget;
    private final long remaining;
    /** Batch documents met in the current walk. */
    private long seen;
    /** Known after the first walk: this reply spends the budget, so its cursor id is written as 0. */
    private boolean endsCursor;
    private long serverCursor;
    /** Null, or the names a listing's entries may show ({@link ReplyPlan#listed}). */
    private final java.util.function.Predicate<String> listed;

    private ReplyMasker(byte[] frame, DocumentBudget budget, java.util.function.Predicate<String> listed) {
        this.b = frame;
        this.budget = budget;
        this.listed = listed;
        this.remaining = budget == null ? Long.MAX_VALUE : budget.remaining();
    }

    /** Writes {@code frame} (a whole OP_MSG reply) to {@code out} with {@code plan}'s fields masked. */
    public static void write(byte[] frame, ReplyPlan plan, OutputStream out) throws IOException, Unmaskable {
        new ReplyMasker(frame, null, plan.listed()).write(plan.envelope() == null ? COUNTING : plan.envelope(), out);
    }

    /**
     * As {@link #write(byte[], ReplyPlan, OutputStream)}, its batches cut at what {@code budget} has left (a plan
     * that masks nothing is walked only for that); the budget then counts what was delivered.
     */
    public static void write(byte[] frame, ReplyPlan plan, DocumentBudget budget, OutputStream out)
            throws IOException, Unmaskable {
        ReplyMasker masker = new ReplyMasker(frame, budget, plan.listed());
        masker.write(plan.envelope() == null ? COUNTING : plan.envelope(), out);
        budget.delivered(masker.seen, masker.serverCursor);
    }

    private void write(MaskNode envelope, OutputStream sink) throws IOException, Unmaskable {
        if (b.length < 26 || int32(12) != 2013 || int32(0) != b.length) {
            throw new Unmaskable("not a whole OP_MSG");
        }
        int flags = int32(16);
        int end = (flags & CHECKSUM_PRESENT) != 0 ? b.length - 4 : b.length;
        if (b[20] != 0 || 21 + int32(21) != end) {
            throw new Unmaskable("a reply must be one body section");
        }
        int body = document(21, end, envelope, TOP);
        endsCursor = budget != null && seen >= remaining;
        seen = 0;
        out = sink;
        byte[] header = new byte[21];
        System.arraycopy(b, 0, header, 0, 21);
        MaskedValues.putInt32(header, 0, 21 + body);
        MaskedValues.putInt32(header, 16, flags & ~CHECKSUM_PRESENT);
        out.write(header);
        document(21, end, envelope, TOP);
    }

    /** One document at {@code off} walked by {@code node}: its new length, written when the second walk is on. */
    private int document(int off, int limit, MaskNode node, int place) throws IOException, Unmaskable {
        int length = length(off, limit);
        int index = reserve();
        int size = 5;
        int p = off + 4;
        int end = off + length - 1;
        while (p < end) {
            int type = b[p] & 0xFF;
            int nameEnd = cstringEnd(p + 1, end);
            int valueStart = nameEnd + 1;
            int valueEnd = valueStart + valueSize(type, valueStart, end);
            String name = node.children().isEmpty() && node.others() == null && place == INNER ? null // a batch's
                    : new String(b, p + 1, nameEnd - p - 1, StandardCharsets.UTF_8);
            MaskNode child = node.children().isEmpty() ? null : node.child(name);
            // A UUID is an id; other bytes may be words. A place walked as a document that holds a scalar instead
            // is not the place its name was listed for: its words are withheld as an unlisted field's would be.
            int kind = idOrType(type, valueStart, valueEnd);
            ScalarMasking otherwise = node.others() == null ? null
                    : child == null ? node.otherwise(name, kind)
                    : child.leaf() == null && type != 3 && type != 4 ? node.otherwise(null, kind)
                    : null;
            boolean batch = budget != null && type == 4 && batch(place, name);
            boolean entries = listed != null && type == 4 && (place == TOP && "databases".equals(name)
                    || place == CURSOR && ("firstBatch".equals(name) || "nextBatch".equals(name)));
            if (listed != null && size(place, name) && (type == 0x01 || type == 0x10 || type == 0x12)) {
                size += raw(p, valueStart) + emit(new byte[valueEnd - valueStart], 0, valueEnd - valueStart);
            } else if (entries) {
                size += raw(p, valueStart) + entries(valueStart, valueEnd, child == null || child.leaf() != null
                        ? COUNTING : child);
            } else if (otherwise != null) {
                size += masked(type, p, valueStart, valueEnd, otherwise, batch);
            } else if (budget != null && place == CURSOR && "id".equals(name) && (type == 0x12 || type == 0x10)) {
                serverCursor = type == 0x12 ? int64(valueStart) : int32(valueStart);
                size += raw(p, valueStart) + (endsCursor ? emit(new byte[valueEnd - valueStart], 0,
                        valueEnd - valueStart) : raw(valueStart, valueEnd));
            } else if (batch && (child == null || child.leaf() == null)) {
                size += raw(p, valueStart) + array(valueStart, valueEnd, child == null ? COUNTING : child, null, true);
            } else if ((budget != null || listed != null) && place == TOP && type == 3 && child == null
                    && "cursor".equals(name)) {
                size += raw(p, valueStart) + document(valueStart, valueEnd, COUNTING, CURSOR);
            } else if (child == null || (child.leaf() == null && type != 3 && type != 4)) {
                size += raw(p, valueEnd);
            } else if (child.leaf() != null) {
                size += masked(type, p, valueStart, valueEnd, child.leaf(), batch);
            } else {
                size += raw(p, valueStart);
                size += type == 3 ? document(valueStart, valueEnd, child,
                        place == TOP && "cursor".equals(name) ? CURSOR : INNER)
                        : array(valueStart, valueEnd, child, null, false);
            }
            p = valueEnd;
        }
        return close(index, size);
    }

    /** A listing's sizes, written as 0 for a scoped role: the database's, and the sum over all of them. */
    private static boolean size(int place, String name) {
        return place == ENTRY ? "sizeOnDisk".equals(name)
                : place == TOP && ("totalSize".equals(name) || "totalSizeMb".equals(name));
    }

    /**
     * A listing's entries, only those whose {@code name} {@link #listed} holds; the kept ones are renumbered (an
     * array's names are its indexes), and an element that is no document is dropped, as no entry of a listing.
     */
    private int entries(int off, int limit, MaskNode node) throws IOException, Unmaskable {
        int length = length(off, limit);
        int index = reserve();
        int size = 5;
        int p = off + 4;
        int end = off + length - 1;
        int kept = 0;
        while (p < end) {
            int type = b[p] & 0xFF;
            int valueStart = cstringEnd(p + 1, end) + 1;
            int valueEnd = valueStart + valueSize(type, valueStart, end);
            if (type == 3 && listed.test(entryName(valueStart, valueEnd))) {
                byte[] key = (kept++ + "\0").getBytes(StandardCharsets.US_ASCII);
                size += emit(new byte[] {3}, 0, 1) + emit(key, 0, key.length)
                        + document(valueStart, valueEnd, node, ENTRY);
            }
            p = valueEnd;
        }
        return close(index, size);
    }

    /** The string {@code name} of the entry at {@code off}, or "" when it has none. */
    private String entryName(int off, int limit) throws Unmaskable {
        int end = off + length(off, limit) - 1;
        int p = off + 4;
        while (p < end) {
            int type = b[p] & 0xFF;
            int nameEnd = cstringEnd(p + 1, end);
            int valueStart = nameEnd + 1;
            int valueEnd = valueStart + valueSize(type, valueStart, end);
            if (type == 2 && nameEnd - p - 1 == 4 && "name".equals(new String(b, p + 1, 4, StandardCharsets.UTF_8))) {
                return new String(b, valueStart + 4, int32(valueStart) - 1, StandardCharsets.UTF_8);
            }
            p = valueEnd;
        }
        return "";
    }

    /** The arrays of a reply whose elements are the documents (or distinct values) a row limit counts. */
    private static boolean batch(int place, String name) {
        return place == CURSOR ? "firstBatch".equals(name) || "nextBatch".equals(name)
                : place == TOP && ("values".equals(name) || "results".equals(name));
    }

    /**
     * An array whose elements {@code node} walks (documents are walked into, scalars kept), or, with a {@code leaf},
     * an array under a tagged path: every element masked. A {@code batch}'s elements past the budget are dropped
     * (the tail only, so the elements' names stay 0, 1, 2 ...).
     */
    private int array(int off, int limit, MaskNode node, ScalarMasking leaf, boolean batch)
            throws IOException, Unmaskable {
        int length = length(off, limit);
        int index = reserve();
        int size = 5;
        int p = off + 4;
        int end = off + length - 1;
        while (p < end) {
            int type = b[p] & 0xFF;
            int nameEnd = cstringEnd(p + 1, end);
            int valueStart = nameEnd + 1;
            int valueEnd = valueStart + valueSize(type, valueStart, end);
            ScalarMasking otherwise = leaf != null || node.others() == null || type == 3 || type == 4 ? null
                    : node.otherwise(null, idOrType(type, valueStart, valueEnd));
            if (batch && ++seen > remaining) {
                p = valueEnd; // past the row limit: not delivered
                continue;
            }
            if (leaf != null || otherwise != null) {
                // an element of a place walked for its documents that holds words instead is withheld
                size += masked(type, p, valueStart, valueEnd, leaf != null ? leaf : otherwise, false);
            } else if (type == 3 && node.children().isEmpty() && node.others() == null) {
                size += raw(p, valueEnd); // nothing to mask inside: the walk would copy every field as it is
            } else if (type == 3) {
                size += raw(p, valueStart) + document(valueStart, valueEnd, node, INNER);
            } else if (type == 4) {
                size += raw(p, valueStart) + array(valueStart, valueEnd, node, null, false);
            } else {
                size += raw(p, valueEnd);
            }
            p = valueEnd;
        }
        return close(index, size);
    }

    /** One element under a tagged path: its name kept, its value masked; a sub-document becomes the stand-in. */
    private int masked(int type, int p, int valueStart, int valueEnd, ScalarMasking leaf, boolean batch)
            throws IOException, Unmaskable {
        if (batch && type == 4 && leaf.passes()) {
            return raw(p, valueStart) + array(valueStart, valueEnd, COUNTING, null, true); // counted, kept
        }
        if (leaf.passes() || type == 0x0A || type == 0x06 || type == 0x7F || type == 0xFF) {
            return raw(p, valueEnd); // unmasked for this role, or a null, undefined, min or max key: no value
        }
        if (type == 4) {
            return raw(p + 1, valueStart, (byte) 4) + array(valueStart, valueEnd, null, leaf, batch);
        }
        Scalar masked = type == 3 ? leaf.whole() : leaf.apply(read(type, valueStart));
        byte[] encoded;
        if (out == null) {
            encoded = MaskedValues.encode(masked, type);
            values.add(encoded);
        } else {
            encoded = values.get(nextValue++);
        }
        return raw(p + 1, valueStart, encoded[0]) + emit(encoded, 1, encoded.length - 1);
    }

    /** {@code type}, or an ObjectId's for bytes that are a UUID (subtypes 3 and 4): an id, not words. */
    private int idOrType(int type, int valueStart, int valueEnd) {
        return type == 0x05 && valueEnd - valueStart > 4 && (b[valueStart + 4] == 3 || b[valueStart + 4] == 4)
                ? 0x07 : type;
    }

    private Scalar read(int type, int at) {
        return switch (type) {
            case 0x01 -> new Scalar.Real(Double.longBitsToDouble(int64(at)));
            case 0x02 -> new Scalar.Text(new String(b, at + 4, int32(at) - 1, StandardCharsets.UTF_8));
            case 0x09 -> new Scalar.Time(int64(at));
            case 0x10 -> new Scalar.Int(int32(at));
            case 0x12 -> new Scalar.Int(int64(at));
            default -> Scalar.OPAQUE;
        };
    }

    // ---- the two walks' bookkeeping ----

    private int reserve() throws IOException {
        if (out == null) {
            lengths.add(0);
            return lengths.size() - 1;
        }
        int index = nextLength++;
        byte[] len = new byte[4];
        MaskedValues.putInt32(len, 0, lengths.get(index));
        out.write(len);
        return index;
    }

    private int close(int index, int size) throws IOException {
        if (out == null) {
            lengths.set(index, size);
        } else {
            out.write(0);
        }
        return size;
    }

    private int raw(int from, int to) throws IOException {
        return emit(b, from, to - from);
    }

    /** The element's type code {@code type}, then its name (from {@code nameStart} to the value). */
    private int raw(int nameStart, int valueStart, byte type) throws IOException {
        if (out != null) {
            out.write(type);
        }
        return 1 + emit(b, nameStart, valueStart - nameStart);
    }

    private int emit(byte[] bytes, int from, int count) throws IOException {
        if (out != null) {
            out.write(bytes, from, count);
        }
        return count;
    }

    // ---- reading BSON, every length checked against its container ----

    private int length(int off, int limit) throws Unmaskable {
        if (off + 5 > limit) {
            throw new Unmaskable("a document runs past its container");
        }
        int length = int32(off);
        if (length < 5 || off + length > limit || b[off + length - 1] != 0) {
            throw new Unmaskable("a document's length does not fit");
        }
        return length;
    }

    private int cstringEnd(int from, int end) throws Unmaskable {
        for (int i = from; i < end; i++) {
            if (b[i] == 0) {
                return i;
            }
        }
        throw new Unmaskable("a field name runs past its document");
    }

    private int valueSize(int type, int at, int end) throws Unmaskable {
        int size = switch (type) {
            case 0x01, 0x09, 0x11, 0x12 -> 8;
            case 0x02, 0x0D, 0x0E -> 4 + string(at, end);
            case 0x03, 0x04, 0x0F -> checkedInt(at, end);
            case 0x05 -> 5 + checkedInt(at, end);
            case 0x06, 0x0A, 0x7F, 0xFF -> 0;
            case 0x07 -> 12;
            case 0x08 -> 1;
            case 0x0B -> cstringEnd(cstringEnd(at, end) + 1, end) + 1 - at;
            case 0x0C -> 4 + checkedInt(at, end) + 12;
            case 0x10 -> 4;
            case 0x13 -> 16;
            default -> throw new Unmaskable("unknown BSON type " + type);
        };
        if (size < 0 || at + size > end) {
            throw new Unmaskable("a value runs past its document");
        }
        return size;
    }

    /** A string's declared length: at least its terminator, which must be there. */
    private int string(int at, int end) throws Unmaskable {
        int length = checkedInt(at, end);
        if (length < 1 || at + 4 + length > end || b[at + 4 + length - 1] != 0) {
            throw new Unmaskable("a string's length does not fit");
        }
        return length;
    }

    private int checkedInt(int at, int end) throws Unmaskable {
        if (at + 4 > end) {
            throw new Unmaskable("a length runs past its document");
        }
        int v = int32(at);
        if (v < 0) {
            throw new Unmaskable("a negative length");
        }
        return v;
    }

    private int int32(int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8 | (b[at + 2] & 0xFF) << 16 | (b[at + 3] & 0xFF) << 24;
    }

    private long int64(int at) {
        return (int32(at) & 0xFFFFFFFFL) | ((long) int32(at + 4)) << 32;
    }

}
