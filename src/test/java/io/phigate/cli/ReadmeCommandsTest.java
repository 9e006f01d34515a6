package io.phigate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every {@code bin/phigate} command in the README's code blocks runs as written against a running demo, the way a
 * user pastes it: the demo's files under {@code demo-data/}, the placeholders (SESSION_ID, REQUEST_ID, SEQ) filled
 * with what the previous commands print, shortened as tables print them. A README example that fails as written
 * fails here.
 */
class ReadmeCommandsTest {
    @TempDir
    Path dir;

    @Test
    void everyCommandInTheReadmeWorksAsWritten() throws Exception {
        List<String> lines = readmeCommands(Files.readString(Path.of("README.md")));
        assertThat(lines).hasSizeGreaterThan(10);
        List<CompletableFuture<?>> held = new ArrayList<>();
        try (DemoCommand.Running demo = DemoCommand.start(dir, 0, 0, 20, Duration.ofMinutes(10))) {
            String url = "jdbc:postgresql://127.0.0.1:" + demo.port() + "/clinical?sslmode=disable";
            String token = Files.readString(demo.tokenFile()).strip();
            // The agent's psql, open while the reader tries the commands (sessions kill ends it).
            Connection agent = DriverManager.getConnection(url, "triage-agent", token);
            try (Statement s = agent.createStatement(); ResultSet rs = s.executeQuery("select mrn from patients limit 1")) {
                assertThat(rs.next()).isTrue();
            }
            List<String> failures = new ArrayList<>();
            for (String line : lines) {
                if (line.startsWith("demo")) {
                    continue; // the demo is what runs here
                }
                if (line.contains("REQUEST_ID")) {
                    held.add(holdAnUpdate(url, token));
                }
                List<String> args = arguments(line, demo);
                TestAccess.Result r = TestAccess.capture(args.toArray(String[]::new));
                for (int i = 0; i < 60 && r.exitCode() != 0 && line.startsWith("audit prove"); i++) {
                    Thread.sleep(500); // the demo signs a checkpoint every 10 s; the proof needs one
                    r = TestAccess.capture(args.toArray(String[]::new));
                }
                if (r.exitCode() != 0) {
                    failures.add("bin/phigate " + line + "\n  ran as " + args + "\n  exit " + r.exitCode() + ": "
                            + r.err().strip());
                }
            }
            assertThat(failures).isEmpty();
            assertThat(agent.isValid(2)).as("sessions kill ended the agent's session").isFalse();
            agent.close();
        } finally {
            held.forEach(f -> f.cancel(true));
        }
    }

    /** An UPDATE of a patient, which the demo's policy holds for approval inside the agent's connection. */
    private static CompletableFuture<?> holdAnUpdate(String url, String token) throws Exception {
        CompletableFuture<?> f = CompletableFuture.runAsync(() -> {
            try (Connection c = DriverManager.getConnection(url, "triage-agent", token);
                 Statement s = c.createStatement()) {
                s.executeUpdate("update patients set phone = '555-0100' where id = 1");
            } catch (Exception e) {
                // denied, or the test ended
            }
        });
        for (int i = 0; i < 100 && pendingIds().size() < 1; i++) {
            Thread.sleep(100);
        }
        return f;
    }

    private static List<String> pendingIds() {
        TestAccess.Result r = TestAccess.capture("approvals", "list", "--config", currentConfig.toString(),
                "--token-file", currentConfig.resolveSibling(DemoCommand.CONSOLE_TOKEN_FILE).toString());
        return r.out().lines().map(l -> l.split("\t")[0]).filter(s -> !s.isBlank()).toList();
    }

    private static Path currentConfig;

    /** The words of one README line, with the demo's folder and the placeholders filled in. */
    private List<String> arguments(String line, DemoCommand.Running demo) throws Exception {
        currentConfig = dir.resolve(DemoCommand.CONFIG_FILE);
        List<String> out = new ArrayList<>();
        String previous = "";
        for (String word : shellWords(line)) {
            String w = word.startsWith("demo-data/") ? dir.resolve(word.substring("demo-data/".length())).toString()
                    : word;
            switch (w) {
                case "SESSION_ID" -> w = firstSessionId(demo).substring(0, 8);
                case "REQUEST_ID" -> w = pendingIds().getFirst().substring(0, 8);
                case "SEQ" -> w = "1";
                default -> {
                    if ((previous.equals("--out") || previous.equals("--proof")) && !w.startsWith("/")) {
                        w = dir.resolve(w).toString();
                    }
                }
            }
            out.add(w);
            previous = word;
        }
        return out;
    }

    private static String firstSessionId(DemoCommand.Running demo) throws Exception {
        // The journal's ingester fills the store behind the durable journal: wait for it, as a reader would.
        for (int i = 0; i < 100; i++) {
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + demo.auditFile());
                 Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("select session_id from audit_event where kind = 'session_started'"
                         + " order by seq limit 1")) {
                if (rs.next()) {
                    return rs.getString(1);
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no session_started record reached the audit store in 10 s");
    }

    /** The {@code bin/phigate ...} lines of the README's code blocks, without the command name and comments. */
    static List<String> readmeCommands(String readme) {
        List<String> out = new ArrayList<>();
        boolean code = false;
        for (String line : readme.split("\n")) {
            if (line.startsWith("```")) {
                code = !code;
                continue;
            }
            int at = line.indexOf("bin/phigate ");
            if (!code || at < 0) {
                continue;
            }
            String command = line.substring(at + "bin/phigate ".length());
            int comment = command.indexOf("  #");
            if (comment >= 0) {
                command = command.substring(0, comment);
            }
            if (line.startsWith("eval \"$(")) {
                command = command.substring(0, command.lastIndexOf(")\""));
            }
            out.add(command.strip());
        }
        return out;
    }

    /** POSIX shell words: blanks separate, single quotes keep blanks. */
    static List<String> shellWords(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean quoted = false;
        boolean any = false;
        for (char ch : line.toCharArray()) {
            if (ch == '\'') {
                quoted = !quoted;
                any = true;
            } else if (!quoted && Character.isWhitespace(ch)) {
                if (any) {
                    words.add(w.toString());
                    w.setLength(0);
                    any = false;
                }
            } else {
                w.append(ch);
                any = true;
            }
        }
        if (any) {
            words.add(w.toString());
        }
        return words;
    }
}
