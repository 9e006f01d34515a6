package io.phigate.sql;

import io.phigate.sql.Lexer.Token;
import io.phigate.sql.Lexer.Type;
import io.phigate.sql.Lineage.Col;
import io.phigate.sql.Lineage.Facts;
import io.phigate.sql.Lineage.Lin;
import io.phigate.sql.Lineage.ViewInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Level;
import net.sf.jsqlparser.JSQLParserException;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.parser.ParseException;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.delete.Delete;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.merge.Merge;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.update.Update;

/**
 * Tells what each statement of a SQL string does: its form, operations, the relations it reads and writes, and
 * where every result column's values come from (see {@link OutputColumn}).
 *
 * <p>Queries and DML go to JSqlParser; PostgreSQL's utility commands (COPY, cursors, SET, transaction control,
 * PREPARE, EXPLAIN, DDL ...) are read by a small tokenizer here, which hands any embedded query (COPY (q),
 * DECLARE ... FOR q, EXPLAIN q, PREPARE ... AS q, CREATE TABLE ... AS q) back to the full analysis.
 *
 * <p>Thread-safe: one instance per catalog is meant to be shared by every session of an upstream. It never throws
 * on input: what it cannot read comes back as {@link StatementAnalysis#unparsed}, which callers refuse. Parsing
 * runs on virtual threads against one deadline per statement ({@link #PARSE_TIMEOUT} for both of JSqlParser's
 * attempts at it, any query embedded in it and the view definitions it reaches), so pathological input cannot
 * hold a session for long. Results are cached by statement text (bounded LRU); a new catalog means a new
 * analyser, or {@link #clearCache()}.
 */
public final class SqlAnalyzer {
    /** Longer statements are refused unread: parsing time grows with length and agents do not need more. */
    public static final int MAX_STATEMENT_CHARS = 256 * 1024;
    static final Duration PARSE_TIMEOUT = Duration.ofSeconds(2);
    private static final int CACHE_ENTRIES = 2048;
    /** Longer texts are analysed every time rather than filling the cache. */
    private static final int CACHE_MAX_CHARS = 16 * 1024;
    private static final int MAX_VIEW_DEPTH = 16;
    private static final int MAX_NESTING = 32;
    /**
     * JSqlParser's time doubles with each level of brackets (ARRAY[ARRAY[...]], a[b[...]]): 12 levels took 0.8 s
     * and 16 ran out of time. No query an agent writes needs more than a few.
     */
    private static final int MAX_BRACKET_NESTING = 8;
    private static final String TIMED_OUT = "parsing took longer than " + PARSE_TIMEOUT.toMillis() + " ms";
    /** When the parsing of the statement being analysed must be over, in {@link System#nanoTime()} terms. */
    private static final ScopedValue<Long> DEADLINE = ScopedValue.newInstance();

    private static final ExecutorService PARSERS = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("sql-parse-", 0).factory());

    static {
        // JSqlParser logs each parse at INFO through java.util.logging; that is noise per statement.
        CCJSqlParserUtil.LOGGER.setLevel(Level.WARNING);
    }

    private final Catalog catalog;
    private final int cacheEntries;
    private final Map<String, List<StatementAnalysis>> cache;
    private final Map<TableRef, Optional<ViewInfo>> views = new ConcurrentHashMap<>();

    public SqlAnalyzer(Catalog catalog) {
        this(catalog, CACHE_ENTRIES);
    }

    /** {@code cacheEntries} 0 analyses every text afresh (benchmarks; callers that cache elsewhere). */
    public SqlAnalyzer(Catalog catalog, int cacheEntries) {
        this.catalog = catalog;
        this.cacheEntries = cacheEntries;
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
     * One analysis per statement of {@code sql}, in order. Statements with nothing but whitespace or comments come
     * back as kind {@link StatementKind#EMPTY} (so {@code ";;"} gives two), except that a trailing empty statement
     * after the last semicolon is dropped, as the server does; an empty string gives one EMPTY.
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
        List<StatementAnalysis> out;
        if (sql.length() > MAX_STATEMENT_CHARS) {
            out = List.of(StatementAnalysis.unparsed(sql, "statement longer than " + MAX_STATEMENT_CHARS
                    + " characters"));
        } else {
            out = List.copyOf(split(sql).stream().map(this::analyzeOne).toList());
        }
        if (cacheable) {
            cache.put(sql, out);
        }
        return out;
    }

    /**
     * True when a DELETE or UPDATE has no WHERE clause of its own, so it touches every row of its table. Read from
     * the tokens: a WHERE counts only outside parentheses (a subquery's or a CTE's WHERE does not restrict the
     * outer statement), and {@code WHERE CURRENT OF} counts as one. Comments and string contents never count.
     */
    public static boolean lacksWhere(String statement) {
        int depth = 0;
        for (Lexer.Token t : Lexer.tokens(statement == null ? "" : statement)) {
            if (t.isSymbol("(")) {
                depth++;
            } else if (t.isSymbol(")")) {
                depth = Math.max(0, depth - 1);
            } else if (depth == 0 && t.is("where")) {
                return false;
            }
        }
        return true;
    }

    /**
     * True when the statement's outermost query is limited: LIMIT (not LIMIT ALL) or FETCH FIRST/NEXT outside
     * parentheses. A limit inside a subquery or CTE does not bound what the statement returns.
     */
    public static boolean hasLimit(String statement) {
        int depth = 0;
        List<Token> tokens = Lexer.tokens(statement == null ? "" : statement);
        for (int i = 0; i < tokens.size(); i++) {
            Token t = tokens.get(i);
            if (t.isSymbol("(")) {
                depth++;
            } else if (t.isSymbol(")")) {
                depth = Math.max(0, depth - 1);
            } else if (depth == 0 && t.is("limit")) {
                return i + 1 < tokens.size() && !tokens.get(i + 1).is("all");
            } else if (depth == 0 && t.is("fetch") && i + 1 < tokens.size()
                    && (tokens.get(i + 1).is("first") || tokens.get(i + 1).is("next"))) {
                return true;
            }
        }
        return false;
    }

    /** How many statements the text holds by phigate's lexer (semicolons outside strings, comments and names, + 1). */
    public static int statementCount(String statement) {
        int n = 1;
        for (Token t : Lexer.tokens(statement == null ? "" : statement)) {
            n += t.type() == Type.SEMICOLON ? 1 : 0;
        }
        return n;
    }

    /** True when the text has a bound parameter ($1) outside strings and comments. */
    public static boolean hasParameters(String statement) {
        return Lexer.tokens(statement == null ? "" : statement).stream().anyMatch(t -> t.type() == Type.PARAM);
    }

    /** The name a PREPARE, EXECUTE or DEALLOCATE statement refers to, so the caller can pair them; else null. */
    public static String preparedStatementName(String statement) {
        List<Token> t = Lexer.tokens(statement);
        int i = 1;
        if (t.size() > 1 && t.getFirst().is("deallocate") && t.get(1).is("prepare")) {
            i = 2;
        }
        if (t.isEmpty() || !(t.getFirst().is("prepare") || t.getFirst().is("execute") || t.getFirst().is("deallocate"))
                || i >= t.size() || !t.get(i).isName() || t.get(i).is("all") || t.get(i).is("transaction")) {
            return null;
        }
        return t.get(i).value();
    }

    private record Piece(String text, List<Token> tokens) {
    }

    private static List<Piece> split(String sql) {
        List<Token> all = Lexer.tokens(sql);
        List<Piece> out = new ArrayList<>();
        int textStart = 0;
        List<Token> current = new ArrayList<>();
        for (Token t : all) {
            if (t.type() == Type.SEMICOLON) {
                out.add(piece(sql, textStart, t.start(), current));
                current = new ArrayList<>();
                textStart = t.end();
            } else {
                current.add(t);
            }
        }
        if (!current.isEmpty() || out.isEmpty()) {
            out.add(piece(sql, textStart, sql.length(), current));
        }
        return out;
    }

    private static Piece piece(String sql, int start, int end, List<Token> tokens) {
        if (tokens.isEmpty()) {
            return new Piece(sql.substring(start, end).strip(), tokens);
        }
        // Offsets are rebased so each piece is self-contained; the text is the statement itself, comments around it
        // dropped.
        int from = tokens.getFirst().start();
        int to = tokens.getLast().end();
        List<Token> rebased = new ArrayList<>(tokens.size());
        for (Token t : tokens) {
            rebased.add(new Token(t.type(), t.value(), t.start() - from, t.end() - from, t.escapeString(),
                    t.dollarQuoted()));
        }
        return new Piece(sql.substring(from, to), rebased);
    }

    private StatementAnalysis analyzeOne(Piece p) {
        try {
            if (p.tokens.isEmpty()) {
                return new Result(StatementKind.EMPTY).build(p.text);
            }
            return ScopedValue.where(DEADLINE, System.nanoTime() + PARSE_TIMEOUT.toNanos())
                    .call(() -> statement(p.text, p.tokens).build(p.text));
        } catch (Unparsable e) {
            return StatementAnalysis.unparsed(p.text, e.getMessage());
        } catch (RuntimeException | StackOverflowError e) {
            return StatementAnalysis.unparsed(p.text, "could not analyse the statement (" + e.getClass().getSimpleName()
                    + ")");
        }
    }

    /** A statement the analyser cannot read; the message never contains statement text. */
    static final class Unparsable extends RuntimeException {
        Unparsable(String message) {
            super(message, null, false, false);
        }
    }

    /** The mutable form of a {@link StatementAnalysis} while it is worked out. */
    private static final class Result {
        StatementKind kind;
        final Facts facts = new Facts();
        List<OutputColumn> outputs = List.of();
        String cursor;
        String setting;
        String settingValue;
        String dataRoute;
        boolean altersRelation;

        Result(StatementKind kind, Operation... ops) {
            this.kind = kind;
            facts.operations.addAll(List.of(ops));
        }

        StatementAnalysis build(String text) {
            return new StatementAnalysis(kind, Collections.unmodifiableSet(EnumSet.copyOf(
                    facts.operations.isEmpty() ? EnumSet.noneOf(Operation.class) : facts.operations)),
                    Collections.unmodifiableSet(new LinkedHashSet<>(facts.reads)),
                    Collections.unmodifiableSet(new LinkedHashSet<>(facts.writes)), outputs,
                    Collections.unmodifiableSet(new LinkedHashSet<>(facts.opaqueFunctions)), facts.copiesQuery,
                    cursor, setting, settingValue, true, null, text, List.copyOf(facts.columnWrites), dataRoute,
                    altersRelation);
        }
    }

    /** A query's analysis: what it does and what it returns. */
    private record Query(StatementKind kind, Facts facts, List<OutputColumn> outputs) {
    }

    // ---- dispatch ----------------------------------------------------------------------------------------------

    private Result statement(String text, List<Token> t) {
        Result r = dispatch(text, t);
        if (r.dataRoute == null) { // EXPLAIN ANALYZE has taken its statement's already
            r.dataRoute = DataRoutes.of(t);
        }
        r.altersRelation |= DataRoutes.isAlter(t);
        return r;
    }

    private Result dispatch(String text, List<Token> t) {
        Token first = t.getFirst();
        if (first.isSymbol("(")) {
            return fromQuery(query(text, t, 0));
        }
        if (first.type() != Type.WORD) {
            throw new Unparsable("unrecognised statement");
        }
        return switch (first.value()) {
            case "select", "with", "values", "table", "insert", "update", "delete", "merge" ->
                    fromQuery(query(text, t, 0));
            case "explain" -> explain(text, t);
            case "copy" -> copy(text, t);
            case "declare" -> declare(text, t);
            case "fetch", "move" -> fetch(t);
            case "close" -> {
                Result r = new Result(StatementKind.CLOSE_CURSOR, Operation.UTILITY);
                r.cursor = t.size() > 1 && !t.get(1).is("all") ? t.get(1).value() : null;
                yield r;
            }
            case "set" -> set(text, t);
            case "reset" -> {
                Result r = new Result(StatementKind.RESET, Operation.UTILITY);
                r.setting = t.size() > 1 ? settingName(t, 1) : null;
                yield r;
            }
            case "show" -> {
                Result r = new Result(StatementKind.SHOW, Operation.UTILITY);
                r.setting = t.size() > 1 ? settingName(t, 1) : null;
                yield r;
            }
            case "begin", "start", "commit", "end", "rollback", "abort", "savepoint", "release" ->
                    new Result(StatementKind.TRANSACTION, Operation.UTILITY);
            case "listen", "notify", "unlisten" -> new Result(StatementKind.LISTEN_NOTIFY, Operation.UTILITY);
            case "do" -> new Result(StatementKind.DO, Operation.FUNCTION);
            case "call" -> call(text, t);
            case "prepare" -> prepare(text, t);
            case "execute" -> execute(text, t);
            case "deallocate" -> new Result(StatementKind.DEALLOCATE, Operation.UTILITY);
            case "vacuum", "analyze", "analyse" -> new Result(StatementKind.VACUUM_ANALYZE, Operation.UTILITY);
            case "grant" -> new Result(StatementKind.GRANT, Operation.GRANT);
            case "revoke" -> new Result(StatementKind.REVOKE, Operation.GRANT);
            case "truncate" -> truncate(t);
            case "create", "alter", "drop" -> ddl(text, t);
            case "comment", "security", "import", "reindex", "cluster", "reassign" ->
                    new Result(StatementKind.DDL, Operation.DDL);
            case "refresh" -> {
                Result r = new Result(StatementKind.DDL, Operation.DDL);
                int i = skipWords(t, 1, "materialized", "view", "concurrently");
                writeName(r, t, i);
                yield r;
            }
            case "lock", "checkpoint", "discard" -> new Result(StatementKind.OTHER, Operation.UTILITY);
            // LOAD brings a shared library into the server process: code, not a setting.
            case "load" -> new Result(StatementKind.OTHER, Operation.FUNCTION);
            default -> throw new Unparsable("unrecognised statement");
        };
    }

    private static Result fromQuery(Query q) {
        Result r = new Result(q.kind);
        r.facts.addAll(q.facts);
        r.outputs = q.outputs;
        return r;
    }

    private Result explain(String text, List<Token> t) {
        int i = 1;
        boolean analyze = false;
        if (i < t.size() && t.get(i).isSymbol("(")) {
            int close = matching(t, i);
            for (int j = i + 1; j < close; j++) {
                if ((t.get(j).is("analyze") || t.get(j).is("analyse"))) {
                    Token next = j + 1 < close ? t.get(j + 1) : null;
                    analyze = next == null || next.isSymbol(",") || next.is("true") || next.is("on")
                            || (next.type() == Type.NUMBER && !next.value().equals("0"));
                }
            }
            i = close + 1;
        } else {
            while (i < t.size() && (t.get(i).is("analyze") || t.get(i).is("analyse") || t.get(i).is("verbose"))) {
                analyze |= !t.get(i).is("verbose");
                i++;
            }
        }
        if (i >= t.size()) {
            throw new Unparsable("EXPLAIN without a statement");
        }
        Result inner = statement(text.substring(t.get(i).start()), rebase(t.subList(i, t.size())));
        Result r = new Result(StatementKind.EXPLAIN, Operation.UTILITY);
        r.facts.reads.addAll(inner.facts.reads);
        r.facts.writes.addAll(inner.facts.writes);
        r.facts.opaqueFunctions.addAll(inner.facts.opaqueFunctions);
        if (analyze) {
            // EXPLAIN ANALYZE runs the statement; its results are discarded but its effects are not.
            r.facts.operations.addAll(inner.facts.operations);
            r.facts.copiesQuery = inner.facts.copiesQuery;
            r.facts.columnWrites.addAll(inner.facts.columnWrites);
            r.dataRoute = inner.dataRoute;
            r.altersRelation = inner.altersRelation;
        }
        r.outputs = List.of(new OutputColumn("QUERY PLAN", Set.of(), false, false));
        return r;
    }

    private Result copy(String text, List<Token> t) {
        Result r;
        int i;
        if (t.size() > 1 && t.get(1).isSymbol("(")) {
            int close = matching(t, 1);
            Query q = query(text, t.subList(0, close), 2);
            r = new Result(StatementKind.COPY_TO, Operation.COPY);
            r.facts.addAll(q.facts);
            r.outputs = q.outputs;
            i = close + 1;
            if (i >= t.size() || !t.get(i).is("to")) {
                throw new Unparsable("COPY (query) must be followed by TO");
            }
        } else {
            int n = 1;
            TableRef table = null;
            Optional<Relation> rel = Optional.empty();
            if (n < t.size() && t.get(n).isName()) {
                String[] name = qualifiedName(t, n);
                n += name[0] == null ? 1 : 3;
                rel = catalog.relation(name[0], name[1]);
                table = rel.map(Relation::ref).orElse(new TableRef(name[0] == null ? "?" : name[0], name[1]));
            }
            if (table == null) {
                throw new Unparsable("COPY without a table");
            }
            List<String> columns = new ArrayList<>();
            if (n < t.size() && t.get(n).isSymbol("(")) {
                int close = matching(t, n);
                for (int j = n + 1; j < close; j++) {
                    if (t.get(j).isName()) {
                        columns.add(t.get(j).value());
                    }
                }
                n = close + 1;
            }
            i = n;
            boolean to = i < t.size() && t.get(i).is("to");
            if (!to && !(i < t.size() && t.get(i).is("from"))) {
                throw new Unparsable("COPY needs FROM or TO");
            }
            if (to) {
                r = new Result(StatementKind.COPY_TO, Operation.COPY);
                r.facts.reads.add(table);
                // COPY table TO is the table's rows as they are: the same lineage as SELECT cols FROM table.
                String select = "SELECT " + (columns.isEmpty() ? "*" : String.join(", ", columns.stream()
                        .map(SqlAnalyzer::quoteIdent).toList())) + " FROM " + quoteIdent(table.schema()) + "."
                        + quoteIdent(table.table());
                if (rel.isPresent()) {
                    Query q = query(select, Lexer.tokens(select), 0);
                    r.facts.reads.addAll(q.facts.reads);
                    r.facts.opaqueFunctions.addAll(q.facts.opaqueFunctions);
                    r.outputs = q.outputs;
                } else {
                    r.outputs = List.of(new OutputColumn("*", Set.of(), false, true));
                }
            } else {
                r = new Result(StatementKind.COPY_FROM, Operation.COPY);
                r.facts.writes.add(table);
            }
        }
        Token dest = i + 1 < t.size() ? t.get(i + 1) : null;
        boolean client = dest != null && (dest.is("stdout") || dest.is("stdin"));
        if (!client && r.kind == StatementKind.COPY_TO) {
            // TO a server file or PROGRAM: the rows land where no masking applies.
            r.facts.copiesQuery = true;
        }
        if (!client && r.kind == StatementKind.COPY_FROM) {
            // FROM a server file or PROGRAM reads the server's files or runs a command.
            r.facts.operations.add(Operation.FUNCTION);
        }
        return r;
    }

    private Result declare(String text, List<Token> t) {
        int i = 1;
        if (i >= t.size() || !t.get(i).isName()) {
            throw new Unparsable("DECLARE without a cursor name");
        }
        String cursor = t.get(i).value();
        while (i < t.size() && !t.get(i).is("for")) {
            i++;
        }
        if (i + 1 >= t.size()) {
            throw new Unparsable("DECLARE without FOR query");
        }
        Query q = query(text, t, i + 1);
        Result r = new Result(StatementKind.DECLARE_CURSOR);
        r.facts.addAll(q.facts);
        r.outputs = q.outputs;
        r.cursor = cursor;
        return r;
    }

    /** FETCH returns the cursor's rows, so it counts as a SELECT; MOVE only repositions. */
    private static Result fetch(List<Token> t) {
        boolean isFetch = t.getFirst().is("fetch");
        Result r = isFetch ? new Result(StatementKind.FETCH, Operation.SELECT)
                : new Result(StatementKind.MOVE, Operation.UTILITY);
        Token last = t.getLast();
        if (t.size() < 2 || !last.isName()) {
            throw new Unparsable("FETCH or MOVE without a cursor name");
        }
        r.cursor = last.value();
        return r;
    }

    private static Result set(String text, List<Token> t) {
        Result r = new Result(StatementKind.SET, Operation.UTILITY);
        // SESSION is both a scope (SET SESSION x = ...) and the start of SESSION AUTHORIZATION / CHARACTERISTICS.
        int i = t.size() > 2 && t.get(1).is("session") && (t.get(2).is("authorization")
                || t.get(2).is("characteristics")) ? 1 : skipWords(t, 1, "session", "local");
        if (i >= t.size()) {
            throw new Unparsable("SET without a parameter");
        }
        if (t.get(i).is("time") && i + 1 < t.size() && t.get(i + 1).is("zone")) {
            r.setting = "timezone";
            r.settingValue = value(text, t, i + 2);
            return r;
        }
        if (t.get(i).is("session") && i + 1 < t.size() && t.get(i + 1).is("authorization")) {
            r.setting = "session_authorization";
            r.settingValue = value(text, t, i + 2);
            return r;
        }
        if (t.get(i).is("session") && i + 1 < t.size() && t.get(i + 1).is("characteristics")) {
            r.setting = "default_transaction";
            r.settingValue = value(text, t, i + 2);
            return r;
        }
        if (t.get(i).is("role") || t.get(i).is("transaction") || t.get(i).is("constraints") || t.get(i).is("names")
                || t.get(i).is("schema")) {
            r.setting = t.get(i).is("names") ? "client_encoding" : t.get(i).is("schema") ? "search_path"
                    : t.get(i).value();
            r.settingValue = value(text, t, i + 1);
            return r;
        }
        StringBuilder name = new StringBuilder(t.get(i).value());
        i++;
        while (i + 1 < t.size() && t.get(i).isSymbol(".") && t.get(i + 1).isName()) {
            name.append('.').append(t.get(i + 1).value());
            i += 2;
        }
        r.setting = name.toString();
        if (i < t.size() && (t.get(i).is("to") || t.get(i).isSymbol("="))) {
            r.settingValue = value(text, t, i + 1);
        } else if (i < t.size() && t.get(i).is("from")) {
            r.settingValue = null;
        } else {
            throw new Unparsable("SET without TO or =");
        }
        return r;
    }

    /** A SET value as a plain string: string literals unquoted, names folded, list items joined by ", ". */
    private static String value(String text, List<Token> t, int from) {
        StringBuilder v = new StringBuilder();
        for (int j = from; j < t.size(); j++) {
            Token k = t.get(j);
            if (k.isSymbol(",")) {
                v.append(", ");
            } else if (k.type() == Type.STRING || k.type() == Type.WORD || k.type() == Type.QUOTED_IDENT) {
                v.append(k.value());
            } else {
                v.append(text, k.start(), k.end());
            }
        }
        return v.isEmpty() ? null : v.toString();
    }

    private static String settingName(List<Token> t, int i) {
        if (t.get(i).is("time") && i + 1 < t.size() && t.get(i + 1).is("zone")) {
            return "timezone";
        }
        if (t.get(i).is("transaction") && i + 2 < t.size() && t.get(i + 1).is("isolation")) {
            return "transaction_isolation";
        }
        StringBuilder name = new StringBuilder(t.get(i).value());
        for (int j = i + 1; j + 1 < t.size() && t.get(j).isSymbol(".") && t.get(j + 1).isName(); j += 2) {
            name.append('.').append(t.get(j + 1).value());
        }
        return name.toString();
    }

    private Result call(String text, List<Token> t) {
        if (t.size() < 2) {
            throw new Unparsable("CALL without a procedure");
        }
        String select = "SELECT " + text.substring(t.get(1).start());
        Query q = query(select, Lexer.tokens(select), 0);
        Result r = new Result(StatementKind.CALL, Operation.FUNCTION);
        r.facts.reads.addAll(q.facts.reads);
        r.facts.opaqueFunctions.addAll(q.facts.opaqueFunctions);
        if (!q.facts.reads.isEmpty()) {
            r.facts.operations.add(Operation.SELECT);
        }
        return r;
    }

    /** PREPARE carries the prepared statement's analysis, so scope is checked once, when it is prepared. */
    private Result prepare(String text, List<Token> t) {
        if (t.size() > 1 && t.get(1).is("transaction")) {
            return new Result(StatementKind.TRANSACTION, Operation.UTILITY);
        }
        int i = 2;
        if (i < t.size() && t.get(i).isSymbol("(")) {
            i = matching(t, i) + 1;
        }
        if (i + 1 >= t.size() || !t.get(i).is("as")) {
            throw new Unparsable("PREPARE without AS statement");
        }
        Result inner = statement(text.substring(t.get(i + 1).start()), rebase(t.subList(i + 1, t.size())));
        inner.kind = StatementKind.PREPARE;
        return inner;
    }

    private Result execute(String text, List<Token> t) {
        Result r = new Result(StatementKind.EXECUTE, Operation.UTILITY);
        if (t.size() > 2 && t.get(2).isSymbol("(")) {
            String select = "SELECT " + text.substring(t.get(2).start());
            Query q = query(select, Lexer.tokens(select), 0);
            r.facts.reads.addAll(q.facts.reads);
            r.facts.opaqueFunctions.addAll(q.facts.opaqueFunctions);
            if (!q.facts.opaqueFunctions.isEmpty()) {
                r.facts.operations.add(Operation.FUNCTION);
            }
        }
        return r;
    }

    private Result truncate(List<Token> t) {
        Result r = new Result(StatementKind.TRUNCATE, Operation.TRUNCATE);
        int i = skipWords(t, 1, "table", "only");
        while (i < t.size() && t.get(i).isName() && !t.get(i).is("restart") && !t.get(i).is("continue")
                && !t.get(i).is("cascade") && !t.get(i).is("restrict")) {
            i = writeName(r, t, i);
            while (i < t.size() && (t.get(i).isSymbol("*") || t.get(i).isSymbol(",") || t.get(i).is("only"))) {
                i++;
            }
        }
        return r;
    }

    private Result ddl(String text, List<Token> t) {
        Result r = new Result(StatementKind.DDL, Operation.DDL);
        String verb = t.getFirst().value();
        int i = skipWords(t, 1, "or", "replace", "temp", "temporary", "unlogged", "global", "local", "recursive");
        if (i >= t.size()) {
            return r;
        }
        String object = t.get(i).value();
        if (object.equals("materialized") || object.equals("foreign")) {
            i++;
            object = i < t.size() ? object + " " + t.get(i).value() : object;
        }
        switch (object) {
            case "table", "view", "materialized view", "foreign table" -> {
                int n = skipWords(t, i + 1, "if", "not", "exists", "only");
                if (verb.equals("drop")) {
                    while (n < t.size() && t.get(n).isName() && !t.get(n).is("cascade") && !t.get(n).is("restrict")) {
                        n = writeName(r, t, n);
                        if (n < t.size() && t.get(n).isSymbol(",")) {
                            n++;
                        }
                    }
                    return r;
                }
                n = writeName(r, t, n);
                if (verb.equals("create")) {
                    int as = topLevel(t, n, "as");
                    if (as >= 0 && as + 1 < t.size() && t.get(as + 1).is("execute")) {
                        // CREATE TABLE ... AS EXECUTE stores a prepared statement's rows, whose lineage this text
                        // does not show: a session that sees PHI masked is refused it as a data route.
                        r.facts.copiesQuery = true;
                    } else if (as >= 0 && as + 1 < t.size() && startsQuery(t.get(as + 1))) {
                        int end = queryEnd(t, as + 1);
                        Query q = query(text, t.subList(0, end), as + 1);
                        r.facts.addAll(q.facts);
                        // A view stores its query, not its rows; a table or materialized view stores the rows.
                        r.facts.copiesQuery = !object.equals("view");
                    }
                }
            }
            case "index" -> {
                int on = topLevel(t, i, "on");
                if (on >= 0) {
                    writeName(r, t, skipWords(t, on + 1, "only"));
                }
            }
            default -> {
                // Functions, types, roles, schemas ...: DDL with no relation to name here.
            }
        }
        return r;
    }

    private static boolean startsQuery(Token k) {
        return k.isSymbol("(") || k.is("select") || k.is("with") || k.is("values") || k.is("table");
    }

    /** Where a CREATE ... AS query ends: before a trailing WITH [NO] DATA or WITH [...] CHECK OPTION. */
    private static int queryEnd(List<Token> t, int from) {
        int n = t.size();
        if (n - 2 > from && t.get(n - 2).is("with") && t.get(n - 1).is("data")) {
            return n - 2;
        }
        if (n - 3 > from && t.get(n - 3).is("with") && t.get(n - 2).is("no") && t.get(n - 1).is("data")) {
            return n - 3;
        }
        if (n - 3 > from && t.get(n - 2).is("check") && t.get(n - 1).is("option")) {
            return t.get(n - 3).is("with") ? n - 3 : n - 4;
        }
        return n;
    }

    // ---- token helpers -----------------------------------------------------------------------------------------

    private static int skipWords(List<Token> t, int i, String... words) {
        while (i < t.size() && t.get(i).type() == Type.WORD && List.of(words).contains(t.get(i).value())) {
            i++;
        }
        return i;
    }

    /** Index of the ")" closing the "(" at {@code open}, or the last token when unbalanced. */
    private static int matching(List<Token> t, int open) {
        int depth = 0;
        for (int j = open; j < t.size(); j++) {
            if (t.get(j).isSymbol("(")) {
                depth++;
            } else if (t.get(j).isSymbol(")") && --depth == 0) {
                return j;
            }
        }
        throw new Unparsable("unbalanced parentheses");
    }

    private static int topLevel(List<Token> t, int from, String word) {
        int depth = 0;
        for (int j = from; j < t.size(); j++) {
            Token k = t.get(j);
            if (k.isSymbol("(")) {
                depth++;
            } else if (k.isSymbol(")")) {
                depth--;
            } else if (depth == 0 && k.is(word)) {
                return j;
            }
        }
        return -1;
    }

    /** {schema or null, name} of the (possibly qualified) name at {@code i}. */
    private static String[] qualifiedName(List<Token> t, int i) {
        if (i + 2 < t.size() && t.get(i + 1).isSymbol(".") && t.get(i + 2).isName()) {
            return new String[] {t.get(i).value(), t.get(i + 2).value()};
        }
        return new String[] {null, t.get(i).value()};
    }

    /** Records the relation named at {@code i} as written and returns the index after its name. */
    private int writeName(Result r, List<Token> t, int i) {
        if (i >= t.size() || !t.get(i).isName()) {
            return i + 1;
        }
        String[] name = qualifiedName(t, i);
        r.facts.writes.add(catalog.relation(name[0], name[1]).map(Relation::ref)
                .orElse(new TableRef(name[0] == null ? "?" : name[0], name[1])));
        return i + (name[0] == null ? 1 : 3);
    }

    private static List<Token> rebase(List<Token> t) {
        if (t.isEmpty()) {
            return t;
        }
        int from = t.getFirst().start();
        List<Token> out = new ArrayList<>(t.size());
        for (Token k : t) {
            out.add(new Token(k.type(), k.value(), k.start() - from, k.end() - from, k.escapeString(),
                    k.dollarQuoted()));
        }
        return out;
    }

    private static String quoteIdent(String s) {
        return "\"" + s.replace("\"", "\"\"") + "\"";
    }

    // ---- the query path ----------------------------------------------------------------------------------------

    /** Analyses the query made of tokens {@code from} to the end of {@code t}, over {@code text}. */
    private Query query(String text, List<Token> t, int from) {
        if (from >= t.size()) {
            throw new Unparsable("missing query");
        }
        checkParentheses(t, from);
        String sql = forJSqlParser(text, t, from);
        Statement st = parse(sql);
        Lineage lineage = new Lineage(catalog, this::view, 0);
        List<Col> cols = lineage.statement(st);
        StatementKind kind = switch (st) {
            case PlainSelect ps when ps.getIntoTables() != null && !ps.getIntoTables().isEmpty() -> StatementKind.DDL;
            case Select s -> StatementKind.SELECT;
            case Insert i -> StatementKind.INSERT;
            case Update u -> StatementKind.UPDATE;
            case Delete d -> StatementKind.DELETE;
            case Merge m -> StatementKind.MERGE;
            default -> StatementKind.OTHER;
        };
        List<OutputColumn> outputs = kind == StatementKind.DDL ? List.of() : outputs(cols);
        return new Query(kind, lineage.facts, outputs);
    }

    private static List<OutputColumn> outputs(List<Col> cols) {
        List<OutputColumn> out = new ArrayList<>(cols.size());
        for (Col c : cols) {
            Lin l = c.lin();
            boolean direct = l.direct() && !l.opaque() && l.sources().size() == 1;
            out.add(new OutputColumn(c.name(), Collections.unmodifiableSet(new LinkedHashSet<>(l.sources())), direct,
                    l.opaque()));
        }
        return List.copyOf(out);
    }

    /**
     * The query text rewritten where PostgreSQL's syntax is beyond JSqlParser but the meaning for lineage is the
     * same: E'..', $$..$$, U&'..', B'..' and X'..' literals become plain '..' literals, {@code (p).*} becomes
     * {@code p.*}, {@code OPERATOR(pg_catalog.~)} becomes {@code ~} (psql's describe queries spell every operator
     * so), and a {@code COLLATE name} clause is dropped. An operator named in any other schema stays as written
     * (and unparsable): it may be a function the agent's side defined.
     */
    private static String forJSqlParser(String original, List<Token> t, int from) {
        String text = blankComments(original, t, from);
        StringBuilder out = new StringBuilder(text.length() - t.get(from).start() + 16);
        int pos = t.get(from).start();
        int end = t.getLast().end();
        for (int j = from; j < t.size(); j++) {
            Token k = t.get(j);
            if (k.type() == Type.STRING && text.charAt(k.start()) != '\'') {
                out.append(text, pos, k.start()).append('\'').append(k.value().replace("'", "''")).append('\'');
                pos = k.end();
            } else if (k.isSymbol("(") && j + 4 < t.size() && t.get(j + 1).isName() && t.get(j + 2).isSymbol(")")
                    && t.get(j + 3).isSymbol(".") && t.get(j + 4).isSymbol("*")) {
                Token name = t.get(j + 1);
                out.append(text, pos, k.start()).append(text, name.start(), name.end()).append(".*");
                pos = t.get(j + 4).end();
                j += 4;
            } else if (k.is("operator") && j + 2 < t.size() && t.get(j + 1).isSymbol("(")) {
                int close = builtInOperatorEnd(t, j + 2);
                if (close > 0) {
                    int first = t.get(j + 2).is("pg_catalog") ? j + 4 : j + 2;
                    out.append(text, pos, k.start()).append(' ')
                            .append(text, t.get(first).start(), t.get(close - 1).end()).append(' ');
                    pos = t.get(close).end();
                    j = close;
                }
            } else if (k.is("collate") && j + 1 < t.size() && t.get(j + 1).isName()) {
                int last = j + 3 < t.size() && t.get(j + 2).isSymbol(".") && t.get(j + 3).isName() ? j + 3 : j + 1;
                out.append(text, pos, k.start()).append(' ');
                pos = t.get(last).end();
                j = last;
            }
        }
        out.append(text, pos, end);
        return out.toString();
    }

    /**
     * {@code text} with its comments blanked out, offsets kept (newlines stay, so the parser's line numbers do). The
     * lexer finds comments as PostgreSQL does, nested block comments included; JSqlParser does not nest them, and
     * would read the rest of {@code /* /* *}{@code / x *}{@code /} as code the server never runs, or the reverse.
     * Between two tokens there is only whitespace and comments.
     */
    private static String blankComments(String text, List<Token> t, int from) {
        char[] c = null;
        for (int j = from; j + 1 < t.size(); j++) {
            int gapFrom = t.get(j).end();
            int gapTo = t.get(j + 1).start();
            for (int i = gapFrom; i < gapTo; i++) {
                if (!Character.isWhitespace(text.charAt(i))) {
                    if (c == null) {
                        c = text.toCharArray();
                    }
                    for (int k = gapFrom; k < gapTo; k++) {
                        if (c[k] != '\n') {
                            c[k] = ' ';
                        }
                    }
                    break;
                }
            }
        }
        return c == null ? text : new String(c);
    }

    /**
     * For {@code OPERATOR(} at {@code from}: the index of its closing parenthesis when it names a pg_catalog
     * operator or an unqualified one (symbols only), else -1.
     */
    private static int builtInOperatorEnd(List<Token> t, int from) {
        int j = from;
        if (t.get(j).is("pg_catalog") && j + 1 < t.size() && t.get(j + 1).isSymbol(".")) {
            j += 2;
        }
        int symbols = 0;
        while (j < t.size() && t.get(j).type() == Type.SYMBOL && !t.get(j).isSymbol(")") && !t.get(j).isSymbol("(")) {
            if (symbols > 0 && t.get(j).start() != t.get(j - 1).end()) {
                return -1; // an operator is one run of characters
            }
            symbols++;
            j++;
        }
        return symbols > 0 && j < t.size() && t.get(j).isSymbol(")") ? j : -1;
    }

    /**
     * JSqlParser backtracks exponentially on unbalanced or very deeply nested parentheses and brackets; the server
     * would refuse the first and no agent needs the second.
     */
    private static void checkParentheses(List<Token> t, int from) {
        int depth = 0;
        int brackets = 0;
        for (int j = from; j < t.size(); j++) {
            if (t.get(j).isSymbol("(")) {
                if (++depth > MAX_NESTING) {
                    throw new Unparsable("parentheses nested deeper than " + MAX_NESTING);
                }
            } else if (t.get(j).isSymbol(")") && --depth < 0) {
                throw new Unparsable("unbalanced parentheses");
            } else if (t.get(j).isSymbol("[")) {
                if (++brackets > MAX_BRACKET_NESTING) {
                    throw new Unparsable("brackets nested deeper than " + MAX_BRACKET_NESTING);
                }
            } else if (t.get(j).isSymbol("]") && --brackets < 0) {
                throw new Unparsable("unbalanced brackets");
            }
        }
        if (depth != 0) {
            throw new Unparsable("unbalanced parentheses");
        }
        if (brackets != 0) {
            throw new Unparsable("unbalanced brackets");
        }
    }

    /**
     * JSqlParser applies its time-out to each attempt, and after a failed simple parse tries again with complex
     * parsing; each attempt gets what is left of the statement's deadline, so the two together stay within it.
     */
    private static Statement parse(String sql) {
        long deadline = DEADLINE.isBound() ? DEADLINE.get() : System.nanoTime() + PARSE_TIMEOUT.toNanos();
        if (pastDeadline()) {
            throw new Unparsable(TIMED_OUT);
        }
        try {
            Statement st = CCJSqlParserUtil.parse(sql, PARSERS,
                    p -> p.withTimeOut(Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
            if (st == null) {
                throw new Unparsable("empty query");
            }
            return st;
        } catch (JSQLParserException e) {
            if (isTimeout(e) || pastDeadline()) {
                throw new Unparsable(TIMED_OUT);
            }
            throw new Unparsable(describe(e));
        }
    }

    private static boolean pastDeadline() {
        return DEADLINE.isBound() && System.nanoTime() - DEADLINE.get() >= 0;
    }

    private static boolean isTimeout(JSQLParserException e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof java.util.concurrent.TimeoutException || String.valueOf(c.getMessage()).contains("Time out")) {
                return true;
            }
        }
        return false;
    }

    /** The parser's complaint reduced to a position: its own message quotes the statement. */
    private static String describe(JSQLParserException e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof ParseException pe && pe.currentToken != null && pe.currentToken.next != null) {
                return "syntax not understood at line " + pe.currentToken.next.beginLine + ", column "
                        + pe.currentToken.next.beginColumn;
            }
        }
        return "syntax not understood";
    }

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
            String def = r.definition().strip();
            List<Token> t = Lexer.tokens(def);
            if (!t.isEmpty() && t.getLast().type() == Type.SEMICOLON) {
                t = t.subList(0, t.size() - 1);
            }
            checkParentheses(t, 0);
            Statement st = parse(forJSqlParser(def, t, 0));
            Lineage lineage = new Lineage(catalog, this::view, depth);
            List<Col> cols = lineage.statement(st);
            info = new ViewInfo(cols.stream().map(Col::lin).toList(), lineage.facts);
        } catch (RuntimeException | StackOverflowError e) {
            info = null;
        }
        // A view read after the statement's deadline passed (its own parse or one of the views under it cut short)
        // is opaque for this statement but not remembered: the time was the statement's, not the view's.
        if (depth == 1 && !pastDeadline()) {
            views.put(r.ref(), Optional.ofNullable(info));
        }
        return info;
    }
}
