// Picks the parse corpus of bench/prototypes/0082-protobuf-reader.patch's differential test from PostgreSQL's
// regression SQL (decision 0082): the shortest statement that adds a node type, a field or an enum value not yet
// seen, until the whole suite adds nothing (938 of 39,551 statements). The steps are in the patch's header; it
// needs the patch applied (PgGrammar.Reader), and sits in io.phigate.sql to reach it. It writes this header:
//   -- Statements from PostgreSQL's regression tests (src/test/regress/sql, as libpg_query 15-4.0.0 ships them in
//   -- test/sql/postgres_regress; PostgreSQL licence), chosen by bench/prototypes/0082-ParseCorpus.java.
//   -- ParseResultDecoderTest reads each through libpg_query's protobuf and JSON outputs. Chunks are separated
//   -- by a line '-- ---'.
//   -- ---
package io.phigate.sql;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.*; import java.util.*;
class Corpus {
  static void features(JsonNode n, String owner, Set<String> out) {
    if (n.isArray()) { for (JsonNode e : n) features(e, owner, out); return; }
    if (!n.isObject()) return;
    for (var e : n.properties()) {
      String k = e.getKey(); JsonNode v = e.getValue();
      if (Character.isUpperCase(k.charAt(0)) && v.isObject()) { out.add("node:" + k); features(v, k, out); continue; }
      out.add(owner + "." + k);
      if (v.isTextual() && v.asText().matches("[A-Z][A-Z0-9_]+")) out.add(owner + "." + k + "=" + v.asText());
      features(v, owner + "." + k, out);
    }
  }
  public static void main(String[] a) throws Exception {
    List<String> stmts = new ArrayList<>();
    for (Path p : Files.list(Path.of(a[0])).sorted().toList()) {
      String text = Files.readString(p);
      StringBuilder cur = new StringBuilder();
      for (String line : text.split("\n")) {
        if (line.startsWith("\\")) continue;
        cur.append(line).append('\n');
        if (line.strip().endsWith(";")) {
          String c = cur.toString(); cur.setLength(0);
          PgGrammar.Parsed j = PgGrammar.parse(c, PgGrammar.Reader.JSON);
          if (!j.ok()) continue;
          for (var s : j.statements()) stmts.add(c.substring(s.start(), s.end()).strip());
        }
      }
    }
    stmts.sort(Comparator.comparingInt(String::length));
    Set<String> seen = new HashSet<>(); List<String> keep = new ArrayList<>();
    for (String s : stmts) {
      if (s.contains("\n-- ---\n")) continue;
      Set<String> f = new HashSet<>();
      for (var st : PgGrammar.parse(s, PgGrammar.Reader.JSON).statements()) features(st.tree(), "", f);
      if (!seen.containsAll(f)) { seen.addAll(f); keep.add(s); }
    }
    long nodes = seen.stream().filter(x -> x.startsWith("node:")).count();
    System.err.println("statements=" + stmts.size() + " kept=" + keep.size() + " features=" + seen.size() + " nodeTypes=" + nodes);
    System.out.println("-- Statements from PostgreSQL's regression tests (src/test/regress/sql, as libpg_query 15-4.0.0 ships them in");
    System.out.println("-- test/sql/postgres_regress; PostgreSQL licence), chosen by bench/prototypes/0082-ParseCorpus.java.");
    System.out.println("-- ParseResultDecoderTest reads each through libpg_query's protobuf and JSON outputs. Chunks are separated");
    System.out.println("-- by a line '-- ---'.");
    System.out.println("-- ---");
    System.out.print(String.join("\n-- ---\n", keep)); System.out.println();
  }
}
