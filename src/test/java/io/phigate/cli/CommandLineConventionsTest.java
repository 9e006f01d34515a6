package io.phigate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.TestConfigs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * Every command and subcommand answers {@code -h/--help} and {@code -V/--version}, {@code help} follows a path to
 * any depth, options are described with placeholders in one style, and a broken policy file is reported as the
 * main config is ({@code file:line: path: message}, exit 2), never as a stack trace.
 */
class CommandLineConventionsTest {
    @TempDir
    Path dir;

    /** Every command path below {@code phigate}, e.g. [audit, search]. */
    private static List<List<String>> paths() {
        List<List<String>> out = new ArrayList<>();
        walk(Main.commandLine(), new ArrayList<>(), out);
        return out;
    }

    private static void walk(CommandLine cl, List<String> path, List<List<String>> out) {
        out.add(List.copyOf(path));
        cl.getSubcommands().forEach((name, sub) -> {
            if (!sub.getCommandSpec().aliases().equals(new String[0]) && !name.equals(sub.getCommandName())) {
                return; // an alias of a command walked under its own name
            }
            path.add(name);
            walk(sub, path, out);
            path.removeLast();
        });
    }

    private static TestAccess.Result run(List<String> path, String... more) {
        List<String> args = new ArrayList<>(path);
        args.addAll(List.of(more));
        return TestAccess.capture(args.toArray(String[]::new));
    }

    @Test
    void everyCommandAnswersHelpAndVersion() {
        List<List<String>> paths = paths();
        assertThat(paths).contains(List.of("audit", "search"), List.of("sessions", "list"), List.of("serve"));
        for (List<String> path : paths) {
            String name = String.join(" ", path);
            for (String help : List.of("-h", "--help")) {
                TestAccess.Result r = run(path, help);
                assertThat(r.exitCode()).as(name + " " + help + ": " + r.err()).isZero();
                assertThat(r.out()).as(name + " " + help).startsWith(("Usage: phigate " + name).strip());
            }
            for (String version : List.of("-V", "--version")) {
                TestAccess.Result r = run(path, version);
                assertThat(r.exitCode()).as(name + " " + version + ": " + r.err()).isZero();
                assertThat(r.out()).as(name + " " + version).matches("(?s)phigate \\S+ \\(commit [^)]+\\)\n.*");
            }
        }
    }

    @Test
    void helpFollowsTheWholeCommandPath() {
        TestAccess.Result r = TestAccess.capture("help", "audit", "search");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).startsWith("Usage: phigate audit search");
        assertThat(TestAccess.capture("help", "audit").out()).startsWith("Usage: phigate audit ");
        TestAccess.Result unknown = TestAccess.capture("help", "audit", "serach");
        assertThat(unknown.exitCode()).isNotZero();
        assertThat(unknown.err()).contains("unknown command 'audit serach'").contains("search");
    }

    @Test
    void everyOptionIsDescribedWithAnUpperCasePlaceholder() {
        List<String> problems = new ArrayList<>();
        check(Main.commandLine(), problems);
        assertThat(problems).isEmpty();
    }

    private static void check(CommandLine cl, List<String> problems) {
        String cmd = cl.getCommandSpec().qualifiedName();
        for (OptionSpec o : cl.getCommandSpec().options()) {
            if (String.join("", o.description()).isBlank()) {
                problems.add(cmd + " " + o.longestName() + ": no description");
            }
            if (o.arity().max() > 0 && !o.paramLabel().matches("[A-Z][A-Z0-9_]*([.=-][A-Za-z0-9_.=-]+)?")) {
                problems.add(cmd + " " + o.longestName() + ": placeholder " + o.paramLabel());
            }
        }
        for (PositionalParamSpec p : cl.getCommandSpec().positionalParameters()) {
            if (String.join("", p.description()).isBlank()) {
                problems.add(cmd + " " + p.paramLabel() + ": no description");
            }
        }
        cl.getSubcommands().values().forEach(sub -> check(sub, problems));
    }

    @Test
    void policyFileProblemsAreReportedLikeConfigProblems() throws Exception {
        Path config = TestConfigs.write(dir, "store: sqlite:audit.db\n");
        Files.writeString(config, Files.readString(config) + "policy: policy.yaml\n");
        int policyLine = Files.readString(config).split("\n").length;

        TestAccess.Result missing = TestAccess.capture("serve", "--config", config.toString());
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err()).contains(config + ":" + policyLine + ": policy: no such file: ");
        assertNoStackTrace(missing);

        Files.writeString(dir.resolve("policy.yaml"), """
                phi:
                  clinical:
                    colums:
                      public.patients.ssn: ssn
                roles:
                  - name: reader
                    unmasked: [social_security]
                """);
        TestAccess.Result bad = TestAccess.capture("serve", "--config", config.toString());
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).contains(dir.resolve("policy.yaml") + ":3: phi.clinical.colums: ")
                .contains(dir.resolve("policy.yaml") + ":7: roles[0].unmasked");
        assertNoStackTrace(bad);
    }

    private static void assertNoStackTrace(TestAccess.Result r) {
        assertThat(r.err()).doesNotContain("\tat ").doesNotContain("Exception");
        assertThat(r.out()).doesNotContain("\tat ");
    }
}
