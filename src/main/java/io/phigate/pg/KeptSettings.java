package io.phigate.pg;

import io.phigate.audit.AuditSink;
import io.phigate.audit.AuditUnavailableException;
import io.phigate.audit.AuditEvent.Protocol;
import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.ErrorCodes;
import io.phigate.pg.message.FrontendMessage.Bind;
import io.phigate.pg.message.FrontendMessage.Close;
import io.phigate.pg.message.FrontendMessage.Describe;
import io.phigate.pg.message.FrontendMessage.Execute;
import io.phigate.pg.message.FrontendMessage.Parse;
import io.phigate.pg.message.MessageCodec;
import io.phigate.session.Decision;
import io.phigate.session.Refusal;
import io.phigate.session.StatementPipeline;
import io.phigate.session.StatementRequest;
import io.phigate.sql.StatementAnalysis;
import java.io.IOException;
import java.util.List;

/**
 * The settings the gateway keeps itself ({@code SET phigate.*}): never forwarded, answered here in protocol order. In
 * the extended protocol (pgjdbc sends SET through Parse/Bind/Execute) the gateway keeps such a statement and its
 * portal under the client's names, over whatever the server holds under the same names, until the client replaces or
 * closes them. Each method returns true when it answered the message. Runs on the client reader.
 */
final class KeptSettings {
    private final RequestForwarder forwarder;
    private final Exchange exchange;
    private final StatementPipeline pipeline;
    private final AuditSink audit;

    KeptSettings(RequestForwarder forwarder, Exchange exchange, StatementPipeline pipeline, AuditSink audit) {
        this.forwarder = forwarder;
        this.exchange = exchange;
        this.pipeline = pipeline;
        this.audit = audit;
    }

    /** A simple Query of a kept setting ({@link StatementPipeline#keptSetting}): recorded and answered. */
    void query(String sql, List<StatementAnalysis> analyses) throws IOException {
        forwarder.forwardChunk();
        answer(pipeline.decide(StatementRequest.run(forwarder.newStatement(0).id, Protocol.SIMPLE, sql, analyses)),
                false);
    }

    /** A Parse of a kept setting. A statement the server holds under the same name stays there, under it. */
    boolean parse(Parse p, List<StatementAnalysis> analyses) throws IOException {
        if (!StatementPipeline.keptSetting(analyses)) {
            return false;
        }
        SessionState.LocalSetting local = new SessionState.LocalSetting(p.query(), analyses.getFirst());
        exchange.state(s -> {
            s.putLocalStatement(p.statement(), local);
            return null;
        });
        forwarder.respondNow(BackendMessage.ParseComplete.INSTANCE);
        return true;
    }

    /** A Bind of a kept setting's statement; any Bind replaces a kept portal of the same name. */
    boolean bind(Bind b) throws IOException {
        exchange.state(s -> s.removeLocalPortal(b.portal()));
        SessionState.LocalSetting local = exchange.state(s -> s.localStatement(b.statement()));
        if (local == null) {
            return false;
        }
        exchange.state(s -> {
            s.putLocalPortal(b.portal(), local);
            return null;
        });
        forwarder.respondNow(BackendMessage.BindComplete.INSTANCE);
        return true;
    }

    /** A Describe of a kept statement (no parameters, no rows) or portal (no rows). */
    boolean describe(Describe d) throws IOException {
        boolean statement = d.kind() == 'S';
        if (exchange.state(s -> statement ? s.localStatement(d.name()) : s.localPortal(d.name())) == null) {
            return false;
        }
        forwarder.respondNow(statement ? new BackendMessage[]{new BackendMessage.ParameterDescription(new int[0]),
                BackendMessage.NoData.INSTANCE} : new BackendMessage[]{BackendMessage.NoData.INSTANCE});
        return true;
    }

    /** An Execute of a kept portal: the setting is judged, recorded and applied. */
    boolean execute(Execute e) throws IOException {
        SessionState.LocalSetting local = exchange.state(s -> s.localPortal(e.portal()));
        if (local == null) {
            return false;
        }
        forwarder.forwardChunk();
        answer(pipeline.decide(StatementRequest.run(forwarder.newStatement(0).id, Protocol.EXTENDED, local.text(),
                List.of(local.analysis()))), true);
        return true;
    }

    /** A Close of a kept statement or portal. */
    boolean close(Close c) throws IOException {
        boolean statement = c.kind() == 'S';
        if (exchange.state(s -> statement ? s.removeLocalStatement(c.name()) : s.removeLocalPortal(c.name())) == null) {
            return false;
        }
        forwarder.respondNow(BackendMessage.CloseComplete.INSTANCE);
        return true;
    }

    /**
     * Its records made durable, then CommandComplete (with ReadyForQuery for a simple Query; in the extended protocol
     * the Sync that follows goes upstream, whose ReadyForQuery carries the true transaction status).
     */
    private void answer(Decision d, boolean extended) throws IOException {
        if (d instanceof Decision.Refuse refused) {
            forwarder.refused(refused, extended);
            return;
        }
        Decision.AnswerLocally answer = (Decision.AnswerLocally) d;
        try {
            audit.appendDurably(answer.records());
        } catch (AuditUnavailableException e) {
            forwarder.refused(pipeline.refuse(answer.request(), new Refusal(ErrorCodes.SYSTEM_IO_ERROR,
                    "phigate refused the statement: the audit store cannot record it (" + e.getMessage() + ")")),
                    extended);
            return;
        }
        byte[] done = MessageCodec.encode(new BackendMessage.CommandComplete(answer.commandTag()));
        exchange.respondLocally(extended ? done : RequestForwarder.concat(done,
                MessageCodec.encode(new BackendMessage.ReadyForQuery(exchange.transactionStatus()))));
    }
}
