package io.phigate.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code phigate sessions list|kill}: the live sessions of a running gateway, through its admin API. With
 * {@code --config}, the token is the local admin token the gateway wrote at start ({@code http.admin_token_file});
 * {@code --token-file} gives another (an {@code http.admins} identity's, or a console user's).
 */
@Command(name = "sessions", description = "List or end the live sessions of a running gateway.",
        subcommands = {SessionsCommand.ListSessions.class, SessionsCommand.Kill.class})
final class SessionsCommand implements Runnable {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing required subcommand");
    }

    @Command(name = "list", description = "Print one line per live session: id, subject, upstream, start, statements (and, among"
            + " replicas sharing an audit store, the replica holding it).")
    static final class ListSessions implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;

        @ArgGroup(exclusive = true, multiplicity = "1")
        GatewayUrl gateway;

        @Option(names = "--json", description = "Print the API's JSON as is.")
        boolean json;

        @Option(names = "--token-file", paramLabel = "FILE", description = "The token to send (default with --config:"
                + " the admin token file the gateway wrote at start, http.admin_token_file).")
        Path tokenFile;

        @Override
        public Integer call() throws Exception {
            HttpResponse<String> r = request(spec, gateway, "GET", "/api/v1/sessions", tokenFile);
            if (r == null) {
                return 1;
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(r.body());
            } else {
                for (JsonNode s : JSON.readTree(r.body()).get("sessions")) {
                    String line = String.join("\t", s.get("id").asText(), s.get("subject").asText(),
                            s.get("upstream").asText(), s.get("started_at").asText(), s.get("statements").asText());
                    // Among replicas sharing an audit store, the one holding the session.
                    out.println(s.hasNonNull("replica") ? line + "\t" + s.get("replica").asText() : line);
                }
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "kill", description = "End live sessions at once (the client gets 57P01), by id or by subject.")
    static final class Kill implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;

        @ArgGroup(exclusive = true, multiplicity = "1")
        GatewayUrl gateway;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Target target;

        @Option(names = "--token-file", paramLabel = "FILE", description = "The token to send (default with --config:"
                + " the admin token file the gateway wrote at start, http.admin_token_file); a console user's token"
                + " must hold the admin role.")
        Path tokenFile;

        static final class Target {
            @Parameters(paramLabel = "SESSION_ID", description = "The session id (from sessions list), or a unique"
                    + " prefix of it.")
            String id;

            @Option(names = "--identity", paramLabel = "SUBJECT", description = "Every session of this token subject.")
            String subject;
        }

        @Override
        public Integer call() throws Exception {
            if (target.id != null && target.id.length() != FULL_ID_LENGTH) {
                HttpResponse<String> live = request(spec, gateway, "GET", "/api/v1/sessions", tokenFile);
                if (live == null) {
                    return 1;
                }
                java.util.List<String> ids = new java.util.ArrayList<>();
                JSON.readTree(live.body()).get("sessions").forEach(s -> ids.add(s.get("id").asText()));
                try {
                    target.id = IdPrefix.resolve(target.id, ids, "live session");
                } catch (IdPrefix.Unresolved e) {
                    spec.commandLine().getErr().println("phigate sessions: " + e.getMessage());
                    return 1;
                }
            }
            String path = target.id != null
                    ? "/api/v1/sessions/" + URLEncoder.encode(target.id, StandardCharsets.UTF_8) + "/kill"
                    : "/api/v1/sessions/kill?subject=" + URLEncoder.encode(target.subject, StandardCharsets.UTF_8);
            HttpResponse<String> r = request(spec, gateway, "POST", path, tokenFile);
            if (r == null) {
                return 1;
            }
            JsonNode killed = JSON.readTree(r.body()).get("killed");
            PrintWriter out = spec.commandLine().getOut();
            out.println("killed " + killed.size() + " session(s)");
            killed.forEach(id -> out.println(id.asText()));
            out.flush();
            return killed.isEmpty() ? 1 : 0;
        }
    }

    /** A session id is a UUID: 36 characters; anything shorter is taken as a prefix. */
    private static final int FULL_ID_LENGTH = 36;

    private static HttpResponse<String> request(CommandLine.Model.CommandSpec spec, GatewayUrl gateway, String method,
                                                String path, Path tokenFile) throws InterruptedException {
        java.io.PrintWriter err = spec.commandLine().getErr();
        Path file = tokenFile;
        try {
            if (file == null) {
                file = gateway.adminTokenFile();
            }
        } catch (io.phigate.config.ConfigException e) {
            err.println("phigate sessions: " + e.getMessage());
            return null;
        }
        String token = null;
        if (file != null) {
            try {
                token = Files.readString(file, StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                err.println("phigate sessions: cannot read the token file " + file + ": " + e.getMessage()
                        + (tokenFile == null ? " (the gateway writes it at start: is it running, as a user whose"
                        + " files you may read?)" : ""));
                return null;
            }
        }
        return gateway.call(err, "sessions", method, path, null, token);
    }
}
