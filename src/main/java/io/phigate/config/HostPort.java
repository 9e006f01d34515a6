package io.phigate.config;

import java.net.InetSocketAddress;

/** A host and port as written in the config; resolved only when a socket is opened, so DNS changes are followed. */
public record HostPort(String host, int port) {
    public InetSocketAddress resolve() {
        return new InetSocketAddress(host, port);
    }

    @Override
    public String toString() {
        return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
    }
}
