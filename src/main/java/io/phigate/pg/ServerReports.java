package io.phigate.pg;

import io.phigate.session.StatementRules;
import io.phigate.session.ClientEncoding;
import io.phigate.pg.message.BackendMessage.ErrorResponse;
import io.phigate.pg.message.BackendMessage.ParameterStatus;
import io.phigate.pg.message.ErrorCodes;
import io.phigate.pg.message.MessageCodec;
import io.phigate.pg.message.ProtocolException;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * What the server says about the session itself, read on the response pump before a frame goes on to the client.
 *
 * <p>In an analysed session, the settings the gateway's reading of statements depends on: {@code client_encoding}
 * must stay UTF8 (in another encoding, such as SJIS or BIG5, the server reads a byte that is the end of a UTF-8
 * character and the {@code \} after it as one character, and so a different statement from the one analysed), and
 * {@code standard_conforming_strings} must stay on. The server reports both at startup and whenever they change,
 * whatever changed them: SET, set_config, RESET, a function's own SET, ALTER ROLE/DATABASE ... SET at login. So this
 * is the backstop behind every route the analyser refuses by reading the statement: a report of any other value
 * ends the session at once, and nothing more goes either way.
 *
 * <p>In every session, a FATAL error from the server (57P01 when it is shut down or the backend terminated): the
 * server ends the session with it, so it is the last word the client gets, not followed by one of the gateway's.
 *
 * <p>Runs on the response pump.
 */
final class ServerReports {
    private final boolean analysed;
    /** Ends the session with a FATAL of the gateway's own (sqlState, message). */
    private final BiConsumer<String, String> endSession;
    private volatile boolean serverEndedSession;
    /** The session user, superuser status and (PostgreSQL 18 on) search_path, as decision 0064 keeps them. */
    private final HiddenSettingChanges hidden;

    ServerReports(boolean analysed, BiConsumer<String, String> endSession) {
        this(analysed, endSession, null);
    }

    ServerReports(boolean analysed, BiConsumer<String, String> endSession, HiddenSettingChanges hidden) {
        this.analysed = analysed;
        this.endSession = endSession;
        this.hidden = hidden;
    }

    /** False when the frame ended the session: it and everything after it must not be forwarded. */
    boolean admit(byte type, byte[] body) throws ProtocolException {
        if (type == 'E') {
            String severity = ((ErrorResponse) MessageCodec.decodeBackend(type, body)).fields().get((byte) 'V');
            if ("FATAL".equals(severity) || "PANIC".equals(severity)) {
                serverEndedSession = true;
            }
        } else if (type == 'S' && analysed) {
            ParameterStatus p = (ParameterStatus) MessageCodec.decodeBackend(type, body);
            String problem = problem(p.name(), p.value());
            if (problem == null && hidden != null) {
                problem = hidden.reported(p.name(), p.value());
            }
            if (problem != null) {
                endSession.accept(ErrorCodes.FEATURE_NOT_SUPPORTED, "phigate ended the session: " + problem);
                return false;
            }
        }
        return true;
    }

    /** True once the server sent a FATAL error: its connection is ending and the client has been told why. */
    boolean serverEndedSession() {
        return serverEndedSession;
    }

    /** The first setting the server reported at startup that an analysed session cannot run with, or null. */
    static String problem(List<ParameterStatus> reported) {
        for (ParameterStatus p : reported) {
            String problem = problem(p.name(), p.value());
            if (problem != null) {
                return problem;
            }
        }
        return null;
    }

    /** Why an analysed session cannot run with the server's setting {@code name} at {@code value}, or null. */
    static String problem(String name, String value) {
        if (name.equals(ClientEncoding.SETTING) && !ClientEncoding.isUtf8(value)) {
            return "the server reports client_encoding " + value + "; phigate reads this session's statements as"
                    + " UTF-8 and analyses them only while the server does too (client_encoding UTF8)";
        }
        if (name.equals("standard_conforming_strings") && !StatementRules.isOn(value)) {
            return "the server reports standard_conforming_strings " + value + "; phigate reads string literals as"
                    + " the SQL standard does and analyses statements only with it on";
        }
        return null;
    }
}
