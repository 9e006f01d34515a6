package io.phigate.cli;

import io.phigate.config.ConfigException;
import io.phigate.config.ConfigLoader;
import io.phigate.config.HostPort;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * {@code --url URL | --config FILE}: which running gateway's HTTP API a command talks to. Declared with
 * {@code @ArgGroup(exclusive = true, multiplicity = "1")}. With a config, the address is {@code listen.http}
 * (a wildcard host is reached on loopback).
 */
final class GatewayUrl {
    @Option(names = "--url", required = true, paramLabel = "URL", description = "The gateway's HTTP API, e.g. http://127.0.0.1:8080.")
    URI url;

    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "The gateway configuration (its listen.http).")
    Path config;

    URI base() throws ConfigException {
        if (url != null) {
            return url;
        }
        HostPort http = ConfigLoader.load(config).listen().http();
        if (http == null) {
            throw new ConfigException(config + ": listen.http is not set, so the gateway serves no HTTP API");
        }
        String host = http.host().isEmpty() || http.host().equals("0.0.0.0") ? "127.0.0.1"
                : http.host().equals("::") ? "[::1]" : http.host().contains(":") ? "[" + http.host() + "]" : http.host();
        return URI.create("http://" + host + ":" + http.port());
    }

    /**
     * The admin token file the gateway of {@code --config} writes at start ({@code http.admin_token_file}); null
     * with {@code --url}, or when the config turns it off.
     */
    Path adminTokenFile() throws ConfigException {
        return config == null ? null : ConfigLoader.load(config).http().adminTokenFile();
    }

    /**
     * Sends {@code method path} (with {@code body} as JSON when not null, and {@code bearer} as the token when not
     * null) to this gateway. The response when it is 2xx; otherwise prints why, prefixed {@code phigate COMMAND:},
     * and returns null.
     */
    HttpResponse<String> call(java.io.PrintWriter err, String command, String method, String path, String body,
                              String bearer) throws InterruptedException {
        URI base;
        try {
            base = base();
        } catch (ConfigException e) {
            err.println("phigate " + command + ": " + e.getMessage());
            return null;
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path));
        if (bearer != null) {
            b.header("Authorization", "Bearer " + bearer);
        }
        // Every write is JSON, an empty body too: the gateway refuses writes a cross-site form could send.
        b = method.equals("GET") ? b.method(method, HttpRequest.BodyPublishers.noBody())
                : b.header("Content-Type", "application/json").method(method, body == null
                        ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r;
        try {
            r = send(b.build());
        } catch (java.io.IOException e) {
            err.println("phigate " + command + ": cannot reach " + base + ": " + e.getMessage());
            return null;
        }
        if (r.statusCode() / 100 != 2) {
            err.println("phigate " + command + ": " + r.statusCode() + " " + r.body());
            return null;
        }
        return r;
    }

    static HttpResponse<String> send(HttpRequest request) throws java.io.IOException, InterruptedException {
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build()) {
            return client.send(request, HttpResponse.BodyHandlers.ofString());
        }
    }
}
