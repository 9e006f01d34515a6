package io.phigate.cli;

/** Lets tests in other packages run the command line as a user would. */
public final class TestAccess {
    private TestAccess() {
    }

    public static int run(String... args) {
        return Main.run(args);
    }
}
