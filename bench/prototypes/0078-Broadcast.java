// The same measure as 0078-Wake.java with one futex word for every waiter (decision 0078): N platform threads
// FUTEX_WAIT on it through FFM, and one FUTEX_WAKE wakes them all, as a group-wide broadcast from the writer would.
//   java --enable-native-access=ALL-UNNAMED bench/prototypes/0078-Broadcast.java 8 2000
import java.lang.foreign.*;
import java.lang.invoke.MethodHandle;
import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
/** N platform threads FUTEX_WAIT on one shared word; one thread bumps it and wakes all with one FUTEX_WAKE. */
public class Broadcast {
    static final MethodHandle SYSCALL = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().findOrThrow("syscall"),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
    public static void main(String[] a) throws Throwable {
        int n = Integer.parseInt(a[0]), rounds = Integer.parseInt(a[1]);
        MemorySegment word = Arena.global().allocate(4, 64);
        long addr = word.address();
        AtomicInteger parked = new AtomicInteger();
        for (int i = 0; i < n; i++) {
            Thread.ofPlatform().daemon(true).start(() -> {
                try {
                    for (int r = 0; r < rounds; r++) {
                        parked.incrementAndGet();
                        while (word.get(ValueLayout.JAVA_INT, 0) == r) {
                            long x = (long) SYSCALL.invokeExact(202L, addr, 128L /* FUTEX_WAIT_PRIVATE */, (long) r, 0L);
                        }
                    }
                } catch (Throwable t) { throw new RuntimeException(t); }
            });
        }
        var mx = ManagementFactory.getThreadMXBean();
        long cpu = 0, wall = 0;
        for (int r = 0; r < rounds; r++) {
            while (parked.get() < (long) n * (r + 1)) { Thread.onSpinWait(); }
            LockSupport.parkNanos(300_000);
            long c0 = mx.getCurrentThreadCpuTime(), w0 = System.nanoTime();
            word.set(ValueLayout.JAVA_INT, 0, r + 1);
            long woke = (long) SYSCALL.invokeExact(202L, addr, 129L /* FUTEX_WAKE_PRIVATE */, (long) Integer.MAX_VALUE, 0L);
            cpu += mx.getCurrentThreadCpuTime() - c0; wall += System.nanoTime() - w0;
        }
        System.out.printf("n=%d broadcast: waker cpu per waiter %.2f us, wall %.2f us%n", n, cpu / 1e3 / rounds / n, wall / 1e3 / rounds / n);
    }
}
