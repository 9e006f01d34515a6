package io.phigate.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;

/**
 * The {@code phigate} command line. Subcommands do the work; this only dispatches, and gives every command and
 * subcommand the same conventions: {@code -h/--help} and {@code -V/--version} everywhere, placeholders in one
 * style ({@code --config FILE}-like upper case), {@code help COMMAND SUBCOMMAND...} for any depth, and a failure
 * printed as one line, never a stack trace.
 */
@Command(name = "phigate", description = "A PostgreSQL gateway for AI agents that handle protected health information.",
        subcommands = {ServeCommand.class, DemoCommand.class, KeysCommand.class, TokenCommand.class, AuditCommand.class,
                SessionsCommand.class, CredentialsCommand.class, ApprovalsCommand.class, Main.Help.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String... args) {
        return commandLine().execute(args);
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
        conventions(cl);
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            line.getErr().println(line.getCommandSpec().qualifiedName() + ": " + message(e));
            return 1;
        });
        return cl;
    }

    /** Help and version options on every command of the tree. */
    private static void conventions(CommandLine cl) {
        CommandSpec spec = cl.getCommandSpec();
        if (spec.optionsMap().get("--help") == null) {
            spec.mixinStandardHelpOptions(true);
        }
        spec.versionProvider(new Version());
        cl.getSubcommands().values().forEach(Main::conventions);
    }

    /** One line for a failure: the exception's own message, with its cause's when that says more. */
    static String message(Throwable e) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            m = e.getClass().getSimpleName();
        }
        Throwable cause = e.getCause();
        if (cause != null && cause.getMessage() != null && !m.contains(cause.getMessage())) {
            m += ": " + cause.getMessage();
        }
        return m;
    }

    /** The version and the commit the jar was built from ({@code io/phigate/build-info.properties}). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            Properties p = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("/io/phigate/build-info.properties")) {
                if (in != null) {
                    p.load(in);
                }
            } catch (IOException e) {
                // said below: unknown
            }
            String version = p.getProperty("version", "development build");
            String commit = p.getProperty("commit", "unknown");
            return new String[]{"phigate " + version + " (commit " + commit + ")",
                    "Java " + Runtime.version() + ", " + System.getProperty("java.vm.name")};
        }
    }

    /**
     * {@code phigate help [COMMAND [SUBCOMMAND...]]}: the help of the command named by the whole path, so
     * {@code help audit search} shows {@code audit search}'s, not {@code audit}'s.
     */
    @Command(name = "help", description = "Show the help of a command or subcommand: help audit search.",
            helpCommand = true)
    static final class Help implements Runnable, CommandLine.IHelpCommandInitializable2 {
        @Parameters(paramLabel = "COMMAND", arity = "0..*", description = "The command path, e.g. audit search.")
        List<String> path = List.of();

        private CommandLine self;
        private java.io.PrintWriter out;
        private java.io.PrintWriter err;
        private CommandLine.Help.ColorScheme colors;

        @Override
        public void init(CommandLine helpCommandLine, CommandLine.Help.ColorScheme colorScheme,
                         java.io.PrintWriter outWriter, java.io.PrintWriter errWriter) {
            this.self = helpCommandLine;
            this.colors = colorScheme;
            this.out = outWriter;
            this.err = errWriter;
        }

        @Override
        public void run() {
            CommandLine target = self.getParent();
            for (String name : path) {
                CommandLine next = target.getSubcommands().get(name);
                if (next == null) {
                    err.println("phigate help: unknown command '" + String.join(" ", path) + "'; "
                            + target.getCommandSpec().qualifiedName() + " has: "
                            + String.join(", ", target.getSubcommands().keySet()));
                    err.flush();
                    throw new CommandLine.ParameterException(self, "unknown command: " + name);
                }
                target = next;
            }
            target.usage(out, colors);
            out.flush();
        }
    }
}
