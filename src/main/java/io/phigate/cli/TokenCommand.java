package io.phigate.cli;

import io.phigate.identity.KeyTool;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code phigate token ...}: tokens signed with a local key, for development and the demo. */
@Command(name = "token", description = "Mint tokens with a local signing key.",
        subcommands = {TokenCommand.Mint.class})
final class TokenCommand implements Runnable {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing required subcommand");
    }

    /** Prints only the token, so {@code PGPASSWORD=$(phigate token mint ...)} works. */
    @Command(name = "mint", description = "Mint a signed JWT and print it.")
    static final class Mint implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--key", required = true, paramLabel = "FILE", description = "Private JWK (EC or RSA).")
        Path key;

        @Option(names = "--issuer", required = true, paramLabel = "URL", description = "The token's issuer (iss).")
        String issuer;

        @Option(names = "--subject", required = true, paramLabel = "SUBJECT", description = "The identity it names (sub).")
        String subject;

        @Option(names = "--audience", required = true, paramLabel = "AUDIENCE", description = "Repeat for several audiences.")
        List<String> audience;

        @Option(names = "--ttl", defaultValue = "10m", paramLabel = "DURATION", converter = TtlConverter.class,
                description = "Lifetime such as 30s, 10m, 1h or 2d (default: ${DEFAULT-VALUE}).")
        Duration ttl;

        @Option(names = "--claim", paramLabel = "NAME=VALUE",
                description = "Extra claim; true/false and integers become JSON booleans and numbers, anything else a string.")
        Map<String, String> claims = new LinkedHashMap<>();

        @Override
        public Integer call() {
            Map<String, Object> extra = new LinkedHashMap<>();
            claims.forEach((name, value) -> extra.put(name, claimValue(value)));
            try {
                String token = KeyTool.mint(key, issuer, subject, audience, ttl, extra);
                var out = spec.commandLine().getOut();
                out.println(token);
                out.flush();
                return 0;
            } catch (IOException e) {
                spec.commandLine().getErr().println("phigate token mint: " + e.getMessage());
                return 1;
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e, null, null);
            }
        }
    }

    static Object claimValue(String value) {
        if (value.equals("true") || value.equals("false")) {
            return Boolean.parseBoolean(value);
        }
        if (INTEGER.matcher(value).matches()) {
            try {
                return Long.parseLong(value);
            } catch (NumberFormatException tooLong) {
                return value;
            }
        }
        return value;
    }

    private static final Pattern INTEGER = Pattern.compile("-?\\d+");

    /** A lifetime in the config's duration forms: 30s, 10m, 1h, 2d, or bare seconds (600). */
    static final class TtlConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            Duration d;
            try {
                d = io.phigate.config.Units.duration(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a duration like 600, 30s, 10m,"
                        + " 1h or 2d");
            }
            if (d.isZero() || d.isNegative()) {
                throw new CommandLine.TypeConversionException("ttl must be positive");
            }
            return d;
        }
    }
}
