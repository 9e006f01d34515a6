package io.phigate.identity;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.phigate.fuzz.FuzzTarget;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Whatever a client sends as its password is parsed as a JWT: any string gives an identity or a
 * {@link TokenRejectedException}. The verifier trusts {@code fuzz-issuer/jwks.json} (committed with its private key,
 * which signs the valid seeds) so the fuzzer starts from tokens that pass and mutates past every check.
 */
public class TokenVerifierFuzzTest extends FuzzTarget {
    public static final String ISSUER = "https://fuzz-issuer.test";
    private static final TokenVerifier VERIFIER = verifier();

    /** A verifier trusting the committed fuzz issuer, with a 60 s clock skew. */
    public static TokenVerifier verifier() {
        try {
            Path jwks = Path.of(TokenVerifierFuzzTest.class.getResource("fuzz-issuer/jwks.json").toURI());
            return new TokenVerifier(new IdentityConfig(List.of(new IssuerConfig(ISSUER, List.of("phigate"), jwks,
                    null, false, IssuerConfig.DEFAULT_ALGORITHMS)), Duration.ofSeconds(60), Duration.ZERO));
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @FuzzTest(maxDuration = FUZZ_DURATION)
    void fuzz(byte[] input) throws Throwable {
        check(input);
    }

    @Override
    protected void exercise(byte[] input) throws TokenRejectedException {
        VERIFIER.verify(new String(input, StandardCharsets.UTF_8));
    }

    @Override
    protected List<Class<? extends Exception>> expected() {
        return List.of(TokenRejectedException.class);
    }
}
