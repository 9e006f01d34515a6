package io.phigate.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class AcceptBackoffTest {

    @Test
    void failedAcceptsPauseLongerEachTimeUpToASecondAndASuccessResetsThePause() {
        AcceptBackoff b = new AcceptBackoff();
        assertThat(b.failed()).isEqualTo(Duration.ofMillis(10));
        assertThat(b.failed()).isEqualTo(Duration.ofMillis(20));
        assertThat(b.failed()).isEqualTo(Duration.ofMillis(40));
        for (int i = 0; i < 20; i++) {
            b.failed();
        }
        assertThat(b.failed()).isEqualTo(AcceptBackoff.MAX);
        assertThat(b.failures()).isEqualTo(24);

        b.succeeded();
        assertThat(b.failures()).isZero();
        assertThat(b.failed()).isEqualTo(AcceptBackoff.FIRST);
    }
}
