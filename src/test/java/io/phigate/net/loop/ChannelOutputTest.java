package io.phigate.net.loop;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import org.junit.jupiter.api.Test;

/** Writes never block: what the peer does not take waits (bounded by the caller), and a drained buffer is let go. */
class ChannelOutputTest {

    @Test
    void whatThePeerDoesNotTakeWaitsAndTheBufferIsReleasedOnceDrained() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
             SocketChannel writer = SocketChannel.open(server.getLocalAddress());
             SocketChannel reader = server.accept()) {
            writer.configureBlocking(false);
            ChannelOutput out = new ChannelOutput(writer);
            byte[] chunk = new byte[1 << 20];
            long written = 0;
            for (int i = 0; i < 16; i++) {
                out.write(chunk, 0, chunk.length);
                out.flush(); // never blocks, whatever the peer does
                written += chunk.length;
            }
            assertThat(out.backlog()).as("the peer reads nothing: most waits here").isGreaterThan(0);
            InputStream in = reader.socket().getInputStream();
            byte[] sink = new byte[1 << 16];
            long taken = 0;
            while (taken < written) {
                out.writable();
                int n = in.read(sink);
                taken += n;
            }
            out.writable();
            assertThat(out.backlog()).isZero();
            assertThat(out.capacity()).as("a large buffer is let go once drained").isZero();
        }
    }
}
