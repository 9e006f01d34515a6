package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class CatalogCheckTest {
    private static final long SECOND = Duration.ofSeconds(1).toNanos();

    private final CatalogCheck check = new CatalogCheck("10:100", Duration.ofSeconds(1));

    @Test
    void theFirstAnswerIsComparedWithTheCatalogAsRead() {
        assertThat(check.due((byte) 'I', 0)).isTrue();
        assertThat(check.answer("10:101", 0)).contains("catalog changed");
    }

    @Test
    void anUnchangedCatalogIsAskedAgainOnlyBetweenTransactionsAfterTheInterval() {
        assertThat(check.answer("10:100", 0)).isNull();
        assertThat(check.due((byte) 'I', SECOND - 1)).isFalse();
        assertThat(check.due((byte) 'I', SECOND)).isTrue();
        assertThat(check.due((byte) 'T', 5 * SECOND)).isFalse(); // inside a transaction: only after code
        assertThat(check.due((byte) 'E', 5 * SECOND)).isFalse();
    }

    @Test
    void aChangeAfterCodeEndsTheSessionEvenWhenTheSessionRanDdlToo() {
        assertThat(check.answer("10:100", 0)).isNull();
        check.ownDdl();
        check.codeMayHaveRun();
        assertThat(check.answer("11:150", 1)).contains("catalog changed");
    }

    @Test
    void theSessionsOwnDdlWithNoCodeSinceBecomesTheBaseline() {
        assertThat(check.answer("10:100", 0)).isNull();
        check.ownDdl();
        assertThat(check.due((byte) 'T', 1)).isTrue(); // asked before the next request, inside its transaction too
        assertThat(check.answer("11:150", 1)).isNull();
        assertThat(check.answer("11:150", 2)).isNull();
        assertThat(check.answer("12:200", 3)).contains("catalog changed"); // the DDL explains one change only
    }

    @Test
    void noAnswerEndsTheSession() {
        assertThat(check.answer(null, 0)).contains("did not show");
    }

    @Test
    void aCatalogBuiltByHandIsNeitherAskedNorCompared() {
        CatalogCheck none = new CatalogCheck(null, Duration.ofSeconds(1));
        assertThat(none.asks()).isFalse();
        assertThat(none.due((byte) 'I', 0)).isFalse();
        assertThat(none.answer("anything", 0)).isNull();
    }
}
