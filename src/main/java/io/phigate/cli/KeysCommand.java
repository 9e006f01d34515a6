package io.phigate.cli;

import io.phigate.identity.KeyTool;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code phigate keys ...}: local signing keys for development and the demo. */
@Command(name = "keys", description = "Manage local token signing keys.",
        subcommands = {KeysCommand.Generate.class})
final class KeysCommand implements Runnable {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing required subcommand");
    }

    @Command(name = "generate", description = "Generate an EC P-256 signing key and its public JWKS.")
    static final class Generate implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory to write signing-key.jwk and jwks.json to.")
        Path out;

        @Option(names = "--force", description = "Replace an existing signing key.")
        boolean force;

        @Override
        public Integer call() {
            try {
                Path privateKey = KeyTool.generate(out, force);
                var stdout = spec.commandLine().getOut();
                stdout.println(privateKey);
                stdout.println(privateKey.resolveSibling(KeyTool.JWKS_FILE));
                stdout.flush();
                return 0;
            } catch (IOException e) {
                spec.commandLine().getErr().println("phigate keys generate: " + describe(e));
                return 1;
            }
        }
    }

    static String describe(IOException e) {
        return e instanceof FileAlreadyExistsException f && f.getReason() != null
                ? f.getFile() + ": " + f.getReason()
                : e.getMessage();
    }
}
