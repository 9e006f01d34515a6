package io.phigate.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit write-ahead journal (decision 0021): the point a statement waits for. A folder of segment files,
 * {@code 00000000000000000001.seg} and up, each a run of frames {@code [int length][int crc32c][payload]}, one
 * frame per record with its place in the hash chain already computed. {@link JournalWriter} appends and fsyncs
 * them; {@link JournalIngester} reads them into the store and deletes a segment once the store holds all of it.
 *
 * <p>What can be found after a crash: a torn last frame (bad length or CRC) was never acknowledged and is cut
 * off. After a failed write the writer starts a new segment and takes the chain back to the last durable record,
 * so a later segment may begin at a chain position an earlier one already holds; the later segment wins, since
 * only it can hold acknowledged records from that position on ({@link #recover}).
 */
final class AuditJournal {

    /** One record as read back from the journal: the row and its place in the replica's chain. */
    record Entry(long seq, String prevHash, String hash, AuditRow row) {
    }

    /**
     * A segment file. {@code durableEnd} is how far its frames are fsync'd (written by the writer thread, read by
     * the ingester); frames at or past {@code limitSeq} are superseded by a later segment (set by recovery only).
     * {@code sealed}: the writer has moved on, so {@code durableEnd} will not grow.
     */
    static final class Segment {
        final long id;
        final Path path;
        volatile long durableEnd;
        volatile boolean sealed;
        volatile long limitSeq = Long.MAX_VALUE;
        /** Began as the zero-filled spare (writer thread only). */
        boolean preallocated;

        Segment(long id, Path path) {
            this.id = id;
            this.path = path;
        }

        @Override
        public String toString() {
            return path.getFileName() + "[" + durableEnd + (sealed ? ", sealed" : "") + "]";
        }
    }

    static final int HEADER = 8;
    /** Frames may carry a recorded response of up to {@code response_cap} (at most 1 GiB) plus the row. */
    static final int MAX_FRAME = Integer.MAX_VALUE - 64;
    static final long SEGMENT_BYTES = 64L * 1024 * 1024;
    /** Frames this build writes: the chain place as raw bytes, the body encoded by the producer ({@link #body}). */
    private static final byte VERSION = 2;
    /** Frames of builds before decision 0067: read, never written. */
    private static final byte VERSION_1 = 1;
    private static final String SUFFIX = ".seg";
    /**
     * A zero-filled file the size of a segment, made ahead of need and renamed into place as the next segment
     * (decision 0023). fdatasync on a file that grows also commits its new size (a file-system journal
     * transaction); within allocated blocks it writes only the data: measured here 430 vs 300 µs per durable
     * group, and about 40 % less CPU.
     */
    private static final String SPARE = "spare.zeros";
    private static final String SPARE_PARTIAL = "spare.zeros.partial";
    private static final int NO_SPARE = 0;
    private static final int FILLING = 1;
    private static final int SPARE_READY = 2;
    /** Preallocation failed once (a full disk, say): segments grow as they did; the log said why. */
    private static final int SPARE_OFF = 3;
    private static final Logger log = LoggerFactory.getLogger(AuditJournal.class);

    final Path dir;
    /** A segment is sealed once it holds this many bytes; the spare is this size. */
    final long segmentBytes;
    private final java.util.concurrent.atomic.AtomicInteger spare =
            new java.util.concurrent.atomic.AtomicInteger(NO_SPARE);
    private volatile Thread filler;
    private volatile boolean closing;
    /** Segments that began as a spare, for tests and the performance notes. */
    final java.util.concurrent.atomic.LongAdder preallocated = new java.util.concurrent.atomic.LongAdder();
    /** Segments not yet wholly ingested, oldest first; the writer adds at the tail, the ingester removes the head. */
    final ConcurrentLinkedDeque<Segment> segments = new ConcurrentLinkedDeque<>();
    /** The newest segment's id this process created or found at open; the writer's, in {@link #create}. */
    private long newestId = -1;
    private final FileChannel lockFile;
    private final FileLock lock;

    private AuditJournal(Path dir, long segmentBytes, FileChannel lockFile, FileLock lock) {
        this.dir = dir;
        this.segmentBytes = segmentBytes;
        this.lockFile = lockFile;
        this.lock = lock;
    }

    /**
     * Opens the folder (creating it), takes its lock so no second gateway journals into it, and recovers what is
     * there: torn tails cut off, every segment sealed and queued for the ingester.
     */
    static AuditJournal open(Path dir) throws IOException {
        return open(dir, SEGMENT_BYTES);
    }

    static AuditJournal open(Path dir, long segmentBytes) throws IOException {
        Files.createDirectories(dir);
        FileChannel lockFile = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = lockFile.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException e) {
            lock = null; // held by another store in this process
        } catch (IOException | RuntimeException e) {
            lockFile.close();
            throw e;
        }
        if (lock == null) {
            lockFile.close();
            throw new IOException("audit journal " + dir + " is in use by another gateway");
        }
        var journal = new AuditJournal(dir, segmentBytes, lockFile, lock);
        try {
            // A spare from before a restart is made again when needed rather than trusted.
            Files.deleteIfExists(dir.resolve(SPARE));
            Files.deleteIfExists(dir.resolve(SPARE_PARTIAL));
            journal.segments.addAll(recover(dir));
        } catch (IOException | RuntimeException e) {
            journal.close();
            throw e;
        }
        return journal;
    }

    /**
     * The segments in the folder, each scanned to its last whole frame; a torn tail is truncated (it was never
     * acknowledged: the writer acknowledges only after the frames are fsync'd) and the cut fsync'd.
     */
    static List<Segment> recover(Path dir) throws IOException {
        List<Segment> found = new ArrayList<>();
        for (Path p : segmentFiles(dir)) {
            String name = p.getFileName().toString();
            var s = new Segment(Long.parseLong(name.substring(0, name.length() - SUFFIX.length())), p);
            s.sealed = true;
            found.add(s);
        }
        long[] firstSeq = new long[found.size()];
        for (int i = 0; i < found.size(); i++) {
            Segment s = found.get(i);
            try (FileChannel ch = FileChannel.open(s.path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                var reader = new Reader(ch, 0, ch.size());
                Entry first = null;
                Entry e;
                while ((e = reader.next()) != null) {
                    if (first == null) {
                        first = e;
                    }
                }
                s.durableEnd = reader.position();
                if (reader.torn() && zeros(ch, s.durableEnd)) {
                    // The unused end of a segment that began as a spare: nothing was written there.
                    ch.truncate(s.durableEnd);
                    ch.force(true);
                } else if (reader.torn()) {
                    // Logged with positions only: the bytes are a record's, and may hold PHI.
                    log.warn("audit journal {}: cutting a torn tail of {} bytes at {} (never acknowledged)",
                            s.path.getFileName(), ch.size() - s.durableEnd, s.durableEnd);
                    ch.truncate(s.durableEnd);
                    ch.force(true);
                }
                firstSeq[i] = first == null ? Long.MAX_VALUE : first.seq();
            }
        }
        long later = Long.MAX_VALUE;
        for (int i = found.size() - 1; i >= 0; i--) {
            found.get(i).limitSeq = later;
            later = Math.min(later, firstSeq[i]);
        }
        return found;
    }

    static List<Path> segmentFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().matches("[0-9]{20}\\.seg")).sorted().toList();
        }
    }

    /** True when the file holds only zero bytes from {@code from} to its end. */
    private static boolean zeros(FileChannel ch, long from) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(256 * 1024);
        for (long at = from; at < ch.size(); ) {
            b.clear();
            int n = ch.read(b, at);
            if (n < 0) {
                break;
            }
            for (int i = 0; i < n; i++) {
                if (b.get(i) != 0) {
                    return false;
                }
            }
            at += n;
        }
        return true;
    }

    /**
     * A new segment after every existing one, its directory entry fsync'd so a crash cannot lose it: the spare,
     * zero-filled to {@link #segmentBytes}, when one is ready, else an empty file.
     */
    Segment create() throws IOException {
        // Not from segments alone: the ingester removes its head at any moment, so isEmpty() then getLast() threw
        // NoSuchElementException when it took the only segment in between (seen at 2,000 sessions opening at
        // once), and an empty list sent the numbering back to the oldest file left in the folder.
        if (newestId < 0) {
            newestId = lastId();
        }
        Segment newest = segments.peekLast();
        long id = Math.max(newestId, newest == null ? 0 : newest.id) + 1;
        Path p = dir.resolve(String.format("%020d%s", id, SUFFIX));
        if (Files.exists(p)) {
            throw new java.nio.file.FileAlreadyExistsException(p.toString());
        }
        boolean fromSpare = false;
        if (spare.get() == SPARE_READY) {
            spare.set(NO_SPARE);
            try {
                Files.move(dir.resolve(SPARE), p, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                fromSpare = true;
                preallocated.increment();
            } catch (IOException e) {
                spare.set(SPARE_OFF); // not again: each attempt would write a segment's worth of zeros for nothing
                log.warn("audit journal {}: the spare segment cannot be used ({}); segments grow from now on", dir,
                        e.getMessage());
            }
        }
        if (!fromSpare) {
            Files.newByteChannel(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
        }
        syncDirectory();
        var s = new Segment(id, p);
        s.preallocated = fromSpare;
        newestId = id;
        segments.addLast(s);
        return s;
    }

    private long lastId() throws IOException {
        List<Path> files = segmentFiles(dir);
        if (files.isEmpty()) {
            return 0;
        }
        String name = files.getLast().getFileName().toString();
        return Long.parseLong(name.substring(0, name.length() - SUFFIX.length()));
    }

    void syncDirectory() throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /**
     * Called by the writer after each group written to {@code s}: asks for the spare once a preallocated segment
     * is a quarter full, or a growing one (the first, or any after preallocation failed) holds 1/64 of a segment,
     * so a gateway that journals little never writes one.
     */
    void written(Segment s) {
        if (s.durableEnd >= (s.preallocated ? segmentBytes / 4 : Math.max(HEADER, segmentBytes / 64))) {
            prepareSpare();
        }
    }

    /**
     * True when the writer must seal {@code s} before its next group: it is full, or it grows and a spare is
     * ready, so a busy gateway's first segment is a short one and fdatasync from then on never grows a file.
     */
    boolean due(Segment s) {
        return s.durableEnd >= segmentBytes || (!s.preallocated && spareReady());
    }

    /** Starts making the spare on a background thread unless one is ready or being made. */
    void prepareSpare() {
        if (!spare.compareAndSet(NO_SPARE, FILLING)) {
            return;
        }
        filler = Thread.ofPlatform().name("phigate-audit-spare").daemon(true).start(this::fillSpare);
    }

    /** True while a spare is ready for the next segment. */
    boolean spareReady() {
        return spare.get() == SPARE_READY;
    }

    private void fillSpare() {
        Path partial = dir.resolve(SPARE_PARTIAL);
        try {
            try (FileChannel ch = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer zeros = ByteBuffer.allocate(1 << 20);
                for (long at = 0; at < segmentBytes && !closing; ) {
                    zeros.clear().limit((int) Math.min(zeros.capacity(), segmentBytes - at));
                    while (zeros.hasRemaining()) {
                        at += ch.write(zeros, at);
                    }
                    if (at % (8 << 20) == 0) {
                        ch.force(false); // in steps, so one large flush does not stall the journal's own fsyncs
                    }
                }
                ch.force(true);
            }
            if (closing) {
                Files.deleteIfExists(partial);
                spare.set(NO_SPARE);
                return;
            }
            Files.move(partial, dir.resolve(SPARE), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            spare.set(SPARE_READY);
        } catch (IOException | RuntimeException e) {
            spare.set(SPARE_OFF);
            log.warn("audit journal {}: cannot make a spare segment; segments grow as they are written: {}", dir,
                    AuditWriter.reason(e));
            try {
                Files.deleteIfExists(partial);
            } catch (IOException ignored) {
                // Deleted at the next start.
            }
        }
    }

    void close() {
        closing = true;
        Thread f = filler;
        if (f != null) {
            try {
                f.join(); // stops within one 1 MiB write; it must not write into the folder once unlocked
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            Files.deleteIfExists(dir.resolve(SPARE));
        } catch (IOException e) {
            log.warn("audit journal {}: spare segment not deleted: {}", dir, e.getMessage());
        }
        try {
            lock.release();
        } catch (IOException ignored) {
            // Closing the channel releases it too.
        }
        try {
            lockFile.close();
        } catch (IOException e) {
            log.warn("audit journal {} lock did not close cleanly: {}", dir, e.getMessage());
        }
    }

    /** Bytes in segment files not yet deleted: an upper bound on what the store has not taken. */
    static long bytesOnDisk(Path dir) throws IOException {
        long total = 0;
        for (Path p : segmentFiles(dir)) {
            total += Files.size(p);
        }
        return total;
    }

    // --- Frames ---------------------------------------------------------------------------------------------

    /**
     * A record's frame body: every value of its row after its place in the chain, in the layout of version 1's frame
     * from {@code time} on, except the recorded response's bytes, which end the frame. Encoded once, on the
     * producer's thread, from the UTF-8 values the record hash encodes too ({@code utf8}, aligned with
     * {@link RecordHash#COLUMNS}); the writer copies it behind the chain place, and the response's bytes from the row
     * behind it, so a large recording is copied once, into the group's buffer.
     */
    static byte[] body(AuditRow r, byte[][] utf8) {
        AuditRow.Result res = r.result();
        AuditEvent.RecordedResponse resp = r.response();
        int size = longSize(r.statementId()) + longSize(res == null ? null : res.rowCount())
                + longSize(res == null ? null : res.durationMicros()) + 1;
        for (int c : BODY_STRINGS) {
            size += 4 + (utf8[c] == null ? 0 : utf8[c].length);
        }
        if (resp != null) {
            size += 8 + 4 + (utf8[RESPONSE_DIGEST] == null ? 0 : utf8[RESPONSE_DIGEST].length);
        }
        ByteBuffer out = ByteBuffer.allocate(size);
        for (int c = 0; c < BODY_STRINGS.length; c++) {
            putBytes(out, utf8[BODY_STRINGS[c]]);
            if (c == 2) {
                putLong(out, r.statementId());
            } else if (c == 14) {
                putLong(out, res == null ? null : res.rowCount());
                putLong(out, res == null ? null : res.durationMicros());
            }
        }
        if (resp == null) {
            out.put((byte) 0);
        } else {
            out.put((byte) (resp.truncated() ? 2 : 1)).putLong(resp.bytes());
            putBytes(out, utf8[RESPONSE_DIGEST]); // the recorded bytes follow, put by the writer (encode)
        }
        if (out.hasRemaining()) {
            throw new IllegalStateException("journal body measured " + size + " bytes, wrote " + out.position());
        }
        return out.array();
    }

    /**
     * The {@link RecordHash#COLUMNS} a body holds as strings, in body order: time, kind, session_id, (statement_id),
     * the peer's four, the request's five, outcome, sqlstate, command_tag, (row_count, duration_us), detail.
     */
    private static final int[] BODY_STRINGS = {3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 21};
    private static final int RESPONSE_DIGEST = 23;
    /** Version, sequence number, previous hash and hash, between the frame header and the body. */
    static final int PLACE = 1 + 8 + 32 + 32;

    /**
     * Appends one version-2 frame to {@code out}, growing it as needed; returns the (possibly new) buffer. The
     * record's place in the chain ({@code seq}, the raw 32-byte hashes), the producer's {@link #body} and, when the
     * row has a recorded response ({@code response}, the row's), its bytes.
     */
    static ByteBuffer encode(ByteBuffer out, long seq, byte[] prevHash, byte[] hash, byte[] body,
                             AuditEvent.RecordedResponse response, CRC32C crc) {
        byte[] recorded = response == null ? null : response.deflated();
        long size = (long) PLACE + body.length + (response == null ? 0 : 4 + (recorded == null ? 0 : recorded.length));
        if (size > MAX_FRAME) {
            throw new IllegalArgumentException("an audit record of " + size + " bytes is over the journal's frame size");
        }
        int length = (int) size;
        out = ensure(out, HEADER + length);
        int start = out.position();
        out.position(start + HEADER);
        out.put(VERSION).putLong(seq).put(prevHash, 0, 32).put(hash, 0, 32).put(body);
        if (response != null) {
            putBytes(out, recorded);
        }
        crc.reset();
        crc.update(out.array(), out.arrayOffset() + start + HEADER, length);
        out.putInt(start, length).putInt(start + 4, (int) crc.getValue());
        return out;
    }

    private static ByteBuffer ensure(ByteBuffer b, int more) {
        if (b.remaining() >= more) {
            return b;
        }
        long want = Math.max((long) b.capacity() * 2, (long) b.position() + more);
        var bigger = ByteBuffer.allocate((int) Math.min(want, Integer.MAX_VALUE - 8));
        b.flip();
        bigger.put(b);
        return bigger;
    }

    private static void putBytes(ByteBuffer b, byte[] v) {
        if (v == null) {
            b.putInt(-1);
        } else {
            b.putInt(v.length).put(v);
        }
    }

    private static int longSize(Long v) {
        return v == null ? 1 : 9;
    }

    private static void putLong(ByteBuffer b, Long v) {
        if (v == null) {
            b.put((byte) 0);
        } else {
            b.put((byte) 1).putLong(v);
        }
    }

    /**
     * One frame's record, of either version. Version 1 (every build before 0067) spells the place in the chain as
     * strings, the replica included: {@code [1][seq][replica][prev hex][hash hex]}; version 2 as raw bytes:
     * {@code [2][seq][prev 32][hash 32]}. The rest is the same in both ({@link #body}), so a journal a previous
     * build left is replayed after an upgrade as it was written.
     */
    static Entry decode(ByteBuffer p) {
        return decode(p, null);
    }

    /**
     * {@link #decode(ByteBuffer)}; a version-2 frame whose previous hash is {@code after}'s hash reuses its text
     * (within a run of frames it always is), so a record's two hashes cost one hex text, not two.
     */
    static Entry decode(ByteBuffer p, Entry after) {
        byte version = p.get();
        long seq = p.getLong();
        String prev;
        String hash;
        if (version == VERSION) {
            if (after != null && sameHash(p, after.hash())) {
                prev = after.hash();
                p.position(p.position() + 32);
            } else {
                prev = getHex(p);
            }
            hash = getHex(p);
        } else if (version == VERSION_1) {
            getString(p); // replica: one journal holds one replica's chain
            prev = getString(p);
            hash = getString(p);
        } else {
            throw new IllegalArgumentException("unknown audit journal frame version");
        }
        String time = getString(p);
        String kind = getString(p);
        String session = getString(p);
        Long statementId = getLong(p);
        var peer = new AuditRow.Peer(getString(p), getString(p), getString(p), getString(p));
        var request = new AuditRow.Request(getString(p), getString(p), getString(p), getString(p), getString(p));
        String outcome = getString(p);
        String sqlState = getString(p);
        String tag = getString(p);
        var result = new AuditRow.Result(outcome, sqlState, tag, getLong(p), getLong(p));
        String detail = getString(p);
        byte flag = p.get();
        AuditEvent.RecordedResponse response = null;
        if (flag != 0) {
            long bytes = p.getLong();
            String sha = getString(p);
            response = new AuditEvent.RecordedResponse(bytes, sha, getBytes(p), flag == 2);
        }
        return new Entry(seq, prev, hash,
                new AuditRow(time, kind, session, statementId, peer, request, result, detail, response));
    }

    /** True when the 32 bytes at {@code p}'s position are the hash whose hex text is {@code hex}. */
    private static boolean sameHash(ByteBuffer p, String hex) {
        if (hex == null || hex.length() != 64) {
            return false;
        }
        int at = p.position();
        for (int i = 0; i < 32; i++) {
            int b = p.get(at + i);
            if (hex.charAt(2 * i) != HEX.charAt((b >> 4) & 0xf) || hex.charAt(2 * i + 1) != HEX.charAt(b & 0xf)) {
                return false;
            }
        }
        return true;
    }

    private static final String HEX = "0123456789abcdef";

    private static String getHex(ByteBuffer p) {
        byte[] raw = new byte[32];
        p.get(raw);
        return RecordHash.hex(raw);
    }

    /** Decoded in place from the reader's window: no intermediate array per value. */
    private static String getString(ByteBuffer p) {
        int n = p.getInt();
        if (n < 0) {
            return null;
        }
        if (n > p.remaining()) {
            throw new IllegalArgumentException("a value runs past its frame");
        }
        String s = new String(p.array(), p.arrayOffset() + p.position(), n, StandardCharsets.UTF_8);
        p.position(p.position() + n);
        return s;
    }

    private static byte[] getBytes(ByteBuffer p) {
        int n = p.getInt();
        if (n < 0) {
            return null;
        }
        byte[] b = new byte[n];
        p.get(b);
        return b;
    }

    private static Long getLong(ByteBuffer p) {
        return p.get() == 0 ? null : p.getLong();
    }

    static byte[] hashBytes(String hex) {
        return HexFormat.of().parseHex(hex);
    }

    /**
     * Reads whole frames of one segment from {@code position} up to {@code end}. Stops at the first frame that is
     * cut short or fails its CRC ({@link #torn()}); never reads past {@code end}.
     */
    static final class Reader {
        /** One read fetches this much (or to {@code end}): a group of records costs one pread, not two per record. */
        private static final int WINDOW = 256 * 1024;

        private final FileChannel channel;
        private final long end;
        private long position;
        private boolean torn;
        /** Bytes of the file from {@code windowAt}; holds whole frames from {@code position} on when it can. */
        private ByteBuffer window = ByteBuffer.allocate(0);
        private long windowAt;
        private int lastFrameBytes;
        private Entry last;

        Reader(FileChannel channel, long position, long end) {
            this.channel = channel;
            this.position = position;
            this.end = end;
        }

        /** The next whole frame's entry, or null at {@code end} or at a torn frame. */
        Entry next() throws IOException {
            if (torn || end - position < HEADER) {
                torn = torn || end > position;
                return null;
            }
            ByteBuffer w = have(HEADER);
            int at = (int) (position - windowAt);
            int length = w.getInt(at);
            int crc = w.getInt(at + 4);
            if (length <= 0 || length > MAX_FRAME || length > end - position - HEADER) {
                torn = true;
                return null;
            }
            w = have(HEADER + length);
            at = (int) (position - windowAt);
            ByteBuffer payload = w.slice(at + HEADER, length);
            var check = new CRC32C();
            check.update(payload.duplicate());
            if ((int) check.getValue() != crc) {
                torn = true;
                return null;
            }
            Entry e;
            try {
                e = decode(payload, last);
            } catch (RuntimeException bad) {
                // A frame with a good CRC that does not decode was written by a different build: not a torn tail.
                throw new IOException("audit journal frame at " + position + " cannot be read ("
                        + bad.getClass().getSimpleName() + ")", bad);
            }
            lastFrameBytes = HEADER + length;
            position += lastFrameBytes;
            last = e;
            return e;
        }

        /** The window, refilled from {@code position} unless it already holds {@code bytes} bytes from there. */
        private ByteBuffer have(int bytes) throws IOException {
            long from = position - windowAt;
            if (from >= 0 && from + bytes <= window.limit()) {
                return window;
            }
            int want = (int) Math.min(end - position, Math.max(WINDOW, bytes));
            if (window.capacity() < want) {
                window = ByteBuffer.allocate(want);
            }
            window.clear().limit(want);
            while (window.hasRemaining()) {
                int n = channel.read(window, position + window.position());
                if (n < 0) {
                    throw new IOException("audit journal segment ended early");
                }
            }
            window.flip();
            windowAt = position;
            return window;
        }

        long position() {
            return position;
        }

        int lastFrameBytes() {
            return lastFrameBytes;
        }

        boolean torn() {
            return torn;
        }
    }
}
