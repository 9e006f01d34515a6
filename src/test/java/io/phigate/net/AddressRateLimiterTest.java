package io.phigate.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class AddressRateLimiterTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final AddressRateLimiter limiter = new AddressRateLimiter(10, 3, now::get);

    @Test
    void aBurstThenTheRateAndOtherAddressesUnaffected() throws Exception {
        InetAddress a = InetAddress.getByName("10.0.0.1");
        InetAddress b = InetAddress.getByName("10.0.0.2");
        assertThat(limiter.tryAcquire(a)).isTrue();
        assertThat(limiter.tryAcquire(a)).isTrue();
        assertThat(limiter.tryAcquire(a)).isTrue();
        assertThat(limiter.tryAcquire(a)).as("burst of 3 spent").isFalse();
        assertThat(limiter.tryAcquire(b)).as("another address has its own bucket").isTrue();
        now.addAndGet(100_000_000L); // 100 ms at 10/s refills one
        assertThat(limiter.tryAcquire(a)).isTrue();
        assertThat(limiter.tryAcquire(a)).isFalse();
    }

    @Test
    void theTableStaysBoundedByDroppingQuietAddresses() throws Exception {
        for (int i = 0; i < AddressRateLimiter.MAX_ADDRESSES; i++) {
            assertThat(limiter.tryAcquire(InetAddress.getByAddress(new byte[]{10, (byte) (i >> 16), (byte) (i >> 8), (byte) i})))
                    .isTrue();
        }
        // Every bucket is still short one token: a new address cannot be tracked, so it is refused.
        assertThat(limiter.tryAcquire(InetAddress.getByName("192.168.0.1"))).isFalse();
        now.addAndGet(1_000_000_000L);
        assertThat(limiter.tryAcquire(InetAddress.getByName("192.168.0.1"))).isTrue();
        assertThat(limiter.trackedAddresses()).isEqualTo(1);
    }

    @Test
    void rateZeroTurnsTheLimitOff() throws Exception {
        AddressRateLimiter off = new AddressRateLimiter(0, 1, now::get);
        for (int i = 0; i < 1000; i++) {
            assertThat(off.tryAcquire(InetAddress.getLoopbackAddress())).isTrue();
        }
    }
}
