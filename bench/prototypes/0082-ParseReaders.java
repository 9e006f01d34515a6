// libpg_query's parse read as JSON (Jackson) against read as protobuf (ParseResultDecoder), decision 0082.
// Same statements as 0078-UnitParse (pgbench's five TPC-B statements, fresh literals) plus one large SELECT
// (just under PgGrammar.INLINE_MAX_CHARS, so both are read on the calling thread). Rounds alternate the two
// readers; each parse is timed alone (wall with nanoTime, thread CPU with getCurrentThreadCpuTime, bytes allocated
// by the thread), so the cache-evicting write between parses ("thrash": one byte per 64-byte line of 8 MiB, as in
// 0078) is not counted. Medians over rounds of per-round means are printed.
//   javac -cp target/classes:$(cat cp.txt) -d /tmp/pr bench/prototypes/0082-ParseReaders.java
//   java --enable-native-access=ALL-UNNAMED -cp /tmp/pr:target/classes:$(cat cp.txt) io.phigate.sql.ParseReaders \
//        tpcb|large  none|thrash  ROUNDS  PARSES_PER_ROUND
// It needs bench/prototypes/0082-protobuf-reader.patch applied (PgGrammar.Reader), and sits in io.phigate.sql to
// reach that package-private choice of reader.
package io.phigate.sql;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

class ParseReaders {
    static final String LARGE = """
            SELECT p.id, upper(p.name) AS name, coalesce(a.city, 'unknown') AS city,
                   CASE WHEN v.visits > 10 THEN 'frequent' WHEN v.visits > 2 THEN 'regular' ELSE 'rare' END AS kind,
                   (SELECT max(e.at) FROM encounters e WHERE e.pid = p.id) AS last,
                   count(*) OVER (PARTITION BY a.city ORDER BY p.id) AS near,
                   md5(p.ssn || p.id::text) AS token, p.birth_date + %d AS shifted
            FROM patients p
            JOIN addresses a ON a.patient_id = p.id AND a.kind IN ('home', 'work', 'other')
            LEFT JOIN LATERAL (SELECT count(*) AS visits FROM encounters e2 WHERE e2.patient_id = p.id) v ON true
            WHERE p.id BETWEEN %d AND %d AND p.name ILIKE 'a%%' AND NOT EXISTS (SELECT 1 FROM opt_out o WHERE o.pid = p.id)
              AND p.ward = ANY (ARRAY[1, 2, 3, %d]) AND p.score::numeric(10,2) >= %d.5
            GROUP BY p.id, p.name, a.city, v.visits, p.ssn, p.birth_date
            ORDER BY 2 DESC NULLS LAST, p.id
            LIMIT 50 OFFSET %d""";

    public static void main(String[] args) {
        boolean large = args[0].equals("large");
        boolean thrash = args[1].equals("thrash");
        int rounds = Integer.parseInt(args[2]);
        int perRound = Integer.parseInt(args[3]);
        byte[] big = new byte[8 << 20];
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long self = Thread.currentThread().threadId();
        if (LARGE.formatted(1, 2, 3, 4, 5, 6).length() > PgGrammar.INLINE_MAX_CHARS) {
            throw new IllegalStateException("large statement would leave the calling thread");
        }
        List<double[]> json = new ArrayList<>();
        List<double[]> proto = new ArrayList<>();
        long sink = 0;
        for (int r = -2; r < rounds; r++) { // two warm-up rounds each, not kept
            for (PgGrammar.Reader reader : (r % 2 == 0 ? List.of(PgGrammar.Reader.JSON, PgGrammar.Reader.PROTOBUF)
                    : List.of(PgGrammar.Reader.PROTOBUF, PgGrammar.Reader.JSON))) {
                long wall = 0, cpu = 0, bytes = 0;
                ThreadLocalRandom rnd = ThreadLocalRandom.current();
                for (int i = 0; i < perRound; i++) {
                    String sql = large ? LARGE.formatted(rnd.nextInt(1, 9), rnd.nextInt(1, 1000), rnd.nextInt(1000, 9000),
                            rnd.nextInt(4, 99), rnd.nextInt(1, 99), rnd.nextInt(0, 500)) : tpcb(rnd, i % 5);
                    if (thrash) {
                        for (int k = 0; k < big.length; k += 64) {
                            big[k]++;
                        }
                    }
                    long a0 = threads.getThreadAllocatedBytes(self);
                    long c0 = threads.getCurrentThreadCpuTime();
                    long w0 = System.nanoTime();
                    PgGrammar.Parsed p = PgGrammar.parse(sql, reader);
                    long w1 = System.nanoTime();
                    long c1 = threads.getCurrentThreadCpuTime();
                    long a1 = threads.getThreadAllocatedBytes(self);
                    sink += p.statements().size();
                    wall += w1 - w0;
                    cpu += c1 - c0;
                    bytes += a1 - a0;
                }
                if (r >= 0) {
                    (reader == PgGrammar.Reader.JSON ? json : proto).add(new double[]{
                            wall / 1e3 / perRound, cpu / 1e3 / perRound, (double) bytes / perRound});
                }
            }
        }
        System.out.printf("%s %s rounds=%d parses/round=%d load=%.1f sink=%d%n", args[0], args[1], rounds, perRound,
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(), sink);
        report("json    ", json);
        report("protobuf", proto);
    }

    static String tpcb(ThreadLocalRandom rnd, int which) {
        int aid = rnd.nextInt(1, 1000000), bid = rnd.nextInt(1, 10), tid = rnd.nextInt(1, 100), d = rnd.nextInt(-5000, 5000);
        return switch (which) {
            case 0 -> "UPDATE pgbench_accounts SET abalance = abalance + " + d + " WHERE aid = " + aid + ";";
            case 1 -> "SELECT abalance FROM pgbench_accounts WHERE aid = " + aid + ";";
            case 2 -> "UPDATE pgbench_tellers SET tbalance = tbalance + " + d + " WHERE tid = " + tid + ";";
            case 3 -> "UPDATE pgbench_branches SET bbalance = bbalance + " + d + " WHERE bid = " + bid + ";";
            default -> "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (" + tid + ", " + bid + ", "
                    + aid + ", " + d + ", CURRENT_TIMESTAMP);";
        };
    }

    static void report(String name, List<double[]> rows) {
        System.out.printf("  %s wall %s µs  cpu %s µs  alloc %s B  (median [min-max] of round means)%n", name,
                stat(rows, 0), stat(rows, 1), stat(rows, 2));
    }

    static String stat(List<double[]> rows, int col) {
        double[] v = rows.stream().mapToDouble(r -> r[col]).sorted().toArray();
        return String.format("%.1f [%.1f-%.1f]", v[v.length / 2], v[0], v[v.length - 1]);
    }
}
