package io.phigate.pg;

import io.phigate.audit.AuditEvent;
import io.phigate.audit.AuditEvent.Protocol;
import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.ErrorCodes;
import io.phigate.pg.message.FrontendMessage.Bind;
import io.phigate.pg.message.FrontendMessage.Close;
import io.phigate.pg.message.FrontendMessage.Describe;
import io.phigate.pg.message.FrontendMessage.Execute;
import io.phigate.pg.message.FrontendMessage.Parse;
import io.phigate.pg.message.FrontendMessage.Query;
import io.phigate.policy.RiskRules;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementKind;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The client messages that run statements or name them (Query, Parse, Bind, Describe, Execute, Close), judged
 * against the {@link SessionState} as the server will resolve their names: an EXECUTE as the prepared statement
 * it names, a FETCH or MOVE as its cursor's query, a portal as the statement it was bound from. What each
 * forwarded message would change in that state is staged with it. Runs on the client reader.
 */
final class StatementMessages {
    /** {@code SET phigate.*}: kept and answered by the session itself. */
    interface GatewaySettings {
        void apply(String sql, StatementAnalysis a, boolean extended) throws IOException;
    }

    private final RequestForwarder forwarder;
    private final StateView names;
    private final Exchange exchange;
    /** Null when no policy needs statements analysed: they are forwarded unparsed, and only named. */
    private final Function<String, List<StatementAnalysis>> analyzer;
    private final StatementGate gate;
    private final HeldStatements approvals;
    private final Supplier<String> justification;
    private final GatewaySettings settings;

    StatementMessages(RequestForwarder forwarder, StateView names, Exchange exchange,
                      Function<String, List<StatementAnalysis>> analyzer, StatementGate gate,
                      HeldStatements approvals, Supplier<String> justification, GatewaySettings settings) {
        this.forwarder = forwarder;
        this.names = names;
        this.exchange = exchange;
        this.analyzer = analyzer;
        this.gate = gate;
        this.approvals = approvals;
        this.justification = justification;
        this.settings = settings;
    }

    /** A simple Query: each statement judged as what it runs (an EXECUTE as its prepared statement, a FETCH as
     *  its cursor's query), recorded with that, and forwarded with the changes it makes staged. */
    void query(Query q, byte type, byte[] body) throws IOException {
        List<SessionState.Pending> staged = new ArrayList<>(names.queryStarts());
        try {
            ResultShape shape = null;
            RiskRules.Hit risk = null;
            List<StatementAnalysis> judged = null;
            String text = q.sql();
            if (analyzer != null) {
                List<StatementAnalysis> analyses = analyzer.apply(q.sql());
                if (analyses.size() == 1 && StatementGate.isGatewaySetting(analyses.getFirst())) {
                    names.forget(staged);
                    forwarder.forwardChunk();
                    settings.apply(q.sql(), analyses.getFirst(), false);
                    return;
                }
                judged = new ArrayList<>();
                List<StatementAnalysis> runs = new ArrayList<>();
                StringBuilder notes = new StringBuilder();
                StatementGate.Refusal refusal = null;
                String copyText = null;
                for (StatementAnalysis a : analyses) {
                    StateView.Resolution r = names.resolve(a);
                    if (r.refusal() != null) {
                        refusal = r.refusal();
                        break;
                    }
                    judged.addAll(r.judged());
                    runs.add(r.runs());
                    if (r.target() != null) {
                        notes.append(r.target().note());
                    }
                    if (a.kind() == StatementKind.COPY_TO) {
                        copyText = a.text();
                    }
                    staged.addAll(names.stage(a, List.of(), true));
                }
                text = q.sql() + notes;
                if (refusal == null) {
                    refusal = gate.check(judged, justification.get());
                }
                if (refusal != null) {
                    names.forget(staged);
                    forwarder.forwardChunk();
                    forwarder.refuseStatement(Protocol.SIMPLE, text, refusal, false, judged);
                    return;
                }
                risk = gate.approvalFor(judged);
                shape = ResultShape.query(Collections.unmodifiableList(runs), StatementGate.copyFormat(copyText),
                        StatementGate.copyHeader(copyText));
            }
            StatementRun run = forwarder.newStatement(0);
            AuditEvent used = null;
            if (risk != null) {
                forwarder.forwardChunk();
                HeldStatements.Verdict verdict = approvals.approval(run, text, List.of(), null, risk);
                if (verdict.refusal() != null) {
                    names.forget(staged);
                    forwarder.refuseStatement(run, Protocol.SIMPLE, text, verdict.refusal(), false, judged);
                    return;
                }
                used = verdict.used();
            }
            forwarder.chunk.statement(run, forwarder.requested(run, Protocol.SIMPLE, text, List.of(), null, null, judged));
            if (used != null) {
                forwarder.chunk.events.add(used);
            }
            forwarder.chunk.add(type, body, Exchange.Op.shaped(Exchange.Kind.QUERY, run, shape).withChanges(staged));
            forwarder.forwardChunk();
        } finally {
            names.endSegment();
        }
    }

    void parse(Parse p, byte type, byte[] body) throws IOException {
        exchange.state(s -> s.removeLocalStatement(p.statement()));
        ResultShape.Prepared prepared = null;
        RiskRules.Hit risk = null;
        if (analyzer != null) {
            List<StatementAnalysis> analyses = analyzer.apply(p.query());
            if (analyses.size() == 1 && StatementGate.isGatewaySetting(analyses.getFirst())) {
                // pgjdbc sends SET through Parse/Bind/Execute: answered here, never forwarded. A statement the
                // server holds under the same name stays there, under the overlay.
                SessionState.LocalSetting local = new SessionState.LocalSetting(p.query(), analyses.getFirst());
                exchange.state(s -> {
                    s.putLocalStatement(p.statement(), local);
                    return null;
                });
                forwarder.respondNow(BackendMessage.ParseComplete.INSTANCE);
                return;
            }
            StatementGate.Refusal refusal = analyses.stream().anyMatch(StatementGate::isGatewaySetting)
                    ? new StatementGate.Refusal(ErrorCodes.FEATURE_NOT_SUPPORTED, "send SET"
                            + " phigate.justification or phigate.approval as a statement of its own")
                    : gate.check(analyses, justification.get());
            if (refusal != null) {
                forwarder.forwardChunk();
                forwarder.refuseStatement(Protocol.EXTENDED, p.query(), refusal, true, analyses);
                return;
            }
            risk = gate.approvalFor(analyses);
            prepared = new ResultShape.Prepared(analyses.isEmpty() ? null : analyses.getFirst());
        }
        SessionState.Statement statement = new SessionState.Statement(p.statement(), p.query(), p.query(), prepared,
                risk);
        SessionState.Pending staged = exchange.state(s -> s.stage(
                new SessionState.PutStatement(p.statement(), statement)));
        forwarder.extended(type, body, Exchange.Op.parse(prepared).withChanges(List.of(staged)));
    }

    void bind(Bind b, byte type, byte[] body) throws IOException {
        exchange.state(s -> s.removeLocalPortal(b.portal()));
        SessionState.LocalSetting local = exchange.state(s -> s.localStatement(b.statement()));
        if (local != null) {
            exchange.state(s -> {
                s.putLocalPortal(b.portal(), local);
                return null;
            });
            forwarder.respondNow(BackendMessage.BindComplete.INSTANCE);
            return;
        }
        SessionState.Statement statement = names.statement(b.statement());
        if (statement == null && analyzer != null) {
            forwarder.forwardChunk();
            forwarder.refuseStatement(Protocol.EXTENDED, null, new StatementGate.Refusal(ErrorCodes.INVALID_SQL_STATEMENT_NAME,
                    "prepared statement \"" + b.statement() + "\" does not exist"), true);
            return;
        }
        ResultShape shape = analyzer == null ? null : portalShape(statement, b.resultFormats());
        SessionState.Portal portal = new SessionState.Portal(statement, RequestRecords.render(b.parameters(), b::parameterFormat),
                shape, SessionState.Hold.TRANSACTION, false);
        SessionState.Pending staged = exchange.state(s -> s.stage(new SessionState.PutPortal(b.portal(), portal)));
        forwarder.extended(type, body, Exchange.Op.of(Exchange.Kind.BIND).withChanges(List.of(staged)));
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
        return ResultShape.portal(prepared, formats, StatementGate.copyFormat(text), StatementGate.copyHeader(text));
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
        boolean statement = d.kind() == 'S';
        if (exchange.state(s -> statement ? s.localStatement(d.name()) : s.localPortal(d.name())) != null) {
            forwarder.respondNow(statement ? new BackendMessage[]{new BackendMessage.ParameterDescription(new int[0]),
                    BackendMessage.NoData.INSTANCE} : new BackendMessage[]{BackendMessage.NoData.INSTANCE});
            return;
        }
        Exchange.Op op = Exchange.Op.of(Exchange.Kind.DESCRIBE);
        if (analyzer != null && statement) {
            SessionState.Statement s = names.statement(d.name());
            ResultShape.Prepared prepared = s == null ? new ResultShape.Prepared(null) : runsPrepared(s);
            // The description of an EXECUTE or FETCH is its target's: recorded apart, so it cannot stand for it.
            op = Exchange.Op.describeStatement(s != null && prepared != s.prepared()
                    ? new ResultShape.Prepared(prepared.analysis) : prepared);
        } else if (analyzer != null) {
            SessionState.Portal portal = names.portal(d.name());
            op = Exchange.Op.shaped(Exchange.Kind.DESCRIBE, null, portal == null ? null : portal.shape());
        }
        forwarder.extended(type, body, op);
    }

    void execute(Execute e, byte type, byte[] body) throws IOException {
        SessionState.LocalSetting local = exchange.state(s -> s.localPortal(e.portal()));
        if (local != null) {
            forwarder.forwardChunk();
            settings.apply(local.text(), local.analysis(), true);
            return;
        }
        SessionState.Portal portal = names.portal(e.portal());
        if (portal == null && analyzer != null) {
            forwarder.forwardChunk();
            forwarder.refuseStatement(Protocol.EXTENDED, null, new StatementGate.Refusal(ErrorCodes.INVALID_CURSOR_NAME,
                    "portal \"" + e.portal() + "\" does not exist"), true);
            return;
        }
        SessionState.Statement statement = portal == null ? null : portal.statement();
        StatementAnalysis analysis = statement == null ? null : statement.analysis();
        String text = statement == null ? null : statement.text();
        List<String> parameters = portal == null ? List.of() : portal.parameters();
        RiskRules.Hit risk = statement == null ? null : statement.risk();
        ResultShape shape = portal == null ? null : portal.shape();
        List<StatementAnalysis> judged = analysis == null ? null : List.of(analysis);
        List<SessionState.Pending> staged = List.of();
        if (analyzer != null && analysis != null) {
            StateView.Resolution r = names.resolve(analysis);
            if (r.refusal() != null || r.target() != null) {
                // An EXECUTE or FETCH: judged each time it runs, as what its name means now.
                judged = r.judged();
                text = r.target() == null ? text : text + r.target().note();
                StatementGate.Refusal refusal = r.refusal() != null ? r.refusal() : gate.check(judged, justification.get());
                if (refusal != null) {
                    forwarder.forwardChunk();
                    forwarder.refuseStatement(Protocol.EXTENDED, text, refusal, true, judged);
                    return;
                }
                risk = gate.approvalFor(judged);
                ResultShape.Prepared target = r.target().statement().prepared();
                if (target != null && (shape == null || shape.prepared != target)) {
                    shape = ResultShape.portal(target, shape == null ? null : shape.formats, null, false);
                }
            }
            staged = names.stage(analysis, parameters, false);
        }
        StatementRun run = forwarder.newStatement(e.maxRows());
        forwarder.chunk.statement(run, statement == null ? forwarder.requested(run, Protocol.EXTENDED, null, List.of(), null, e.portal())
                : forwarder.requested(run, Protocol.EXTENDED, text, parameters, statement.name(), e.portal(), judged));
        forwarder.chunk.extended = true;
        if (risk != null) {
            forwarder.holdForApproval(new RequestForwarder.HeldExecute(run, risk, text, parameters, analysis));
        }
        forwarder.chunk.add(type, body, Exchange.Op.shaped(Exchange.Kind.EXECUTE, run, analyzer == null ? null : shape)
                .withChanges(staged));
    }

    void close(Close c, byte type, byte[] body) throws IOException {
        boolean statement = c.kind() == 'S';
        if (exchange.state(s -> statement ? s.removeLocalStatement(c.name()) : s.removeLocalPortal(c.name())) != null) {
            forwarder.respondNow(BackendMessage.CloseComplete.INSTANCE);
            return;
        }
        SessionState.Pending staged = exchange.state(s -> s.stage(statement ? new SessionState.DropStatement(c.name())
                : new SessionState.DropPortal(c.name())));
        forwarder.extended(type, body, Exchange.Op.of(Exchange.Kind.CLOSE).withChanges(List.of(staged)));
    }
}
