package io.phigate.http;

import io.javalin.Javalin;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.phigate.config.HostPort;
import java.net.InetSocketAddress;

/**
 * The gateway's HTTP listener: liveness at {@code /healthz} and Prometheus metrics at {@code /metrics}. Metrics
 * carry counts and states only, never statement text, parameters or row values. The approvals API and the web
 * console arrive here in their own issues.
 */
public final class HttpServer implements AutoCloseable {
    private final Javalin app;
    private final String host;

    public HttpServer(HostPort address, PrometheusMeterRegistry registry) {
        this.host = address.host();
        this.app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.jetty.host = address.host();
            config.jetty.port = address.port();
            config.routes.get("/healthz", ctx -> ctx.result("ok"));
            config.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                    .result(registry.scrape()));
        });
    }

    public static PrometheusMeterRegistry newRegistry() {
        return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    }

    public HttpServer start() {
        app.start();
        return this;
    }

    public InetSocketAddress address() {
        return new InetSocketAddress(host, app.port());
    }

    @Override
    public void close() {
        app.stop();
    }
}
