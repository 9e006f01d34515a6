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
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code phigate approvals list|show|approve|deny}: decide held and ticketed statements of a running gateway, as
 * yourself: every call carries your approver token (from {@code --token-file}), never the agent's.
 */
@Command(name = "approvals", description = "List, show, approve or deny statements waiting for approval.",
        subcommands = {ApprovalsCommand.ListApprovals.class, ApprovalsCommand.Show.class,
                ApprovalsCommand.Approve.class, ApprovalsCommand.Deny.class})
final class ApprovalsCommand implements Runnable {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing required subcommand");
    }

    /** Where the gateway is and who is asking; shared by every subcommand. */
    static final class Target {
        @ArgGroup(exclusive = true, multiplicity = "1")
        GatewayUrl gateway;

        @Option(names = "--token-file", required = true, paramLabel = "FILE",
                description = "A file holding your approver token (a JWT from a configured issuer).")
        Path tokenFile;
    }

    @Command(name = "list", description = "One line per request: id, state, rule, subject, tables, expiry.")
    static final class ListApprovals implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Target target;

        @Option(names = "--status", paramLabel = "STATUS", defaultValue = "pending",
                description = "pending (default), approved, denied, expired, withdrawn or all.")
        String status;

        @Option(names = "--json", description = "Print the API's JSON as is.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            HttpResponse<String> r = request(spec, target, "GET",
                    "/api/v1/approvals?status=" + URLEncoder.encode(status, StandardCharsets.UTF_8), null);
            if (r == null) {
                return 1;
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(r.body());
            } else {
                for (JsonNode a : JSON.readTree(r.body()).get("approvals")) {
                    out.println(String.join("\t", a.get("id").asText(), a.get("state").asText(),
                            a.get("rule").asText(), a.get("subject").asText(), a.get("tables").toString(),
                            a.get("expires_at").asText()));
                }
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "show", description = "Print one request as JSON: statement, parameters, who asks and why.")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Target target;

        @Parameters(paramLabel = "REQUEST_ID", description = "The approval request's id, or a unique prefix of it.")
        String id;

        @Override
        public Integer call() throws Exception {
            String full = fullId(spec, target, id);
            if (full == null) {
                return 1;
            }
            HttpResponse<String> r = request(spec, target, "GET", "/api/v1/approvals/" + encode(full), null);
            if (r == null) {
                return 1;
            }
            spec.commandLine().getOut().println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(
                    JSON.readTree(r.body())));
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(name = "approve", description = "Approve a request (one of the approvers its rule needs).")
    static final class Approve implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Target target;

        @Parameters(paramLabel = "REQUEST_ID", description = "The approval request's id, or a unique prefix of it.")
        String id;

        @Option(names = "--reason", paramLabel = "TEXT", description = "Why; recorded with your decision.")
        String reason;

        @Override
        public Integer call() throws Exception {
            return decide(spec, target, id, "approve", reason);
        }
    }

    @Command(name = "deny", description = "Deny a request; the agent gets 42501 with your reason.")
    static final class Deny implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Target target;

        @Parameters(paramLabel = "REQUEST_ID", description = "The approval request's id, or a unique prefix of it.")
        String id;

        @Option(names = "--reason", paramLabel = "TEXT", required = true, description = "Why; the agent is told it, and it is recorded.")
        String reason;

        @Override
        public Integer call() throws Exception {
            return decide(spec, target, id, "deny", reason);
        }
    }

    private static int decide(CommandLine.Model.CommandSpec spec, Target target, String id, String verb, String reason)
            throws Exception {
        String full = fullId(spec, target, id);
        if (full == null) {
            return 1;
        }
        String body = reason == null ? "{}" : JSON.writeValueAsString(Map.of("reason", reason));
        HttpResponse<String> r = request(spec, target, "POST", "/api/v1/approvals/" + encode(full) + "/" + verb, body);
        if (r == null) {
            return 1;
        }
        JsonNode a = JSON.readTree(r.body());
        spec.commandLine().getOut().println(a.get("id").asText() + " is now " + a.get("state").asText());
        spec.commandLine().getOut().flush();
        return 0;
    }

    /** A whole request id as given, or the one request a prefix names; null (said on stderr) when none or several. */
    private static String fullId(CommandLine.Model.CommandSpec spec, Target target, String id) throws Exception {
        if (FULL_ID.matcher(id).matches()) {
            return id;
        }
        HttpResponse<String> r = request(spec, target, "GET", "/api/v1/approvals?status=all", null);
        if (r == null) {
            return null;
        }
        java.util.List<String> ids = new java.util.ArrayList<>();
        JSON.readTree(r.body()).get("approvals").forEach(a -> ids.add(a.get("id").asText()));
        try {
            return IdPrefix.resolve(id, ids, "approval request");
        } catch (IdPrefix.Unresolved e) {
            spec.commandLine().getErr().println("phigate approvals: " + e.getMessage());
            return null;
        }
    }

    /** A whole request id ({@code Approvals} makes them): taken as given, without a lookup. */
    private static final java.util.regex.Pattern FULL_ID = java.util.regex.Pattern.compile("apr-[0-9a-f]{16}");

    private static String encode(String id) {
        return URLEncoder.encode(id, StandardCharsets.UTF_8);
    }

    /** The response when it is 2xx; otherwise prints the API's error and returns null. */
    private static HttpResponse<String> request(CommandLine.Model.CommandSpec spec, Target target, String method,
                                                String path, String body) throws InterruptedException {
        String token;
        try {
            token = Files.readString(target.tokenFile, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            spec.commandLine().getErr().println("phigate approvals: cannot read the token file: " + e.getMessage());
            return null;
        }
        return target.gateway.call(spec.commandLine().getErr(), "approvals", method, path, body, token);
    }
}
