package io.phigate.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Placeholder until implemented. */
@Command(name = "demo", description = "not yet implemented")
final class DemoCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        return 1;
    }
}
