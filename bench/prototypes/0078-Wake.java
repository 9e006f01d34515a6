// The writer's CPU per woken session (decision 0078): N platform threads wait on CompletableFuture.get(timeout), as
// AuditStore.appendDurably does, and one thread completes their futures, as AuditWriter.complete does.
//   java bench/prototypes/0078-Wake.java 8 2000
import java.lang.management.ManagementFactory;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.util.concurrent.locks.LockSupport;
/** CPU the waking thread spends per woken waiter: N platform threads parked on CompletableFuture.get(timeout), completed by one thread. */
public class Wake {
    public static void main(String[] a) throws Exception {
        int n = Integer.parseInt(a[0]), rounds = Integer.parseInt(a[1]);
        var mx = ManagementFactory.getThreadMXBean();
        AtomicReference<CompletableFuture<Void>[]> current = new AtomicReference<>();
        AtomicInteger parked = new AtomicInteger();
        @SuppressWarnings("unchecked") CompletableFuture<Void>[][] futs = new CompletableFuture[rounds][n];
        for (int r = 0; r < rounds; r++) for (int i = 0; i < n; i++) futs[r][i] = new CompletableFuture<>();
        for (int i = 0; i < n; i++) {
            int me = i;
            Thread.ofPlatform().daemon(true).start(() -> {
                for (int r = 0; r < rounds; r++) {
                    parked.incrementAndGet();
                    try { futs[r][me].get(10, TimeUnit.SECONDS); } catch (Exception e) { throw new RuntimeException(e); }
                }
            });
        }
        long cpu = 0, wall = 0;
        for (int r = 0; r < rounds; r++) {
            while (parked.get() < (long) n * (r + 1)) { Thread.onSpinWait(); }
            LockSupport.parkNanos(300_000); // let them actually park
            long c0 = mx.getCurrentThreadCpuTime(), w0 = System.nanoTime();
            for (int i = 0; i < n; i++) futs[r][i].complete(null);
            cpu += mx.getCurrentThreadCpuTime() - c0; wall += System.nanoTime() - w0;
        }
        System.out.printf("n=%d waker cpu per waiter %.2f us, wall %.2f us%n", n, cpu / 1e3 / rounds / n, wall / 1e3 / rounds / n);
    }
}
