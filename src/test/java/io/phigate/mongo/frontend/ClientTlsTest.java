package io.phigate.mongo.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** Telling a TLS ClientHello from a wire-protocol header by the first 16 bytes of a connection. */
class ClientTlsTest {
    private static byte[] header(int length, int opCode) {
        return ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(length).putInt(7).putInt(0)
                .putInt(opCode).array();
    }

    @Test
    void aClientHelloIsTls() {
        byte[] hello = new byte[16];
        byte[] start = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (byte) 0xFC, 0x03, 0x03, 0x5A, 0x11, 0x22,
                0x33, 0x44};
        System.arraycopy(start, 0, hello, 0, 16);
        assertThat(ClientTls.isClientHello(hello)).isTrue();
    }

    @Test
    void aMessageOf790BytesStartsLikeATlsRecordButItsOpCodeSaysOtherwise() {
        // 790 = 0x316: little-endian 16 03 00 00, a TLS handshake record's first bytes.
        byte[] msg = header(790, 2013);
        msg[5] = 0x01; // a request id whose second byte reads as ClientHello's type
        assertThat(ClientTls.isClientHello(msg)).isFalse();
        assertThat(ClientTls.isClientHello(header(790, 2004))).isFalse();
        assertThat(ClientTls.isClientHello(header(300, 2013))).isFalse();
    }
}
