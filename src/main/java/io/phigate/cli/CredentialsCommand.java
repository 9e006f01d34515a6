package io.phigate.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.phigate.config.ConfigException;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code phigate credentials issue}: trade an agent token for a one-session database login. */
@Command(name = "credentials", description = "One-session database credentials for agents that cannot send a token.",
        subcommands = {CredentialsCommand.Issue.class})
final class CredentialsCommand implements Runnable {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing required subcommand");
    }

    /**
     * Prints shell exports ({@code export PGUSER=... PGPASSWORD=...}) so {@code eval "$(phigate credentials issue ...)"}
     * sets up psql; {@code --json} prints the API's answer instead.
     */
    @Command(name = "issue", description = "POST the token to /api/v1/credentials and print the one-time login.")
    static final class Issue implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;

        @ArgGroup(exclusive = true, multiplicity = "1")
        GatewayUrl gateway;

        @Option(names = "--token-file", required = true, paramLabel = "FILE", description = "The agent's JWT.")
        Path tokenFile;

        @Option(names = "--justification", paramLabel = "TEXT", description = "Why the agent needs the data.")
        String justification;

        @Option(names = "--upstream", paramLabel = "NAME", description = "Bind the credential to this upstream.")
        String upstream;

        @Option(names = "--json", description = "Print the API's JSON as is.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            var err = spec.commandLine().getErr();
            URI base;
            String token;
            try {
                base = gateway.base();
                token = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
            } catch (ConfigException | IOException e) {
                err.println("phigate credentials issue: " + e.getMessage());
                return 1;
            }
            Map<String, String> body = new LinkedHashMap<>();
            if (justification != null) {
                body.put("justification", justification);
            }
            if (upstream != null) {
                body.put("upstream", upstream);
            }
            HttpRequest request = HttpRequest.newBuilder(base.resolve("/api/v1/credentials"))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build();
            HttpResponse<String> r;
            try {
                r = GatewayUrl.send(request);
            } catch (IOException e) {
                err.println("phigate credentials issue: cannot reach " + base + ": " + e.getMessage());
                return 1;
            }
            if (r.statusCode() / 100 != 2) {
                err.println("phigate credentials issue: " + r.statusCode() + " " + r.body());
                return 1;
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(r.body());
            } else {
                JsonNode c = JSON.readTree(r.body());
                out.println("export PGUSER=" + c.get("username").asText());
                out.println("export PGPASSWORD=" + c.get("password").asText());
                out.println("# expires at " + c.get("expires_at").asText() + "; usable for one connection");
            }
            out.flush();
            return 0;
        }
    }
}
