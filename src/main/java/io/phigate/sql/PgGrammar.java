package io.phigate.sql;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * PostgreSQL's own grammar: libpg_query (PostgreSQL 15's scanner and parser extracted as a C library; Debian's
 * {@code libpg-query1504.0}), called through the FFM API. The gateway reads statements with it so that where a
 * statement starts and ends, what is a comment, a string or an identifier, and what the parse tree is, are decided
 * by the server's own code rather than by a second reading that could differ (decision 0033).
 *
 * <p>Every entry point is thread-safe (libpg_query keeps its memory contexts per thread). A short text is read on
 * the caller's thread, pinning a virtual thread's carrier for a few microseconds; a long one, which could nest
 * deeper than a carrier's stack allows, on a grammar thread with a large stack.
 * Input is converted to UTF-8, the only client encoding analysed sessions may use, so byte offsets the library
 * reports are converted back to character offsets here, once.
 *
 * <p>When the library cannot be loaded, {@link #available()} is false and {@link #unavailableReason()} says why;
 * callers refuse analysed sessions rather than fall back to a weaker reading.
 */
public final class PgGrammar {

    /** Where Debian installs the runtime library; a name alone is tried after, through the loader's path. */
    private static final List<String> LIBRARY_NAMES = List.of(
            "/usr/lib/x86_64-linux-gnu/libpg_query.so.1504.0",
            "/usr/lib/aarch64-linux-gnu/libpg_query.so.1504.0",
            "libpg_query.so.1504.0", "libpg_query.so");

    /**
     * The parse tree's nesting is bounded by the parser's own stack (bison stops at 10,000 levels with "memory
     * exhausted"); a tree deeper than this is refused as too complex before Jackson or the analyser recurse into it.
     */
    static final int MAX_TREE_DEPTH = 1_000;

    /**
     * The library recurses on the native stack (about 800 bytes per tree level when it writes the tree out), and a
     * statement may nest up to the parser's 10,000 levels: 8 MB. A virtual thread's carrier has 1 MB, and an
     * overflow there ends the whole process, so every call on a text longer than {@link #INLINE_MAX_CHARS} runs on
     * one of these platform threads, whose stacks are reserved large and touched only as deep as a statement goes.
     */
    private static final long NATIVE_STACK_BYTES = 64L << 20;
    private static final ExecutorService CALLERS = Executors.newFixedThreadPool(
            Math.max(2, Runtime.getRuntime().availableProcessors()),
            Thread.ofPlatform().name("sql-grammar-", 0).daemon(true).stackSize(NATIVE_STACK_BYTES).factory());

    /**
     * A text this short cannot nest deeper than its length, and the deepest shapes of 2,000 characters (parentheses,
     * casts, subscripts, operator chains, CASE, sub-selects) were measured to need under 384 KiB of stack for the
     * library and the tree reader together; at half that length they need under 256 KiB. Such texts are read on
     * the caller's own thread (a virtual thread's carrier has the JVM's default stack), which saves the hand-off to
     * a grammar thread and back: 10 to 30 µs of parking and waking per call, several times a parse's own cost.
     */
    static final int INLINE_MAX_CHARS = 1_000;

    /**
     * The inline path needs the default thread stack (1 MiB on 64-bit Linux) or more; a JVM started with a smaller
     * {@code -Xss} sends every text to the grammar threads instead.
     */
    private static final long INLINE_MIN_STACK_KIB = 1_024;
    private static final boolean INLINE = threadStackKib() >= INLINE_MIN_STACK_KIB;

    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(MAX_TREE_DEPTH)
                    .maxStringLength(Integer.MAX_VALUE)
                    .maxNumberLength(100)
                    .build())
            .build());

    // struct PgQueryParseResult { char* parse_tree; char* stderr_buffer; PgQueryError* error; }
    private static final StructLayout PARSE_RESULT = MemoryLayout.structLayout(
            ValueLayout.ADDRESS.withName("parse_tree"), ValueLayout.ADDRESS.withName("stderr_buffer"),
            ValueLayout.ADDRESS.withName("error"));
    private static final long PARSE_TREE = 0;
    private static final long PARSE_ERROR = 16;
    // struct PgQueryScanResult { PgQueryProtobuf pbuf { size_t len; char* data; }; char* stderr_buffer; PgQueryError* error; }
    private static final StructLayout SCAN_RESULT = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("len"), ValueLayout.ADDRESS.withName("data"),
            ValueLayout.ADDRESS.withName("stderr_buffer"), ValueLayout.ADDRESS.withName("error"));
    private static final long SCAN_ERROR = 24;
    // struct PgQueryError { char* message; char* funcname; char* filename; int lineno; int cursorpos; char* context; }
    private static final StructLayout ERROR_LAYOUT = MemoryLayout.structLayout(
            ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS);

    private static final Native NATIVE = Native.load();

    private PgGrammar() {
    }

    /** True when libpg_query is loaded and statements can be read with the server's grammar. */
    public static boolean available() {
        return NATIVE.error == null;
    }

    /** Why the library is not available, or null when it is. */
    public static String unavailableReason() {
        return NATIVE.error;
    }

    /** The grammar's PostgreSQL version, as in {@code server_version_num} (150001 for libpg_query 15-4.0). */
    public static final int GRAMMAR_VERSION = 150001;

    /**
     * A syntax error as the server would report it.
     *
     * @param message  the server's message ({@code syntax error at or near "selec"})
     * @param position 1-based character position in the whole text, as in ErrorResponse's P field; 0 when none
     */
    public record SyntaxError(String message, int position) {
    }

    /**
     * One statement of a text, as the server's parser split it.
     *
     * @param start character offset of its first character (leading whitespace and comments excluded)
     * @param end   character offset just past its last character (the {@code ;} excluded)
     * @param tree  the statement's node ({@code {"SelectStmt": {...}}})
     */
    public record Statement(int start, int end, JsonNode tree) {
    }

    /**
     * A parsed text: its statements in order (an empty statement between two semicolons yields none, as the
     * server sends nothing for it), or the syntax error that rejects the whole text (the server parses a simple
     * Query's whole string before running any of it).
     */
    public record Parsed(List<Statement> statements, SyntaxError error) {
        public boolean ok() {
            return error == null;
        }
    }

    /** Reads {@code sql} with PostgreSQL's parser. */
    public static Parsed parse(String sql) {
        requireAvailable();
        return sql.length() <= INLINE_MAX_CHARS && INLINE ? parseHere(sql) : onGrammarThread(() -> parseHere(sql));
    }

    private static Parsed parseHere(String sql) {
        if (sql.indexOf('\0') >= 0) {
            // The wire protocol's strings end at NUL; a string holding one was not decoded from a frame.
            return new Parsed(List.of(), new SyntaxError("statement text contains a NUL character", 0));
        }
        byte[] utf8 = sql.getBytes(StandardCharsets.UTF_8);
        byte[] json;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment input = arena.allocateFrom(sql);
            MemorySegment result = (MemorySegment) NATIVE.parse.invokeExact((java.lang.foreign.SegmentAllocator) arena,
                    input);
            try {
                MemorySegment error = result.get(ValueLayout.ADDRESS, PARSE_ERROR);
                if (!error.equals(MemorySegment.NULL)) {
                    return new Parsed(List.of(), syntaxError(error));
                }
                json = bytes(result.get(ValueLayout.ADDRESS, PARSE_TREE));
            } finally {
                NATIVE.freeParse.invokeExact(result);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("libpg_query call failed", t);
        }
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JacksonException e) {
            return new Parsed(List.of(), new SyntaxError("statement is too complex to analyse (nested more than "
                    + MAX_TREE_DEPTH + " levels)", 0));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("reading the parse tree failed", e); // from a byte array: never
        }
        Offsets offsets = new Offsets(sql, utf8);
        String unreadable = NonPositiveIntegers.restore(root, json, sql, offsets);
        if (unreadable != null) {
            return new Parsed(List.of(), new SyntaxError(unreadable, 0));
        }
        List<Statement> out = new ArrayList<>();
        for (JsonNode raw : root.path("stmts")) {
            int from = raw.path("stmt_location").asInt(0);
            int len = raw.path("stmt_len").asInt(0);
            int to = len == 0 ? utf8.length : from + len;
            out.add(new Statement(offsets.charAt(from), offsets.charAt(to), raw.path("stmt")));
        }
        return new Parsed(List.copyOf(out), null);
    }

    /**
     * One token as PostgreSQL's scanner reads it (comments included, as {@code SQL_COMMENT} and {@code C_COMMENT}).
     *
     * @param start       character offset of its first character
     * @param end         character offset just past it
     * @param token       the scanner's token number (pg_query.proto's {@code Token}: 258 IDENT, 261 SCONST, ...;
     *                    single-character tokens are their character code)
     * @param keywordKind 0 none, 1 unreserved, 2 column name, 3 type or function name, 4 reserved
     */
    public record Token(int start, int end, int token, int keywordKind) {
        public static final int IDENT = 258;
        public static final int UIDENT = 259;
        public static final int FCONST = 260;
        public static final int SCONST = 261;
        public static final int USCONST = 262;
        public static final int BCONST = 263;
        public static final int XCONST = 264;
        public static final int OP = 265;
        public static final int ICONST = 266;
        public static final int PARAM = 267;
        public static final int SQL_COMMENT = 275;
        public static final int C_COMMENT = 276;

        public boolean isComment() {
            return token == SQL_COMMENT || token == C_COMMENT;
        }

        public boolean isKeyword() {
            return keywordKind != 0;
        }
    }

    /**
     * The tokens of {@code sql} as PostgreSQL's scanner reads them, or null when the scanner rejects the text
     * (an unterminated string or comment, say); {@link #parse} then reports the error.
     */
    public static List<Token> scan(String sql) {
        requireAvailable();
        return sql.length() <= INLINE_MAX_CHARS && INLINE ? scanHere(sql) : onGrammarThread(() -> scanHere(sql));
    }

    /** {@link #scan} on the caller's thread: for a caller already on a thread fit for the text. */
    static List<Token> scanHere(String sql) {
        if (sql.indexOf('\0') >= 0) {
            return null;
        }
        byte[] utf8 = sql.getBytes(StandardCharsets.UTF_8);
        byte[] pbuf;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment input = arena.allocateFrom(sql);
            MemorySegment result = (MemorySegment) NATIVE.scan.invokeExact((java.lang.foreign.SegmentAllocator) arena,
                    input);
            try {
                if (!result.get(ValueLayout.ADDRESS, SCAN_ERROR).equals(MemorySegment.NULL)) {
                    return null;
                }
                long len = result.get(ValueLayout.JAVA_LONG, 0);
                MemorySegment data = result.get(ValueLayout.ADDRESS, 8).reinterpret(len);
                pbuf = data.toArray(ValueLayout.JAVA_BYTE);
            } finally {
                NATIVE.freeScan.invokeExact(result);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("libpg_query call failed", t);
        }
        return ScanResultDecoder.tokens(pbuf, new Offsets(sql, utf8));
    }

    private static <T> T onGrammarThread(Callable<T> call) {
        Future<T> f = CALLERS.submit(call);
        try {
            return f.get();
        } catch (InterruptedException e) {
            f.cancel(false);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading a statement", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("reading a statement failed", e.getCause());
        }
    }

    /** The JVM's default thread stack in KiB ({@code -Xss}), or 0 when it cannot be read. */
    private static long threadStackKib() {
        try {
            return Long.parseLong(java.lang.management.ManagementFactory
                    .getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
                    .getVMOption("ThreadStackSize").getValue());
        } catch (RuntimeException e) {
            return 0;
        }
    }

    private static void requireAvailable() {
        if (NATIVE.error != null) {
            throw new IllegalStateException("PostgreSQL's grammar is not available: " + NATIVE.error);
        }
    }

    private static SyntaxError syntaxError(MemorySegment error) {
        MemorySegment e = error.reinterpret(ERROR_LAYOUT.byteSize());
        String message = string(e.get(ValueLayout.ADDRESS, 0));
        int cursor = e.get(ValueLayout.JAVA_INT, 28);
        return new SyntaxError(message, Math.max(cursor, 0));
    }

    /**
     * A C string's bytes, without decoding: the tree is read from UTF-8 bytes directly, which spares a String and
     * lets Jackson use its byte parser.
     */
    private static byte[] bytes(MemorySegment cString) {
        if (cString.equals(MemorySegment.NULL)) {
            return new byte[0];
        }
        try {
            long length = (long) NATIVE.strlen.invokeExact(cString);
            return cString.reinterpret(length).toArray(ValueLayout.JAVA_BYTE);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("strlen failed", t);
        }
    }

    private static String string(MemorySegment cString) {
        if (cString.equals(MemorySegment.NULL)) {
            return "";
        }
        return cString.reinterpret(Long.MAX_VALUE).getString(0, StandardCharsets.UTF_8);
    }

    /** Maps UTF-8 byte offsets of one text to its character (UTF-16 index) offsets. */
    static final class Offsets {
        private final int[] charOfByte;

        Offsets(String text, byte[] utf8) {
            charOfByte = new int[utf8.length + 1];
            int b = 0;
            for (int c = 0; c < text.length(); ) {
                int cp = text.codePointAt(c);
                int bytes = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
                for (int k = 0; k < bytes; k++) {
                    charOfByte[b + k] = c;
                }
                b += bytes;
                c += Character.charCount(cp);
            }
            charOfByte[utf8.length] = text.length();
        }

        int charAt(int byteOffset) {
            return charOfByte[Math.clamp(byteOffset, 0, charOfByte.length - 1)];
        }
    }

    /** The library's entry points, or the reason it could not be loaded. */
    private record Native(MethodHandle parse, MethodHandle freeParse, MethodHandle scan, MethodHandle freeScan,
                          MethodHandle strlen, String error) {

        static Native load() {
            String last = "libpg_query not found (install Debian's libpg-query1504.0)";
            for (String name : LIBRARY_NAMES) {
                try {
                    SymbolLookup lib = name.startsWith("/")
                            ? SymbolLookup.libraryLookup(java.nio.file.Path.of(name), Arena.global())
                            : SymbolLookup.libraryLookup(name, Arena.global());
                    Linker linker = Linker.nativeLinker();
                    MethodHandle parse = linker.downcallHandle(lib.findOrThrow("pg_query_parse"),
                            FunctionDescriptor.of(PARSE_RESULT, ValueLayout.ADDRESS));
                    MethodHandle freeParse = linker.downcallHandle(lib.findOrThrow("pg_query_free_parse_result"),
                            FunctionDescriptor.ofVoid(PARSE_RESULT));
                    MethodHandle scan = linker.downcallHandle(lib.findOrThrow("pg_query_scan"),
                            FunctionDescriptor.of(SCAN_RESULT, ValueLayout.ADDRESS));
                    MethodHandle freeScan = linker.downcallHandle(lib.findOrThrow("pg_query_free_scan_result"),
                            FunctionDescriptor.ofVoid(SCAN_RESULT));
                    MethodHandle strlen = linker.downcallHandle(linker.defaultLookup().findOrThrow("strlen"),
                            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
                    return new Native(parse, freeParse, scan, freeScan, strlen, null);
                } catch (IllegalArgumentException | java.util.NoSuchElementException | IllegalCallerException e) {
                    last = "cannot load " + name + ": " + e.getMessage();
                }
            }
            return new Native(null, null, null, null, null, last);
        }
    }
}
