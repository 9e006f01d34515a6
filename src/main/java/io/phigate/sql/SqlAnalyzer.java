package io.phigate.sql;

import static io.phigate.sql.Tree.body;
import static io.phigate.sql.Tree.is;
import static io.phigate.sql.Tree.text;

import com.fasterxml.jackson.databind.JsonNode;
import io.phigate.sql.Lineage.Col;
import io.phigate.sql.Lineage.ViewInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Tells what each statement of a SQL string does: its form, operations, the relations it reads and writes, where
 * every result column's values come from (see {@link OutputColumn}), and the facts deny-by-default rules judge
 * ({@link StatementFacts}).
 *
 * <p>The text is read by PostgreSQL's own parser ({@link PgGrammar}): where statements start and end, what is a
 * comment, a string or a name, how names fold and what the parse tree is are the server's decisions, not a second
 * reading that could differ (decision 0034). Analysis then walks the tree: queries and DML in {@link Lineage},
 * utility statements in {@link StatementReader}.
 *
 * <p>Thread-safe: one instance per catalog is meant to be shared by every session of an upstream. It never throws
 * on input: a text the server's grammar rejects comes back as one {@link StatementAnalysis#syntaxError}, which
 * callers refuse with the server's own message and position. Results are cached by statement text (bounded LRU,
 * from a text's second analysis on); a new catalog means a new analyser, or {@link #clearCache()}.
 */
public final class SqlAnalyzer {
    /** What the fuzz targets allow one statement's analysis; the grammar itself takes microseconds. */
    static final Duration PARSE_TIMEOUT = Duration.ofSeconds(2);
    private static final int CACHE_ENTRIES = 2048;
    /** Longer texts are analysed every time rather than filling the cache. */
    private static final int CACHE_MAX_CHARS = 16 * 1024;
    private static final int MAX_VIEW_DEPTH = 16;
    /**
     * Slots of the admission filter: a text enters the cache the second time it is analysed while its hash still
     * holds its slot. 16,384 ints (64 KiB) per upstream's analyser; at a few thousand one-off texts a second, a text
     * that repeats within a second is admitted on its second or third sighting.
     */
    private static final int SEEN_SLOTS = 1 << 14;

    private final Catalog catalog;
    private final int cacheEntries;
    private final Map<String, List<StatementAnalysis>> cache;
    /**
     * Hashes of texts analysed once and not cached (null without a cache). Simple-protocol clients send new literals
     * in nearly every text (pgbench's TPC-B: five of seven statements); caching each of them churned the LRU map
     * under its lock and kept 2,048 analyses no one asked for again alive into the old generation (measured at 2-3
     * µs of process CPU per statement). Only admission depends on it: a hit is still an exact-text match, and a
     * text not cached is analysed afresh, as an analyser without a cache analyses every text.
     */
    private final AtomicIntegerArray seenOnce;
    private final Map<TableRef, Optional<ViewInfo>> views = new ConcurrentHashMap<>();

    public SqlAnalyzer(Catalog catalog) {
        this(catalog, CACHE_ENTRIES);
    }

    /** {@code cacheEntries} 0 analyses every text afresh (benchmarks; callers that cache elsewhere). */
    public SqlAnalyzer(Catalog catalog, int cacheEntries) {
        this.catalog = catalog;
        this.cacheEntries = cacheEntries;
        this.seenOnce = cacheEntries > 0 ? new AtomicIntegerArray(SEEN_SLOTS) : null;
        this.cache = Collections.synchronizedMap(new LinkedHashMap<>(256, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, List<StatementAnalysis>> eldest) {
                return size() > cacheEntries;
            }
        });
    }

    public Catalog catalog() {
        return catalog;
    }

    /** Forgets cached analyses and view definitions. */
    public void clearCache() {
        cache.clear();
        views.clear();
    }

    /**
     * One analysis per statement the server will run, in order, so that the i-th analysis plans the i-th
     * CommandComplete's results. Empty statements ({@code ;;}, a comment alone) yield none, as the server sends
     * nothing for them; a text with no statement at all gives one {@link StatementKind#EMPTY}, for the one
     * EmptyQueryResponse the server sends. A text the grammar rejects gives one unparsed analysis: the server
     * runs none of a simple Query whose parse fails.
     */
    public List<StatementAnalysis> analyze(String sql) {
        if (sql == null) {
            return List.of(StatementAnalysis.unparsed("", "no statement text"));
        }
        boolean cacheable = cacheEntries > 0 && sql.length() <= CACHE_MAX_CHARS;
        if (cacheable) {
            List<StatementAnalysis> hit = cache.get(sql);
            if (hit != null) {
                return hit;
            }
        }
        List<StatementAnalysis> out = List.copyOf(read(sql));
        if (cacheable && seenBefore(sql)) {
            cache.put(sql, out);
        }
        return out;
    }

    /** True when {@code sql}'s hash holds its admission slot (seen before); otherwise it takes the slot. */
    private boolean seenBefore(String sql) {
        int hash = sql.hashCode();
        int slot = (hash ^ hash >>> 16) & (SEEN_SLOTS - 1);
        if (seenOnce.get(slot) == hash) {
            return true;
        }
        seenOnce.set(slot, hash);
        return false;
    }

    private List<StatementAnalysis> read(String sql) {
        PgGrammar.Parsed parsed = PgGrammar.parse(sql);
        if (!parsed.ok()) {
            return List.of(StatementAnalysis.syntaxError(sql, parsed.error().message(), parsed.error().position()));
        }
        if (parsed.statements().isEmpty()) {
            return List.of(new StatementReader.Result(StatementKind.EMPTY).build(""));
        }
        String whole = parsed.statements().size() == 1 ? plainText(sql) : null;
        List<PgGrammar.Token> tokens = whole != null ? null : PgGrammar.scan(sql);
        List<StatementAnalysis> out = new ArrayList<>(parsed.statements().size());
        int next = 0;
        for (PgGrammar.Statement s : parsed.statements()) {
            String text = whole;
            if (tokens != null) {
                // Statements and tokens are both in text order: one pass over the tokens serves every statement.
                int from = -1;
                int to = -1;
                while (next < tokens.size() && tokens.get(next).start() < s.end()) {
                    PgGrammar.Token t = tokens.get(next++);
                    if (t.start() >= s.start() && !t.isComment() && t.token() != ';') {
                        from = from < 0 ? t.start() : from;
                        to = t.end();
                    }
                }
                text = from < 0 ? sql.substring(s.start(), s.end()).strip() : sql.substring(from, to);
            }
            out.add(analyzeOne(s.tree(), text));
        }
        return out;
    }

    /**
     * The text of a text holding one statement, when it can be read without the scanner: no comment can start in
     * it (PostgreSQL's scanner starts one only at {@code --} or {@code /*}, and ends an operator before either), it
     * starts with a letter, and what is left after the terminating semicolons and the server's whitespace
     * ({@code [ \t\n\r\f]}, not Unicode's) ends with a letter, a digit or {@code )}, so the last token ends there
     * (in a text the grammar accepted, no string or quoted name is left open to hold what was cut). Otherwise null,
     * and the scanner's tokens delimit it. Drivers' statements are mostly of this kind
     * ({@code UPDATE ... SET b = b + -42 WHERE aid = 12345;}, {@code INSERT ... VALUES (1, 2)}), and the scan is a
     * second call into the library. {@code SqlAnalyzerTest} checks it against the scanner over every text of a
     * small alphabet of the characters that matter.
     */
    static String plainText(String sql) {
        if (sql.isEmpty() || !Character.isLetter(sql.charAt(0)) || sql.contains("--") || sql.contains("/*")) {
            return null;
        }
        int end = sql.length();
        while (end > 0 && " \t\n\r\f;".indexOf(sql.charAt(end - 1)) >= 0) {
            end--;
        }
        if (end == 0) {
            return null;
        }
        char last = sql.charAt(end - 1);
        return Character.isLetterOrDigit(last) || last == ')' ? sql.substring(0, end) : null;
    }

    private StatementAnalysis analyzeOne(JsonNode tree, String text) {
        try {
            // One walk over every field of the tree serves the readers that must miss nothing the text holds, and
            // says whether a sequence may be written at all: most statements name no call, and then the lineage
            // walk is spared a second walk over the whole tree looking for nextval (decision 0083).
            Set<String> typeNames = new LinkedHashSet<>();
            Set<StatementFacts.FunctionCall> everyCall = new LinkedHashSet<>();
            boolean[] callsSomething = {false};
            Tree.everyField(tree, (field, value) -> {
                EveryCall.visit(field, value, everyCall, catalog);
                TypeNames.visit(field, value, typeNames);
                callsSomething[0] |= SideWrites.mayWriteSequence(field);
            });
            StatementReader.Result r = new StatementReader(catalog, this::view, callsSomething[0]).statement(tree);
            // After the lineage's own calls, as before: the record lists the calls in the same order.
            r.facts.functions.addAll(everyCall);
            r.typeNames = typeNames.isEmpty() ? Set.of() : Collections.unmodifiableSet(typeNames);
            r.stateChanges = EveryCall.changingState(r.facts.functions, catalog);
            r.tableChanges = new TableChanges(catalog, this::view).read(tree);
            return r.build(text);
        } catch (RuntimeException | StackOverflowError e) {
            return StatementAnalysis.unparsed(text, "could not analyse the statement (" + e.getClass().getSimpleName()
                    + ")");
        }
    }

    // ---- helpers callers use on one statement's text ----------------------------------------------------------

    /** The parse tree of a text holding one statement, or null when it holds none, several, or does not parse. */
    private static JsonNode single(String statement) {
        if (statement == null) {
            return null;
        }
        PgGrammar.Parsed p = PgGrammar.parse(statement);
        return p.ok() && p.statements().size() == 1 ? p.statements().getFirst().tree() : null;
    }

    /**
     * True when a DELETE or UPDATE has no WHERE clause of its own ({@code WHERE CURRENT OF} counts as one).
     *
     * @deprecated judge {@link StatementFacts#unfilteredWrite()}, which also sees DML inside CTEs and rules
     */
    @Deprecated
    public static boolean lacksWhere(String statement) {
        JsonNode t = single(statement);
        return t == null || !(is(t, "UpdateStmt") || is(t, "DeleteStmt")) || !body(t).has("whereClause");
    }

    /**
     * True when the statement's outermost query has an effective limit (LIMIT or FETCH FIRST with a constant;
     * LIMIT ALL, LIMIT NULL and a parameter, which may be bound to NULL, are none).
     *
     * @deprecated judge {@link StatementFacts#unlimited()}
     */
    @Deprecated
    public static boolean hasLimit(String statement) {
        return StatementReader.limited(single(statement));
    }

    /** How many statements the server will run for the text (empty statements are none; 1 for an unparsable text). */
    public static int statementCount(String statement) {
        PgGrammar.Parsed p = PgGrammar.parse(statement == null ? "" : statement);
        return p.ok() ? p.statements().size() : 1;
    }

    /** True when the text has a bound parameter ($1) as the server's scanner reads it. */
    public static boolean hasParameters(String statement) {
        List<PgGrammar.Token> tokens = PgGrammar.scan(statement == null ? "" : statement);
        return tokens == null || tokens.stream().anyMatch(t -> t.token() == PgGrammar.Token.PARAM);
    }

    /** The name a PREPARE, EXECUTE or DEALLOCATE statement refers to, so the caller can pair them; else null. */
    public static String preparedStatementName(String statement) {
        JsonNode t = single(statement);
        if (t == null) {
            return null;
        }
        if (is(t, "PrepareStmt") || is(t, "ExecuteStmt") || is(t, "DeallocateStmt")) {
            return text(body(t), "name");
        }
        return null;
    }

    /** A COPY statement's options as the server reads them (see {@link StatementFacts#options()}); null otherwise. */
    public static Map<String, String> copyOptions(String statement) {
        JsonNode t = single(statement);
        if (!is(t, "CopyStmt")) {
            return null;
        }
        Map<String, String> out = new LinkedHashMap<>();
        StatementReader.options(Tree.list(body(t), "options"), out);
        return out;
    }

    // ---- views -------------------------------------------------------------------------------------------------

    /** A view's definition analysed once; null (opaque) when it has none, cannot be read, or nests too deep. */
    private ViewInfo view(Relation r, int depth) {
        Optional<ViewInfo> cached = views.get(r.ref());
        if (cached != null) {
            return cached.orElse(null);
        }
        if (depth > MAX_VIEW_DEPTH || r.definition() == null || r.definition().isBlank()) {
            return null;
        }
        ViewInfo info;
        try {
            JsonNode tree = single(r.definition());
            if (tree == null || !is(tree, "SelectStmt")) {
                info = null;
            } else {
                Lineage lineage = new Lineage(catalog, this::view, depth);
                List<Col> cols = lineage.statement(tree);
                info = new ViewInfo(cols.stream().map(Col::lin).toList(), lineage.facts);
            }
        } catch (RuntimeException | StackOverflowError e) {
            info = null;
        }
        if (depth == 1) {
            views.put(r.ref(), Optional.ofNullable(info));
        }
        return info;
    }
}
