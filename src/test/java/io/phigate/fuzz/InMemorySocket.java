package io.phigate.fuzz;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;

/** A connected loopback socket whose peer sent {@code input} and then closed; what the gateway writes is kept. */
public final class InMemorySocket extends Socket {
    private final InputStream in;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    public InMemorySocket(byte[] input) {
        this.in = new ByteArrayInputStream(input);
    }

    @Override
    public InputStream getInputStream() {
        return in;
    }

    @Override
    public OutputStream getOutputStream() {
        return out;
    }

    public byte[] written() {
        return out.toByteArray();
    }

    @Override
    public void setSoTimeout(int timeout) {
        // reads never block
    }

    @Override
    public InetAddress getInetAddress() {
        return InetAddress.getLoopbackAddress();
    }

    @Override
    public SocketAddress getRemoteSocketAddress() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), 40000);
    }

    @Override
    public int getPort() {
        return 40000;
    }

    @Override
    public boolean isConnected() {
        return true;
    }
}
