package io.phigate.pg;

import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditEvent.Protocol;
import io.phigate.audit.AuditSink;
import io.phigate.pg.message.ErrorCodes;
import io.phigate.pg.message.FrontendMessage.Bind;
import io.phigate.pg.message.FrontendMessage.Close;
import io.phigate.pg.message.FrontendMessage.Describe;
import io.phigate.pg.message.FrontendMessage.Execute;
import io.phigate.pg.message.FrontendMessage.FunctionCall;
import io.phigate.pg.message.FrontendMessage.Parse;
import io.phigate.pg.message.FrontendMessage.Query;
import io.phigate.policy.RiskRules;
import io.phigate.session.Decision;
import io.phigate.session.FastPathFunctions;
import io.phigate.session.Refusal;
import io.phigate.session.StatementApprovals;
import io.phigate.session.StatementPipeline;
import io.phigate.session.StatementRequest;
import io.phigate.session.StatementRules;
import io.phigate.sql.PgCatalog;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementKind;
import io.phigate.sql.TypeNames;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Function;

/**
 * The client messages that run statements or name them (Query, Parse, Bind, Describe, Execute, Close,
 * FunctionCall), translated into {@link StatementRequest}s for the session's {@link StatementPipeline} and its
 * decisions into frames. Each is judged against the {@link SessionState} as the server will resolve its names: an
 * EXECUTE as the prepared statement it names, a FETCH or MOVE as its cursor's query, a portal as the statement it
 * was bound from. What each forwarded message would change in that state is staged with it. What code earlier in
 * the open request forbids is the {@link OpenBatch}'s to say, the gateway's own settings are {@link KeptSettings}'.
 * Runs on the client reader.
 */
final class StatementMessages {
    private final RequestForwarder forwarder;
    private final StateView names;
    private final Exchange exchange;
    /** Null when no policy needs statements analysed: they are forwarded unparsed, and only named. */
    private final Function<String, List<StatementAnalysis>> analyzer;
    private final StatementPipeline pipeline;
    private final HeldStatements approvals;
    /** The settings the gateway keeps itself, answered without the server. */
    private final KeptSettings kept;
    /** What a Parse's parameter type OIDs name (decision 0080); null where no catalog was read. */
    private final PgCatalog catalog;

    StatementMessages(RequestForwarder forwarder, StateView names, Exchange exchange,
                      Function<String, List<StatementAnalysis>> analyzer, PgCatalog catalog,
                      StatementPipeline pipeline, HeldStatements approvals, AuditSink audit) {
        this.catalog = catalog;
        this.forwarder = forwarder;
        this.names = names;
        this.exchange = exchange;
        this.analyzer = analyzer;
        this.pipeline = pipeline;
        this.approvals = approvals;
        this.kept = new KeptSettings(forwarder, exchange, pipeline, audit);
    }

    /** A simple Query: each statement judged as what it runs (an EXECUTE as its prepared statement, a FETCH as
     *  its cursor's query), recorded with that, and forwarded with the changes it makes staged. */
    void query(Query q, byte type, byte[] body) throws IOException {
        List<SessionState.Pending> staged = new ArrayList<>(names.queryStarts());
        try {
            List<StatementAnalysis> judged = null;
            List<StatementAnalysis> runs = new ArrayList<>();
            Refusal unresolved = null;
            String text = q.sql();
            if (analyzer != null) {
                Refusal misread = forwarder.batch.text(q.sql());
                if (misread != null) {
                    names.forget(staged);
                    forwarder.forwardChunk();
                    forwarder.refuseStatement(Protocol.SIMPLE, q.sql(), misread, false);
                    return;
                }
                List<StatementAnalysis> analyses = analyzer.apply(q.sql());
                if (StatementPipeline.keptSetting(analyses)) {
                    names.forget(staged);
                    kept.query(q.sql(), analyses);
                    return;
                }
                judged = new ArrayList<>();
                StringBuilder notes = new StringBuilder();
                for (StatementAnalysis a : analyses) {
                    StateView.Resolution r = names.resolve(a);
                    if (r.refusal() != null) {
                        unresolved = r.refusal();
                        break;
                    }
                    judged.addAll(r.judged());
                    runs.add(r.runs());
                    if (r.target() != null) {
                        notes.append(r.target().note());
                    }
                    staged.addAll(names.stage(a, List.of(), true));
                }
                text = q.sql() + notes;
            }
            StatementRun run = forwarder.newStatement(0);
            StatementRequest request = StatementRequest.run(run.id, Protocol.SIMPLE, text, judged);
            Decision d = unresolved != null ? pipeline.refuse(request, unresolved) : pipeline.decide(request);
            if (d instanceof Decision.Refuse refused) {
                names.forget(staged);
                forwarder.forwardChunk();
                forwarder.refused(refused, false);
                return;
            }
            AuditEvent used = null;
            if (d instanceof Decision.Hold hold) {
                forwarder.forwardChunk();
                StatementApprovals.Verdict verdict = pipeline.approve(hold, approvals);
                if (verdict.refusal() != null) {
                    names.forget(staged);
                    forwarder.refused(pipeline.refuse(request, verdict.refusal()), false);
                    return;
                }
                used = verdict.used();
            }
            // After the rules (their refusal names what they found), before anything runs (decision 0064).
            Refusal moved = judged == null ? null : forwarder.batch.query(judged);
            if (moved != null) {
                names.forget(staged);
                forwarder.forwardChunk();
                forwarder.refused(pipeline.refuse(request, moved), false);
                return;
            }
            ResultShape shape = analyzer == null ? null : ResultShape.query(Collections.unmodifiableList(runs));
            record(run, d);
            if (used != null) {
                forwarder.chunk.events.add(used);
            }
            forwarder.chunk.add(type, body, Op.shaped(Op.Kind.QUERY, run, shape).withChanges(staged));
            forwarder.endRequest();
        } finally {
            names.endSegment();
        }
    }

    void parse(Parse p, byte type, byte[] body) throws IOException {
        if (refusedForNames(p.query(), p.statement())) {
            return;
        }
        exchange.state(s -> s.removeLocalStatement(p.statement()));
        ResultShape.Prepared prepared = null;
        RiskRules.Hit risk = null;
        if (analyzer != null) {
            Refusal misread = forwarder.batch.text(p.query());
            if (misread != null) {
                refuse(p.query(), misread);
                return;
            }
            // A parameter typed by OID is judged as the same type named in the text (a domain's CHECK runs at Bind).
            List<StatementAnalysis> analyses = TypeNames.withParameterTypes(analyzer.apply(p.query()),
                    p.parameterTypes(), catalog);
            if (kept.parse(p, analyses)) {
                return;
            }
            Decision d = pipeline.prepare(StatementRequest.prepared(Protocol.EXTENDED, p.query(), analyses));
            if (d instanceof Decision.Refuse refused) {
                forwarder.forwardChunk();
                forwarder.refused(refused, true);
                return;
            }
            risk = d instanceof Decision.Hold hold ? hold.rule() : null;
            prepared = new ResultShape.Prepared(analyses.isEmpty() ? null : analyses.getFirst(), p.parameterTypes());
        }
        SessionState.Statement statement = new SessionState.Statement(p.statement(), p.query(), p.query(), prepared,
                risk);
        SessionState.Pending staged = exchange.state(s -> s.stage(
                new SessionState.PutStatement(p.statement(), statement)));
        forwarder.extended(type, body, Op.parse(prepared).withChanges(List.of(staged)));
    }

    void bind(Bind b, byte type, byte[] body) throws IOException {
        if (refusedForNames(null, b.portal(), b.statement())) {
            return;
        }
        // Asked before this Bind counts as code that may run: the server decodes its values before running any.
        Refusal malformed = forwarder.batch.malformedValues(b);
        if (malformed != null) {
            refuse(null, malformed);
            return;
        }
        if (kept.bind(b)) {
            return;
        }
        SessionState.Statement statement = names.statement(b.statement());
        if (statement == null && analyzer != null) {
            refuse(null, new Refusal(ErrorCodes.INVALID_SQL_STATEMENT_NAME, "prepared statement \"" + b.statement()
                    + "\" does not exist"));
            return;
        }
        StatementAnalysis analysis = statement == null ? null : statement.analysis();
        String asked = null;
        if (forwarder.batch.askBeforeBind(analysis)) {
            asked = forwarder.askWithinBatch(); // names may have moved: the server says before they are resolved
            if (forwarder.discardingToSync()) {
                return;
            }
        }
        forwarder.batch.bind(analysis, b.parameters().length,
                statement == null || statement.prepared() == null ? null : statement.prepared().parameterTypes);
        ResultShape shape = analyzer == null ? null : portalShape(statement, b.resultFormats());
        SessionState.Statement runs = forwarder.batch.recordedAs(b, statement);
        // What the server showed goes to the portal's records, never into the text an approval is bound to.
        SessionState.Portal portal = new SessionState.Portal(runs, BoundValues.render(b.parameters(), b::parameterFormat), shape,
                SessionState.Hold.TRANSACTION, false, asked);
        SessionState.Pending staged = exchange.state(s -> s.stage(new SessionState.PutPortal(b.portal(), portal)));
        forwarder.batch.bound();
        forwarder.extended(type, body, Op.of(Op.Kind.BIND).withChanges(List.of(staged)));
    }

    /**
     * What the pump needs to mask a portal's results: its statement, or for an EXECUTE or FETCH the statement or
     * cursor it names now (an Execute names it again when it runs, see {@link #execute}).
     */
    private ResultShape portalShape(SessionState.Statement statement, short[] formats) throws IOException {
        ResultShape.Prepared prepared = runsPrepared(statement);
        StatementAnalysis a = prepared.analysis;
        // Only a COPY TO (or text the analyser could not read) needs its output options read.
        String text = a == null || (a.parsed() && a.kind() != StatementKind.COPY_TO) ? null : a.text();
        return ResultShape.portal(prepared, formats, StatementRules.copyFormat(text), StatementRules.copyHeader(text));
    }

    /** The prepared statement whose results {@code statement}'s are: itself, or what its EXECUTE/FETCH names. */
    private ResultShape.Prepared runsPrepared(SessionState.Statement statement) throws IOException {
        ResultShape.Prepared prepared = statement.prepared() == null ? new ResultShape.Prepared(null)
                : statement.prepared();
        StateView.Resolution r = names.resolve(prepared.analysis);
        return r.target() == null || r.target().statement().prepared() == null ? prepared
                : r.target().statement().prepared();
    }

    void describe(Describe d, byte type, byte[] body) throws IOException {
        if (refusedForNames(null, d.name())) {
            return;
        }
        if (kept.describe(d)) {
            return;
        }
        boolean statement = d.kind() == 'S';
        Op op = Op.of(Op.Kind.DESCRIBE);
        if (analyzer != null && statement) {
            SessionState.Statement s = names.statement(d.name());
            ResultShape.Prepared prepared = s == null ? new ResultShape.Prepared(null) : runsPrepared(s);
            // The description of an EXECUTE or FETCH is its target's: recorded apart, so it cannot stand for it.
            op = Op.describeStatement(s != null && prepared != s.prepared()
                    ? new ResultShape.Prepared(prepared.analysis) : prepared);
        } else if (analyzer != null) {
            SessionState.Portal portal = names.portal(d.name());
            op = Op.shaped(Op.Kind.DESCRIBE, null, portal == null ? null : portal.shape());
        }
        forwarder.extended(type, body, op);
    }

    void execute(Execute e, byte type, byte[] body) throws IOException {
        if (refusedForNames(null, e.portal())) {
            return;
        }
        if (kept.execute(e)) {
            return;
        }
        SessionState.Portal portal = names.portal(e.portal());
        if (portal == null && analyzer != null) {
            refuse(null, new Refusal(ErrorCodes.INVALID_CURSOR_NAME, "portal \"" + e.portal() + "\" does not exist"));
            return;
        }
        SessionState.Statement statement = portal == null ? null : portal.statement();
        StatementAnalysis analysis = statement == null ? null : statement.analysis();
        String asked = portal == null ? null : portal.asked();
        if (forwarder.batch.askBeforeExecute(analysis)) {
            // a utility statement reads its names now, not at its Bind
            asked = (asked == null ? "" : asked) + forwarder.askWithinBatch();
            if (forwarder.discardingToSync()) {
                return;
            }
        }
        String text = statement == null ? null : statement.text();
        List<String> parameters = portal == null ? List.of() : portal.parameters();
        ResultShape shape = portal == null ? null : portal.shape();
        List<StatementAnalysis> judged = analysis == null ? null : List.of(analysis);
        List<SessionState.Pending> staged = List.of();
        StateView.Resolution r = analyzer == null || analysis == null ? null : names.resolve(analysis);
        // An EXECUTE or FETCH is judged each time it runs, as what its name means now; any other statement was
        // judged at its Parse, and runs under the approval rule found then.
        boolean rejudged = r != null && (r.refusal() != null || r.target() != null);
        if (rejudged) {
            judged = r.judged();
            text = r.target() == null ? text : text + r.target().note();
        }
        StatementRun run = forwarder.newStatement(e.maxRows());
        StatementRequest request = new StatementRequest(run.id, run.startNanos, Protocol.EXTENDED, text,
                statement == null ? List.of() : parameters, statement == null ? null : statement.name(), e.portal(),
                statement == null ? null : judged, asked);
        Decision d = !rejudged ? pipeline.admit(request, statement == null ? null : statement.risk())
                : r.refusal() != null ? pipeline.refuse(request, r.refusal()) : pipeline.decide(request);
        if (d instanceof Decision.Refuse refused) {
            forwarder.forwardChunk();
            forwarder.refused(refused, true);
            return;
        }
        if (rejudged) {
            ResultShape.Prepared target = r.target().statement().prepared();
            if (target != null && (shape == null || shape.prepared != target)) {
                shape = ResultShape.portal(target, shape == null ? null : shape.formats, null, false);
            }
        }
        if (analysis != null && analyzer != null) {
            staged = names.stage(analysis, parameters, false);
        }
        record(run, d);
        forwarder.batch.executes(judged);
        forwarder.chunk.extended = true;
        if (d instanceof Decision.Hold hold) {
            forwarder.holdForApproval(new RequestForwarder.HeldExecute(run, hold.rule(),
                    HeldStatements.withParameterTypes(text, statement), parameters, analysis));
        }
        forwarder.chunk.add(type, body, Op.shaped(Op.Kind.EXECUTE, run, analyzer == null ? null : shape)
                .withChanges(staged));
    }

    void close(Close c, byte type, byte[] body) throws IOException {
        if (refusedForNames(null, c.name())) {
            return;
        }
        if (kept.close(c)) {
            return;
        }
        boolean statement = c.kind() == 'S';
        SessionState.Pending staged = exchange.state(s -> s.stage(statement ? new SessionState.DropStatement(c.name())
                : new SessionState.DropPortal(c.name())));
        forwarder.extended(type, body, Op.of(Op.Kind.CLOSE).withChanges(List.of(staged)));
    }

    /** A fast-path FunctionCall: it names its function by OID and carries no SQL, so the pipeline judges it blind. */
    void functionCall(FunctionCall f, byte type, byte[] body) throws IOException {
        String name = FastPathFunctions.allowed(f.functionOid());
        String text = "-- function call: oid " + f.functionOid() + (name == null ? "" : " (" + name + ")");
        StatementRun run = forwarder.newStatement(0);
        StatementRequest request = new StatementRequest(run.id, run.startNanos, Protocol.FUNCTION_CALL, text,
                BoundValues.render(f.arguments(), f::argumentFormat), null, null, analyzer == null ? null
                : List.of(StatementAnalysis.unparsed(text, "a fast-path function call: function OID " + f.functionOid())));
        Refusal misread = forwarder.batch.functionArguments(f);
        Decision d = misread != null ? pipeline.refuse(request, misread) : pipeline.callFunction(request,
                f.functionOid());
        if (d instanceof Decision.Refuse refused) {
            forwarder.forwardChunk();
            forwarder.refused(refused, false);
            return;
        }
        record(run, d);
        forwarder.chunk.add(type, body, Op.statement(Op.Kind.FUNCTION_CALL, run));
        forwarder.endRequest();
    }

    /** Refuses an extended-protocol message whose names the server may read as others (decision 0063). */
    private boolean refusedForNames(String text, String... names) throws IOException {
        Refusal misread = forwarder.batch.names(names);
        if (misread != null) {
            refuse(text, misread);
        }
        return misread != null;
    }

    private void refuse(String text, Refusal refusal) throws IOException {
        forwarder.forwardChunk();
        forwarder.refuseStatement(Protocol.EXTENDED, text, refusal, true);
    }

    /** A decision's records join the chunk, to be made durable before its frames go upstream. */
    private void record(StatementRun run, Decision d) {
        forwarder.chunk.statement(run, d.records().getFirst());
        forwarder.chunk.events.addAll(d.records().subList(1, d.records().size()));
    }
}
