// The native parse outside the gateway (decision 0078): pgbench's five TPC-B statements with fresh literals through
// PgGrammar.parse in a loop, with bench/prototypes/0078-parse-probe.patch applied so the stage times are printed.
// The second argument makes each parse start cold: "thrash" writes one byte per cache line of 8 MiB between parses,
// "sleepN" parks N ns between parses (the machine's other work runs meanwhile); "none" is the warm loop.
//   javac -cp target/phigate.jar -d /tmp bench/prototypes/0078-UnitParse.java
//   java --enable-native-access=ALL-UNNAMED -Dphigate.grammar.probe=true -cp target/phigate.jar:/tmp UnitParse 40000 none
import io.phigate.sql.PgGrammar;
import java.util.concurrent.ThreadLocalRandom;
public class UnitParse {
    public static void main(String[] a) throws Exception {
        int n = Integer.parseInt(a[0]);
        boolean thrash = a.length > 1 && a[1].equals("thrash"); long sleep = a.length > 1 && a[1].startsWith("sleep") ? Long.parseLong(a[1].substring(5)) : 0;
        byte[] big = new byte[8 << 20];
        Runnable r = () -> {
            ThreadLocalRandom rnd = ThreadLocalRandom.current();
            long sink = 0;
            for (int i = 0; i < n; i++) {
                int aid = rnd.nextInt(1, 1000000), bid = rnd.nextInt(1, 10), tid = rnd.nextInt(1, 100), d = rnd.nextInt(-5000, 5000);
                String[] st = {
                  "UPDATE pgbench_accounts SET abalance = abalance + " + d + " WHERE aid = " + aid + ";",
                  "SELECT abalance FROM pgbench_accounts WHERE aid = " + aid + ";",
                  "UPDATE pgbench_tellers SET tbalance = tbalance + " + d + " WHERE tid = " + tid + ";",
                  "UPDATE pgbench_branches SET bbalance = bbalance + " + d + " WHERE bid = " + bid + ";",
                  "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (" + tid + ", " + bid + ", " + aid + ", " + d + ", CURRENT_TIMESTAMP);"};
                for (String s : st) {
                    sink += PgGrammar.parse(s).statements().size();
                    if (thrash) { for (int k = 0; k < big.length; k += 64) { big[k]++; } }
                    if (sleep > 0) { java.util.concurrent.locks.LockSupport.parkNanos(sleep); }
                }
            }
            System.out.println(sink);
        };
        if (a.length > 2 && a[2].equals("virtual")) { Thread t = Thread.ofVirtual().start(r); t.join(); } else { r.run(); }
    }
}
