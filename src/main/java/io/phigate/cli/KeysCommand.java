package io.phigate.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder until implemented. */
@Command(name = "keys", description = "not yet implemented")
final class KeysCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        return 1;
    }
}
