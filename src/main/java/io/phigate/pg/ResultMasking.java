package io.phigate.pg;

import io.phigate.mask.CopyFormat;

import io.phigate.mask.MaskPlan;
import io.phigate.pg.masking.CopyMasker;
import io.phigate.pg.masking.RowMessages;
import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.BackendMessage.CopyOutResponse;
import io.phigate.pg.message.BackendMessage.ErrorResponse;
import io.phigate.pg.message.BackendMessage.NoticeResponse;
import io.phigate.pg.message.BackendMessage.NotificationResponse;
import io.phigate.pg.message.BackendMessage.RowDescription;
import io.phigate.pg.message.BackendMessage.RowDescription.Field;
import io.phigate.pg.message.FrameReader;
import io.phigate.pg.message.MessageCodec;
import io.phigate.session.SessionMasking;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What a masked session's client may see of the server's answers: rows masked by the plan of the statement they
 * answer (planned from its analysis and the RowDescription), COPY data rewritten, descriptions re-typed where a
 * value cannot keep its type, and errors, notices and notifications scrubbed of values the client did not send.
 * Runs on the response pump; the statement being answered is {@link Exchange#head}.
 */
final class ResultMasking {
    private final SessionMasking masking;
    private final Exchange exchange;

    ResultMasking(SessionMasking masking, Exchange exchange) {
        this.masking = masking;
        this.exchange = exchange;
    }

    /** Returns true when the frame was handled here (masked, held or dropped); false to stream it as is. */
    boolean maskedForward(byte type, FrameReader upstream) throws IOException {
        Op head = exchange.head();
        ResultShape shape = head == null ? null : head.shape();
        if (type == 'D') {
            if (shape == null) {
                if (!masking.masksPhi()) {
                    return false;
                }
                byte[] body = upstream.body(); // rows nobody described: nothing says what they carry
                exchange.writeFrame(type, RowMessages.maskDataRow(MaskPlan.NULL_ALL, body, masking.scrubber()));
                return true;
            }
            MaskPlan plan = shape.plan;
            byte[] body = null;
            if (plan == null) {
                body = upstream.body();
                plan = portalPlan(shape, body);
            }
            if (head.statement() != null && !plan.summary().isEmpty() && !head.statement().maskReported) {
                head.statement().maskReported = true;
                head.statement().masked(plan.summary());
            }
            if (plan.passThrough()) {
                if (body == null) {
                    return false;
                }
                exchange.writeFrame(type, body);
                return true;
            }
            exchange.writeFrame(type, RowMessages.maskDataRow(plan, body == null ? upstream.body() : body,
                    masking.scrubber()));
            return true;
        }
        if (shape == null || shape.copy == null) {
            return false;
        }
        byte[] out = shape.copy.mask(upstream.body());
        if (out.length > 0) {
            exchange.writeFrame(type, out);
        }
        return true;
    }

    /** The plan for an Execute whose portal was not described: from its statement's description, if any. */
    private MaskPlan portalPlan(ResultShape shape, byte[] firstRow) throws IOException {
        List<Field> fields = shape.prepared == null ? null : shape.prepared.fields;
        if (fields == null) {
            // Never described: the gateway knows the column count only, not the types, so masked values become NULL.
            int n = ((firstRow[0] & 0xff) << 8) | (firstRow[1] & 0xff);
            List<Field> unknown = new java.util.ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                unknown.add(new Field("?column?", 0, (short) 0, 0, (short) -1, -1, (short) 0));
            }
            fields = unknown;
        }
        shape.plan = masking.plan(shape.current(),
                RowMessages.columns(fields, shape.formats == null ? new short[0] : shape.formats));
        noticeNulls(shape.plan);
        return shape.plan;
    }

    /** Rewrites what a masked session may not see as sent: descriptions, COPY starts, errors, notices. */
    byte[] maskFrame(byte type, byte[] body) throws IOException {
        sessionTables(type, body);
        switch (type) {
            case 'T' -> {
                RowDescription rd = (RowDescription) MessageCodec.decodeBackend(type, body);
                Op head = exchange.head();
                MaskPlan plan;
                if (head != null && head.described() != null) {
                    head.described().fields = rd.fields();
                    plan = masking.plan(head.described().analysis, RowMessages.columns(rd.fields(), null));
                } else if (head != null && head.shape() != null) {
                    plan = masking.plan(head.shape().current(), RowMessages.columns(rd.fields(), null));
                    head.shape().plan = plan;
                    noticeNulls(plan);
                    if (head.statement() != null) {
                        head.statement().masked(plan.summary());
                    }
                } else {
                    plan = masking.plan(null, RowMessages.columns(rd.fields(), null));
                }
                List<Field> described = RowMessages.describedFields(plan, rd.fields());
                return described == rd.fields() ? body : bodyOf(new RowDescription(described));
            }
            case 'H' -> {
                Op head = exchange.head();
                if (head != null && head.shape() != null) {
                    ResultShape shape = head.shape();
                    MaskPlan plan = masking.planCopy(shape.current());
                    CopyOutResponse cr = (CopyOutResponse) MessageCodec.decodeBackend(type, body);
                    if (!plan.passThrough()) {
                        // A binary COPY of PHI is refused before it runs; if one gets here anyway, its rows go NULL.
                        boolean text = cr.format() == 0 && shape.copyFormat() != null;
                        shape.copy = new CopyMasker(text ? plan : MaskPlan.NULL_ALL, masking.scrubber(),
                                text ? shape.copyFormat() : CopyFormat.TEXT, shape.copyHeader());
                        if (head.statement() != null) {
                            head.statement().masked(plan.summary().isEmpty() ? "copy: content detection" : plan.summary());
                        }
                    }
                }
                return body;
            }
            case 'c' -> {
                Op head = exchange.head();
                if (head != null && head.shape() != null && head.shape().copy != null) {
                    byte[] rest = head.shape().copy.finish();
                    if (rest.length > 0) {
                        exchange.writeFrame((byte) 'd', rest);
                    }
                    head.shape().copy = null;
                }
                return body;
            }
            case 'E', 'N' -> {
                Map<Byte, String> fields = type == 'E'
                        ? ((ErrorResponse) MessageCodec.decodeBackend(type, body)).fields()
                        : ((NoticeResponse) MessageCodec.decodeBackend(type, body)).fields();
                Map<Byte, String> scrubbed = new LinkedHashMap<>();
                boolean changed = false;
                Set<String> known = masking.masksPhi() ? knownTo(fields) : Set.of();
                for (Map.Entry<Byte, String> f : fields.entrySet()) {
                    String v = masking.scrubMessage((char) (byte) f.getKey(), f.getValue(), known);
                    changed |= v != f.getValue();
                    scrubbed.put(f.getKey(), v);
                }
                if (!changed) {
                    return body;
                }
                return bodyOf(type == 'E' ? new ErrorResponse(scrubbed) : new NoticeResponse(scrubbed));
            }
            case 'A' -> {
                NotificationResponse n = (NotificationResponse) MessageCodec.decodeBackend(type, body);
                String payload = masking.masksPhi() ? "[withheld by phigate]" : masking.scrubber().scrub(n.payload());
                return payload.equals(n.payload()) ? body
                        : bodyOf(new NotificationResponse(n.processId(), n.channel(), payload));
            }
            default -> {
                return body;
            }
        }
    }

    /**
     * One NOTICE per column whose values the plan replaces with NULL, saying which column, what it derives from and
     * the rule (issue 23): a NULL alone does not tell the client that it was masked. Once per statement, however
     * many rows or Executes it takes; it goes before the rows it explains.
     */
    private void noticeNulls(MaskPlan plan) throws IOException {
        Op head = exchange.head();
        if (!plan.nullsAnyColumn() || (head != null && head.statement() != null && head.statement().nullsNoticed)) {
            return;
        }
        if (head != null && head.statement() != null) {
            head.statement().nullsNoticed = true;
        }
        for (int i = 0; i < plan.columns(); i++) {
            String reason = plan.nulledBecause(i);
            if (reason != null) {
                exchange.writeFrame((byte) 'N', bodyOf(io.phigate.pg.message.ErrorCodes.notice(reason)));
            }
        }
    }

    /**
     * Tells the session's temporary tables what the server did (decision 0050): the statement it completed, an
     * error, the transaction status at ReadyForQuery. The statement completing is the head op's current one.
     */
    private void sessionTables(byte type, byte[] body) throws IOException {
        io.phigate.sql.SessionTables tables = masking.tables();
        if (tables == null) {
            return;
        }
        switch (type) {
            case 'C' -> {
                Op head = exchange.head();
                ResultShape shape = head == null ? null : head.shape();
                io.phigate.sql.StatementAnalysis current = shape == null ? null : shape.current();
                // The tag says how a table change went (CREATE TABLE AS's row count); a statement that changes no
                // table leaves it unread, so most completions are not decoded at all (decision 0083).
                String tag = current == null || current.facts().tableChanges().isEmpty() ? null
                        : ((BackendMessage.CommandComplete) MessageCodec.decodeBackend(type, body)).tag();
                tables.completed(current, tag);
            }
            case 'E' -> tables.serverError();
            case 'Z' -> tables.readyForQuery(body[0]);
            default -> {
            }
        }
    }

    /** Error and notice fields that name catalog objects (schema, table, column, data type, constraint). */
    private static final byte[] NAME_FIELDS = {'s', 't', 'c', 'd', 'n'};

    /**
     * What the client already knows, so a message may quote it back: the words of the statements still to be
     * answered up to the next Sync, and the names the message carries in its own fields.
     */
    private Set<String> knownTo(Map<Byte, String> fields) {
        Set<String> known = exchange.pendingWords();
        for (byte name : NAME_FIELDS) {
            String v = fields.get(name);
            if (v != null) {
                known.add(v.toLowerCase(Locale.ROOT));
            }
        }
        return known;
    }

    static byte[] bodyOf(BackendMessage m) {
        byte[] frame = MessageCodec.encode(m);
        return java.util.Arrays.copyOfRange(frame, 5, frame.length);
    }
}
