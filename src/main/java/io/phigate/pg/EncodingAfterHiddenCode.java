package io.phigate.pg;

import io.phigate.pg.message.ErrorCodes;
import io.phigate.pg.message.FrontendMessage.Bind;
import io.phigate.session.Refusal;
import java.util.Set;
import java.util.function.IntFunction;

/**
 * What the open-batch rule (decision 0063, extending 0057) says about the names and values of a message sent after
 * code that may have changed client_encoding out of sight ({@link OpenBatch#encodingMayHaveChanged}). The
 * server decodes every name in Parse, Bind, Describe, Execute and Close, and every text-format value in Bind and
 * FunctionCall, by the encoding in force when it reads the message, and reports a change only at the batch's
 * ReadyForQuery (not at all when the change was local to the batch's implicit transaction). ASCII reads the same in
 * every encoding ({@link SettingDependentText}); anything beyond it may not. Pure.
 */
final class EncodingAfterHiddenCode {
    /**
     * Joins the recorded text of a statement bound with a value the server may have decoded by an encoding the
     * gateway cannot see (see {@link #misreadable}). Refusing such values would refuse every pgjdbc executeBatch of
     * accented names from its second row (one Sync ends the whole batch), so they are recorded as sent, and said so.
     */
    static final String VALUES_MAY_BE_MISREAD = "\n-- phigate: bound after code in the same batch that may have"
            + " changed client_encoding; the server decoded its parameters beyond ASCII that it reads as text by the"
            + " encoding then in force, which it reports only at the batch's end, so they may stand for other characters than recorded";

    /**
     * Types whose binary receive function reads no text, so the server never converts their bytes: booleans,
     * bytea, numbers, dates and times, uuid, network addresses, bit strings, geometry, pg_lsn, and arrays of the
     * commonest of them. Any other declared type (text, varchar, name, json, jsonb, xml, an enum, a domain, a
     * composite) may be read as characters.
     */
    private static final Set<Integer> NEVER_TEXT_IN_BINARY = Set.of(16, 17, 20, 21, 23, 26, 27, 28, 29, 600, 601,
            603, 628, 650, 700, 701, 718, 790, 829, 869, 1082, 1083, 1114, 1184, 1186, 1266, 1560, 1562, 1700, 2950,
            3220, 1000, 1001, 1005, 1007, 1016, 1021, 1022, 1028, 1115, 1182, 1183, 1185, 1187, 1231, 2951);

    private EncodingAfterHiddenCode() {
    }

    /**
     * Null when the server reads these statement and portal names as the gateway does; else the refusal: under
     * another encoding the same bytes are another name, which may be another prepared statement or portal than the
     * one the gateway judged.
     */
    static Refusal names(boolean mayHaveChanged, String... names) {
        if (!mayHaveChanged) {
            return null;
        }
        for (String name : names) {
            if (SettingDependentText.nonAscii(name)) {
                return new Refusal(ErrorCodes.FEATURE_NOT_SUPPORTED, "phigate refuses a statement or portal name"
                        + " with a non-ASCII character after a Bind or Execute in the same extended-protocol batch: a"
                        + " statement before it may have changed client_encoding, which the server reports only at the"
                        + " batch's end, and under another encoding the server would read the name as another; send it"
                        + " after a Sync, or use an ASCII name");
            }
        }
        return null;
    }

    /**
     * True when a Bind's values may stand for other characters than the gateway records: a text-format value
     * beyond ASCII, or a binary one whose declared type's receive function may read text (textrecv, json, enums,
     * arrays of them; an undeclared type, inferred by the server, may be any).
     */
    static boolean misreadable(boolean mayHaveChanged, Bind b, ResultShape.Prepared prepared) {
        if (!mayHaveChanged) {
            return false;
        }
        int[] declared = prepared == null ? new int[0] : prepared.parameterTypes;
        byte[][] values = b.parameters();
        for (int i = 0; i < values.length; i++) {
            if (values[i] != null && SettingDependentText.nonAscii(values[i]) && (b.parameterFormat(i) == 0
                    || i >= declared.length || !NEVER_TEXT_IN_BINARY.contains(declared[i]))) {
                return true;
            }
        }
        return false;
    }

    /** The statement a misreadable Bind's portal runs, its recorded text joined with the note. */
    static SessionState.Statement recordedAsMisreadable(SessionState.Statement s) {
        return new SessionState.Statement(s.name(), s.text() + VALUES_MAY_BE_MISREAD, s.source(), s.prepared(),
                s.risk());
    }

    /**
     * The refusal of a Bind in that state with a text-format value that is not UTF-8: under UTF8 the server refuses
     * it itself, so it would run only where the encoding changed, and be recorded as characters (U+FFFD) it never
     * stood for. Else null.
     */
    static Refusal malformed(boolean mayHaveChanged, byte[][] values, IntFunction<Short> format) {
        return !mayHaveChanged || !SettingDependentText.malformedText(values, format) ? null
                : new Refusal(ClientText.CHARACTER_NOT_IN_REPERTOIRE, "invalid byte sequence for encoding \"UTF8\""
                        + " in a bound parameter after code in the same batch that may have changed client_encoding");
    }

    /**
     * The refusal of a FunctionCall with a text argument beyond ASCII in an open batch, or null. No client sends a
     * FunctionCall inside a batch; the large-object calls carry binary integers and bytea, never converted.
     */
    static Refusal functionArguments(boolean mayHaveChanged, byte[][] arguments, IntFunction<Short> format) {
        return !mayHaveChanged || !SettingDependentText.nonAsciiText(arguments, format) ? null : new Refusal(ErrorCodes.FEATURE_NOT_SUPPORTED,
                "phigate refuses a fast-path function call with a non-ASCII text argument inside an extended-protocol"
                        + " batch after a Bind or Execute: a statement before it may have changed client_encoding;"
                        + " send it after a Sync");
    }
}
