package io.phigate.pg;

import io.phigate.session.ClientEncoding;
import io.phigate.session.Refusal;
import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.pg.message.BackendMessage;
import io.phigate.pg.message.ErrorCodes;
import io.phigate.pg.message.MessageCodec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The server's word on the settings an analysed session depends on, and on the session's end, frame by frame. */
class ServerReportsTest {
    private final List<String> ended = new ArrayList<>();

    private static byte[] body(BackendMessage m) {
        byte[] frame = MessageCodec.encode(m);
        return Arrays.copyOfRange(frame, 5, frame.length);
    }

    @ParameterizedTest
    @ValueSource(strings = {"UTF8", "utf8", "'utf-8'", "Unicode", "u_t_f-8", " UTF8 "})
    void everySpellingPostgresMapsToUtf8IsUtf8(String name) {
        assertThat(ClientEncoding.isUtf8(name)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"SJIS", "BIG5", "LATIN1", "SQL_ASCII", "utf16", "utf", "", "ｕｔｆ８"})
    void anythingElseIsNot(String name) {
        assertThat(ClientEncoding.isUtf8(name)).isFalse();
    }

    @Test
    void anAnalysedSessionEndsAtAReportOfAnotherEncodingAndTheReportIsNotForwarded() throws Exception {
        ServerReports reports = new ServerReports(true, (state, message) -> ended.add(state + " " + message));
        assertThat(reports.admit((byte) 'S', body(new BackendMessage.ParameterStatus("client_encoding", "UTF8"))))
                .isTrue();
        assertThat(reports.admit((byte) 'S', body(new BackendMessage.ParameterStatus("TimeZone", "UTC")))).isTrue();
        assertThat(ended).isEmpty();
        assertThat(reports.admit((byte) 'S', body(new BackendMessage.ParameterStatus("client_encoding", "SJIS"))))
                .isFalse();
        assertThat(ended).singleElement().asString().startsWith("0A000").contains("client_encoding SJIS");
    }

    @Test
    void standardConformingStringsOffEndsItToo() throws Exception {
        ServerReports reports = new ServerReports(true, (state, message) -> ended.add(message));
        assertThat(reports.admit((byte) 'S',
                body(new BackendMessage.ParameterStatus("standard_conforming_strings", "off")))).isFalse();
        assertThat(ServerReports.problem(List.of(new BackendMessage.ParameterStatus("standard_conforming_strings",
                "on"), new BackendMessage.ParameterStatus("client_encoding", "UTF8")))).isNull();
        assertThat(ServerReports.problem(List.of(new BackendMessage.ParameterStatus("client_encoding", "LATIN1"))))
                .contains("client_encoding LATIN1");
    }

    @Test
    void aPassThroughSessionForwardsEveryReport() throws Exception {
        ServerReports reports = new ServerReports(false, (state, message) -> ended.add(message));
        assertThat(reports.admit((byte) 'S', body(new BackendMessage.ParameterStatus("client_encoding", "SJIS"))))
                .isTrue();
        assertThat(ended).isEmpty();
    }

    @Test
    void aServerFatalIsNotedAndAnErrorIsNot() throws Exception {
        ServerReports reports = new ServerReports(false, (state, message) -> ended.add(message));
        assertThat(reports.admit((byte) 'E', body(ErrorCodes.error("42P01", "relation does not exist")))).isTrue();
        assertThat(reports.serverEndedSession()).isFalse();
        assertThat(reports.admit((byte) 'E', body(ErrorCodes.fatal(ErrorCodes.ADMIN_SHUTDOWN,
                "terminating connection due to administrator command")))).isTrue();
        assertThat(reports.serverEndedSession()).isTrue();
    }

    @Test
    void statementTextThatIsNotUtf8GetsTheServersErrorAndNamesTheBytesAsItDoes() {
        byte[] query = {'S', 'E', 'L', 'E', 'C', 'T', ' ', '\'', (byte) 0xE9, ' ', '\'', 0};
        Refusal r = ClientText.invalidUtf8((byte) 'Q', query);
        assertThat(r.sqlState()).isEqualTo("22021");
        assertThat(r.message()).isEqualTo("invalid byte sequence for encoding \"UTF8\": 0xe9 0x20 0x27");
        byte[] surrogate = {'x', (byte) 0xED, (byte) 0xA0, (byte) 0x80, 0};
        assertThat(ClientText.invalidUtf8((byte) 'Q', surrogate)).isNotNull();
        byte[] fine = "SELECT 'ünï'\0".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(ClientText.invalidUtf8((byte) 'Q', fine)).isNull();
        // A Parse's statement name counts; its parameter type OIDs after the text do not.
        byte[] parse = {'s', 0, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1', 0, 0, 1, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF,
                (byte) 0xFF};
        assertThat(ClientText.invalidUtf8((byte) 'P', parse)).isNull();
        byte[] badName = {(byte) 0xC3, 0, 'S', 0, 0, 0};
        assertThat(ClientText.invalidUtf8((byte) 'P', badName)).isNotNull();
    }
}
