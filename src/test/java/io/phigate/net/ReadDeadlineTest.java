package io.phigate.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ReadDeadlineTest {

    @Test
    void aReadBlockedAtTheDeadlineEndsAsATimeoutAndThePeerCanStillBeTold() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket client = new Socket(server.getInetAddress(), server.getLocalPort());
             Socket accepted = server.accept()) {
            long start = System.nanoTime();
            ReadDeadline deadline = ReadDeadline.arm(accepted, start + TimeUnit.MILLISECONDS.toNanos(300));
            var in = new DeadlineInputStream(accepted.getInputStream(), deadline);
            assertThatThrownBy(() -> in.read(new byte[16], 0, 16)).isInstanceOf(SocketTimeoutException.class);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(250L, 5_000L);
            assertThatThrownBy(in::read).as("every read after it").isInstanceOf(SocketTimeoutException.class);
            assertThatThrownBy(deadline::clear).as("too late to lift").isInstanceOf(SocketTimeoutException.class);

            accepted.getOutputStream().write("timed out".getBytes());
            accepted.getOutputStream().flush();
            client.setSoTimeout(5_000);
            assertThat(new String(client.getInputStream().readNBytes(9))).isEqualTo("timed out");
        }
    }

    @Test
    void aLiftedDeadlineNeverEndsALaterRead() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket client = new Socket(server.getInetAddress(), server.getLocalPort());
             Socket accepted = server.accept()) {
            ReadDeadline deadline = ReadDeadline.arm(accepted, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200));
            InputStream in = new DeadlineInputStream(accepted.getInputStream(), deadline);
            client.getOutputStream().write(1);
            assertThat(in.read()).isEqualTo(1);
            deadline.clear();
            Thread.sleep(400); // past the deadline
            client.getOutputStream().write(2);
            assertThat(in.read()).as("read after the deadline's time").isEqualTo(2);
            assertThat(deadline.fired()).isFalse();
        }
    }

    @Test
    void aPeerThatClosesIsAnEndOfStreamNotATimeout() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket client = new Socket(server.getInetAddress(), server.getLocalPort());
             Socket accepted = server.accept()) {
            ReadDeadline deadline = ReadDeadline.arm(accepted, System.nanoTime() + TimeUnit.SECONDS.toNanos(30));
            InputStream in = new DeadlineInputStream(accepted.getInputStream(), deadline);
            client.close();
            assertThat(in.read()).isEqualTo(-1);
            deadline.clear();
        }
    }
}
