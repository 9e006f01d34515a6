package io.phigate.pg;

import io.phigate.session.Refusal;
import io.phigate.pg.SessionState.Change;
import io.phigate.pg.SessionState.Hold;
import io.phigate.pg.SessionState.Pending;
import io.phigate.pg.SessionState.Portal;
import io.phigate.pg.SessionState.Statement;
import io.phigate.pg.message.ErrorCodes;
import io.phigate.sql.SqlAnalyzer;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementKind;
import java.io.IOException;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * The client reader's side of the {@link SessionState}: names looked up as the server will look them up when it
 * gets to the message being judged, and the changes a forwarded statement will make staged in order. A lookup
 * that depends on an earlier request the server has not answered yet waits for that answer first.
 *
 * <p>Runs on the client reader only.
 */
final class StateView {
    /** How long a statement may wait for the answers its names depend on before it is refused instead. */
    private static final long SETTLE_MILLIS = 30_000;

    /** What a statement that names another runs: EXECUTE a prepared statement, FETCH or MOVE a cursor. */
    record Target(String label, Statement statement, List<String> parameters) {
        StatementAnalysis analysis() {
            return statement.analysis();
        }

        /** How the audit record and the approver name what ran. */
        String note() {
            return "\n-- phigate: " + label + " runs: " + statement.text();
        }
    }

    /**
     * A statement as the server runs it: {@code target} is what it names (null when it names nothing), and
     * {@code refusal} is set when it names something that does not exist.
     */
    record Resolution(StatementAnalysis written, Target target, Refusal refusal) {
        /** What to judge: the statement as written, and what it runs. */
        List<StatementAnalysis> judged() {
            return target == null || target.analysis() == null ? List.of(written) : List.of(written, target.analysis());
        }

        /** The analysis whose outputs the rows follow. */
        StatementAnalysis runs() {
            return target == null ? written : target.analysis();
        }
    }

    private final Exchange exchange;
    /** Null when the session does not analyse statements: then only protocol-level names are kept. */
    private final Function<String, List<StatementAnalysis>> analyzer;
    private final BooleanSupplier closing;

    StateView(Exchange exchange, Function<String, List<StatementAnalysis>> analyzer, BooleanSupplier closing) {
        this.exchange = exchange;
        this.analyzer = analyzer;
        this.closing = closing;
    }

    /** The prepared statement {@code name} will mean when the server reaches the message being judged. */
    Statement statement(String name) throws IOException {
        if (!exchange.state(s -> s.statementSettled(name))) {
            settle();
        }
        return exchange.state(s -> s.statement(name));
    }

    /** The portal or cursor {@code name} will mean when the server reaches the message being judged. */
    Portal portal(String name) throws IOException {
        if (!exchange.state(s -> s.portalSettled(name))) {
            settle();
        }
        return exchange.state(s -> s.portal(name));
    }

    private void settle() throws IOException {
        exchange.awaitSettled(closing, SETTLE_MILLIS);
    }

    /** What an EXECUTE, FETCH or MOVE runs; any other statement runs itself. */
    Resolution resolve(StatementAnalysis a) throws IOException {
        if (a == null) {
            return new Resolution(null, null, null);
        }
        switch (a.kind()) {
            case EXECUTE -> {
                String name = SqlAnalyzer.preparedStatementName(a.text());
                Statement s = name == null ? null : statement(name);
                if (s == null) {
                    return new Resolution(a, null, new Refusal(ErrorCodes.INVALID_SQL_STATEMENT_NAME,
                            "prepared statement \"" + name + "\" does not exist"));
                }
                return new Resolution(a, new Target("prepared statement " + name, s, List.of()), null);
            }
            case FETCH, MOVE -> {
                Portal p = a.cursor() == null ? null : portal(a.cursor());
                if (p == null) {
                    return new Resolution(a, null, new Refusal(ErrorCodes.INVALID_CURSOR_NAME,
                            "cursor \"" + a.cursor() + "\" does not exist"));
                }
                return new Resolution(a, new Target("cursor " + a.cursor(), p.statement(), p.parameters()), null);
            }
            default -> {
                return new Resolution(a, null, null);
            }
        }
    }

    /** A simple Query drops the unnamed statement and portal before it runs anything, whatever then happens. */
    List<Pending> queryStarts() {
        return exchange.state(s -> List.of(s.stage(new SessionState.DropStatement(""), null, true),
                s.stage(new SessionState.DropPortal(""), null, true)));
    }

    /**
     * Stages what {@code a} changes when it runs: PREPARE, DEALLOCATE, DECLARE, CLOSE, DISCARD ALL, savepoints, and
     * the end of a transaction. {@code inQuery}: a statement of a simple Query, confirmed by its own CommandComplete tag;
     * otherwise the statement of an Execute, confirmed by the Execute's completion.
     */
    List<Pending> stage(StatementAnalysis a, List<String> parameters, boolean inQuery) {
        if (a == null || analyzer == null) {
            return List.of();
        }
        Change change = null;
        String tag = null;
        switch (a.kind()) {
            case PREPARE -> {
                String name = SqlAnalyzer.preparedStatementName(a.text());
                String body = UtilityWords.preparedBody(a.text());
                if (name != null) {
                    StatementAnalysis runs = inner(body, a);
                    change = new SessionState.PutStatement(name, new Statement(name, body == null ? a.text() : body,
                            a.text(), new ResultShape.Prepared(runs), null));
                }
                tag = "PREPARE";
            }
            case DEALLOCATE -> {
                String name = SqlAnalyzer.preparedStatementName(a.text());
                if (name != null || UtilityWords.deallocateAll(a.text())) {
                    change = new SessionState.DropStatement(name);
                }
                tag = "DEALLOCATE";
            }
            case DECLARE_CURSOR -> {
                String query = UtilityWords.cursorQuery(a.text());
                if (a.cursor() != null) {
                    StatementAnalysis runs = inner(query, a);
                    ResultShape.Prepared prepared = new ResultShape.Prepared(runs);
                    Statement s = new Statement(null, query == null ? a.text() : query, a.text(), prepared, null);
                    change = new SessionState.PutPortal(a.cursor(), new Portal(s, parameters,
                            ResultShape.portal(prepared, null, null, false),
                            UtilityWords.withHold(a.text()) ? Hold.UNTIL_COMMIT : Hold.TRANSACTION, true));
                }
                tag = "DECLARE";
            }
            case CLOSE_CURSOR -> {
                change = new SessionState.DropPortal(a.cursor());
                tag = "CLOSE";
            }
            case OTHER -> {
                if (UtilityWords.discardAll(a.text())) {
                    change = new SessionState.DiscardAll();
                    tag = "DISCARD";
                }
            }
            case TRANSACTION -> {
                Savepoints.Command savepoint = Savepoints.Command.of(a.facts().savepoint());
                if (a.endsTransaction()) {
                    change = new SessionState.EndTransaction();
                    tag = "COMMIT";
                } else if (savepoint != null) {
                    change = savepoint;
                    tag = switch (savepoint.kind()) {
                        case SET -> "SAVEPOINT";
                        case ROLLBACK_TO -> "ROLLBACK";
                        case RELEASE -> "RELEASE";
                    };
                }
            }
            default -> {
            }
        }
        if (change == null) {
            return List.of();
        }
        Change c = change;
        String t = inQuery ? tag : null;
        return exchange.state(s -> List.of(s.stage(c, t, false)));
    }

    /** The statement inside a PREPARE or DECLARE, analysed as itself; the outer analysis when it cannot be read. */
    private StatementAnalysis inner(String body, StatementAnalysis outer) {
        if (body == null) {
            return outer;
        }
        List<StatementAnalysis> analyses = analyzer.apply(body);
        if (analyses.size() != 1 || !analyses.getFirst().parsed()) {
            return outer;
        }
        return analyses.getFirst();
    }

    /** The client sent a Sync or a simple Query. */
    void endSegment() {
        exchange.state(s -> {
            s.endSegment();
            return null;
        });
    }

    /** Forgets changes staged for statements the gateway refused before forwarding them. */
    void forget(List<Pending> staged) {
        if (staged.isEmpty()) {
            return;
        }
        exchange.state(s -> {
            staged.forEach(s::forget);
            return null;
        });
    }
}
