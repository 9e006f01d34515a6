package io.phigate.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code phigate} command line. Subcommands do the work; this only dispatches. */
@Command(name = "phigate", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "A PostgreSQL gateway for AI agents that handle protected health information.",
        subcommands = {ServeCommand.class, DemoCommand.class, KeysCommand.class, TokenCommand.class, AuditCommand.class,
                SessionsCommand.class, CredentialsCommand.class, ApprovalsCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String... args) {
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[]{"phigate " + (v == null ? "development build" : v)};
        }
    }
}
