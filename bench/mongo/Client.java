import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCredential;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoCursor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bson.RawBsonDocument;

/**
 * The client side of bench/mongo.sh, with the official Java sync driver: one full find of {@code bench.patients}
 * per target per round (direct, then each gateway, interleaved so slow drifts and other load fall on all), then one
 * find of {@code bench.records} (over 1 GiB) per target, watching each gateway's heap in its GC log as it streams.
 * Documents/s, bytes/s (the BSON bytes of the documents the client received), medians over rounds, ratios to
 * direct; each gateway's CPU over each pass (its process's user plus system time: on a shared machine the figure
 * that moves least), its peak heap before and after collections, VmHWM, and live heap after a full GC at the end.
 *
 * <pre>java -cp CLASSPATH bench/mongo/Client.java key=value ...</pre>
 *
 * Keys: {@code direct=PORT}; {@code gateway=NAME,PORT,PID,GC_LOG,TOKEN_FILE} (repeated; the token is the SASL
 * PLAIN password); {@code rounds}, {@code warmup} (documents read per target before the rounds, untimed),
 * {@code batch} and {@code big_batch} (documents per batch), {@code json}, {@code md}, {@code meta} (a JSON
 * object merged into the results' meta).
 */
public class Client {
    record Gateway(String name, int port, long pid, Path gcLog, String token) {}

    record Pass(String target, String collection, int round, long documents, long bytes, double seconds,
                GcStats gc, Long vmHwmKb, Double gatewayCpuSeconds) {
        double docsPerSecond() {
            return documents / seconds;
        }

        double megabytesPerSecond() {
            return bytes / seconds / 1e6;
        }
    }

    /** What a gateway's GC log says about one pass: collections, and the largest heap before and after one. */
    record GcStats(int collections, double peakBeforeMib, double peakAfterMib) {}

    private static final Pattern GC_LINE = Pattern.compile("(\\d+)([KMG])->(\\d+)([KMG])\\((\\d+)([KMG])\\)");
    private static final Map<String, Integer> LOG_LINES_SEEN = new LinkedHashMap<>();

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new LinkedHashMap<>();
        List<Gateway> gateways = new ArrayList<>();
        for (String a : args) {
            String key = a.substring(0, a.indexOf('='));
            String value = a.substring(a.indexOf('=') + 1);
            if (key.equals("gateway")) {
                String[] p = value.split(",");
                gateways.add(new Gateway(p[0], Integer.parseInt(p[1]), Long.parseLong(p[2]), Path.of(p[3]),
                        Files.readString(Path.of(p[4])).strip()));
            } else {
                opts.put(key, value);
            }
        }
        int rounds = Integer.parseInt(opts.getOrDefault("rounds", "3"));
        int warmup = Integer.parseInt(opts.getOrDefault("warmup", "300000"));
        int batch = Integer.parseInt(opts.getOrDefault("batch", "10000"));
        int bigBatch = Integer.parseInt(opts.getOrDefault("big_batch", "10000"));

        Map<String, MongoClient> clients = new LinkedHashMap<>();
        clients.put("direct", MongoClients.create("mongodb://127.0.0.1:" + opts.get("direct")));
        for (Gateway g : gateways) {
            clients.put(g.name(), MongoClients.create(MongoClientSettings.builder()
                    .applyConnectionString(new ConnectionString("mongodb://127.0.0.1:" + g.port()))
                    .credential(MongoCredential.createPlainCredential("bench-agent", "$external",
                            g.token().toCharArray()))
                    .build()));
        }
        checkMasking(clients);
        for (Gateway g : gateways) {
            newGcLines(g); // startup's collections are not the passes'
        }

        for (var c : clients.entrySet()) {
            log("warm-up: %,d documents through %s", warmup, c.getKey());
            read(c.getValue(), "patients", batch, warmup);
        }
        List<Pass> passes = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            for (var c : clients.entrySet()) {
                passes.add(pass(c.getKey(), c.getValue(), gateways, "patients", batch, round));
            }
        }
        // The memory run: one cursor over 1 GiB per target, each gateway's heap followed in its GC log.
        for (var c : clients.entrySet()) {
            passes.add(pass(c.getKey(), c.getValue(), gateways, "records", bigBatch, 1));
        }
        Map<String, Map<String, Object>> ends = new LinkedHashMap<>();
        for (Gateway g : gateways) {
            ends.put(g.name(), endOfRun(g));
        }
        for (MongoClient c : clients.values()) {
            c.close();
        }
        String md = markdown(passes, clients.keySet(), ends, rounds);
        System.out.print(md);
        if (opts.containsKey("md")) {
            Files.writeString(Path.of(opts.get("md")), md);
        }
        if (opts.containsKey("json")) {
            Files.writeString(Path.of(opts.get("json")), json(passes, clients.keySet(), ends, opts));
        }
    }

    /** Document 42 through every target: the masked gateway's ssn must differ from the store's, the others' not. */
    private static void checkMasking(Map<String, MongoClient> clients) {
        String stored = null;
        for (var c : clients.entrySet()) {
            RawBsonDocument d = c.getValue().getDatabase("bench").getCollection("patients", RawBsonDocument.class)
                    .find(new org.bson.Document("_id", 42)).first();
            if (d == null) {
                throw new IllegalStateException(c.getKey() + ": document 42 not found");
            }
            String ssn = d.getString("ssn").getValue();
            if (stored == null) {
                stored = ssn;
            }
            boolean masked = c.getKey().endsWith("mask");
            if (masked == ssn.equals(stored)) {
                throw new IllegalStateException(c.getKey() + ": ssn came back " + (masked ? "unmasked" : "changed"));
            }
            log("%s: document 42's ssn %s", c.getKey(), masked ? "masked (" + ssn + ")" : "as stored");
        }
    }

    private static Pass pass(String target, MongoClient client, List<Gateway> gateways, String collection,
                             int batch, int round) throws IOException {
        Gateway g = gateways.stream().filter(x -> x.name().equals(target)).findFirst().orElse(null);
        long ticksBefore = g == null ? 0 : cpuTicks(g.pid());
        long start = System.nanoTime();
        long[] read = read(client, collection, batch, Integer.MAX_VALUE);
        double seconds = (System.nanoTime() - start) / 1e9;
        Double cpu = g == null ? null : (cpuTicks(g.pid()) - ticksBefore) / 100.0;
        GcStats gc = g == null ? null : gcStats(newGcLines(g));
        Long hwm = g == null ? null : procStatusKb(g.pid(), "VmHWM");
        Pass p = new Pass(target, collection, round, read[0], read[1], seconds, gc, hwm, cpu);
        log("round %d %-8s %-13s %,10d documents %,14d bytes %6.2f s %,9.0f docs/s %7.1f MB/s%s", round,
                collection, target, p.documents(), p.bytes(), seconds, p.docsPerSecond(), p.megabytesPerSecond(),
                gc == null ? "" : String.format(Locale.ROOT, "  gateway CPU %.1f s; heap peak %.0f MiB, after GC max"
                        + " %.0f MiB (%d GCs)", cpu, gc.peakBeforeMib(), gc.peakAfterMib(), gc.collections()));
        return p;
    }

    /** Reads up to {@code limit} documents of a full find; returns {documents, their BSON bytes}. */
    private static long[] read(MongoClient client, String collection, int batch, int limit) {
        MongoCollection<RawBsonDocument> docs = client.getDatabase("bench").getCollection(collection,
                RawBsonDocument.class);
        long count = 0;
        long bytes = 0;
        try (MongoCursor<RawBsonDocument> cursor = docs.find().batchSize(batch).iterator()) {
            while (count < limit && cursor.hasNext()) {
                bytes += cursor.next().getByteBuffer().remaining();
                count++;
            }
        }
        return new long[] {count, bytes};
    }

    private static List<String> newGcLines(Gateway g) throws IOException {
        List<String> all = Files.readAllLines(g.gcLog());
        int seen = LOG_LINES_SEEN.getOrDefault(g.name(), 0);
        LOG_LINES_SEEN.put(g.name(), all.size());
        return all.subList(Math.min(seen, all.size()), all.size());
    }

    private static GcStats gcStats(List<String> lines) {
        int count = 0;
        double before = 0;
        double after = 0;
        for (String line : lines) {
            Matcher m = GC_LINE.matcher(line);
            if (line.contains("Pause") && m.find()) {
                count++;
                before = Math.max(before, mib(m.group(1), m.group(2)));
                after = Math.max(after, mib(m.group(3), m.group(4)));
            }
        }
        return new GcStats(count, before, after);
    }

    private static double mib(String n, String unit) {
        return Long.parseLong(n) * switch (unit) {
            case "K" -> 1.0 / 1024;
            case "M" -> 1.0;
            default -> 1024.0;
        };
    }

    /** The gateway at the end: VmHWM and VmRSS, and its heap in use after a full collection (jcmd). */
    private static Map<String, Object> endOfRun(Gateway g) throws Exception {
        Map<String, Object> end = new LinkedHashMap<>();
        end.put("vmhwm_mib", procStatusKb(g.pid(), "VmHWM") / 1024);
        end.put("vmrss_mib", procStatusKb(g.pid(), "VmRSS") / 1024);
        jcmd(g.pid(), "GC.run");
        Matcher m = Pattern.compile("used (\\d+)K").matcher(jcmd(g.pid(), "GC.heap_info"));
        end.put("heap_after_full_gc_mib", m.find() ? Long.parseLong(m.group(1)) / 1024 : null);
        GcStats whole = gcStats(Files.readAllLines(g.gcLog()));
        end.put("peak_heap_before_gc_mib", Math.round(whole.peakBeforeMib()));
        end.put("peak_heap_after_gc_mib", Math.round(whole.peakAfterMib()));
        end.put("gc_pauses", whole.collections());
        return end;
    }

    /**
     * CPU a process has used, all threads, user plus system, in clock ticks (USER_HZ, 100 a second): fields 14 and
     * 15 of /proc/PID/stat, counted after the command name, which may hold spaces.
     */
    private static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    private static long procStatusKb(long pid, String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no " + field + " for " + pid);
    }

    private static String jcmd(long pid, String command) throws Exception {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid), command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return out;
    }

    private static List<Pass> of(List<Pass> passes, String target, String collection) {
        return passes.stream().filter(p -> p.target().equals(target) && p.collection().equals(collection)).toList();
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static String markdown(List<Pass> passes, Iterable<String> targets, Map<String, Map<String, Object>> ends,
                                   int rounds) {
        StringBuilder s = new StringBuilder();
        for (String collection : List.of("patients", "records")) {
            List<Pass> direct = of(passes, "direct", collection);
            double directDocs = median(direct.stream().map(Pass::docsPerSecond).toList());
            s.append(String.format(Locale.ROOT, "%n%s: %,d documents, %,d bytes per find (%s)%n%n", collection,
                    direct.getFirst().documents(), direct.getFirst().bytes(), collection.equals("patients")
                            ? "median of " + rounds + " interleaved rounds" : "one pass per target"));
            s.append("| target | documents/s | MB/s | over direct | gateway CPU s per GB | gateway heap peak /"
                    + " max after GC (MiB) |\n");
            s.append("|---|---:|---:|---:|---:|---|\n");
            for (String t : targets) {
                List<Pass> ps = of(passes, t, collection);
                double docs = median(ps.stream().map(Pass::docsPerSecond).toList());
                double mb = median(ps.stream().map(Pass::megabytesPerSecond).toList());
                String heap = ps.getFirst().gc() == null ? "" : String.format(Locale.ROOT, "%.0f / %.0f",
                        ps.stream().mapToDouble(p -> p.gc().peakBeforeMib()).max().orElse(0),
                        ps.stream().mapToDouble(p -> p.gc().peakAfterMib()).max().orElse(0));
                String cpu = ps.getFirst().gatewayCpuSeconds() == null ? "" : String.format(Locale.ROOT, "%.1f",
                        median(ps.stream().map(p -> p.gatewayCpuSeconds() / (p.bytes() / 1e9)).toList()));
                s.append(String.format(Locale.ROOT, "| %s | %,.0f | %.1f | %.2f | %s | %s |%n", t, docs, mb,
                        docs / directDocs, cpu, heap));
            }
        }
        s.append("\n| gateway | VmHWM MiB | heap after full GC at the end MiB | peak heap before / after any GC MiB |"
                + " GC pauses |\n|---|---:|---:|---|---:|\n");
        ends.forEach((name, e) -> s.append(String.format(Locale.ROOT, "| %s | %s | %s | %s / %s | %s |%n", name,
                e.get("vmhwm_mib"), e.get("heap_after_full_gc_mib"), e.get("peak_heap_before_gc_mib"),
                e.get("peak_heap_after_gc_mib"), e.get("gc_pauses"))));
        return s.toString();
    }

    private static String json(List<Pass> passes, Iterable<String> targets, Map<String, Map<String, Object>> ends,
                               Map<String, String> opts) {
        StringBuilder s = new StringBuilder("{\n  \"meta\": ").append(opts.getOrDefault("meta", "{}"));
        s.append(",\n  \"results\": {");
        String sep = "";
        for (String collection : List.of("patients", "records")) {
            double directDocs = median(of(passes, "direct", collection).stream().map(Pass::docsPerSecond).toList());
            s.append(sep).append("\n    \"").append(collection).append("\": {");
            sep = ",";
            String tsep = "";
            for (String t : targets) {
                List<Pass> ps = of(passes, t, collection);
                double docs = median(ps.stream().map(Pass::docsPerSecond).toList());
                s.append(tsep).append(String.format(Locale.ROOT, "\n      \"%s\": {\"documents\": %d, \"bytes\": %d,"
                        + " \"median_documents_per_s\": %.0f, \"median_mb_per_s\": %.2f, \"over_direct\": %.3f,"
                        + " \"rounds\": [", t, ps.getFirst().documents(), ps.getFirst().bytes(), docs,
                        median(ps.stream().map(Pass::megabytesPerSecond).toList()), docs / directDocs));
                tsep = ",";
                String rsep = "";
                for (Pass p : ps) {
                    s.append(rsep).append(String.format(Locale.ROOT, "{\"round\": %d, \"seconds\": %.3f,"
                            + " \"documents_per_s\": %.0f, \"mb_per_s\": %.2f", p.round(), p.seconds(),
                            p.docsPerSecond(), p.megabytesPerSecond()));
                    if (p.gc() != null) {
                        s.append(String.format(Locale.ROOT, ", \"gateway_cpu_s\": %.2f, \"gc_pauses\": %d,"
                                + " \"peak_heap_before_gc_mib\": %.0f, \"peak_heap_after_gc_mib\": %.0f,"
                                + " \"vmhwm_mib\": %d", p.gatewayCpuSeconds(), p.gc().collections(),
                                p.gc().peakBeforeMib(), p.gc().peakAfterMib(), p.vmHwmKb() / 1024));
                    }
                    s.append("}");
                    rsep = ", ";
                }
                s.append("]}");
            }
            s.append("\n    }");
        }
        s.append("\n  },\n  \"gateways_at_end\": {");
        String gsep = "";
        for (var e : ends.entrySet()) {
            s.append(gsep).append("\n    \"").append(e.getKey()).append("\": {");
            String fsep = "";
            for (var f : e.getValue().entrySet()) {
                s.append(fsep).append('"').append(f.getKey()).append("\": ").append(f.getValue());
                fsep = ", ";
            }
            s.append("}");
            gsep = ",";
        }
        return s.append("\n  }\n}\n").toString();
    }

    private static void log(String format, Object... args) {
        System.err.printf(Locale.ROOT, "[bench %tT] %s%n", System.currentTimeMillis(),
                String.format(Locale.ROOT, format, args));
    }
}
