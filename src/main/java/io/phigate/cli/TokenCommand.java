package io.phigate.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder until implemented. */
@Command(name = "token", description = "not yet implemented")
final class TokenCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        return 1;
    }
}
