package io.phigate.audit;

import static io.phigate.audit.AuditFixture.A;
import static io.phigate.audit.AuditFixture.AGENT_A;
import static io.phigate.audit.AuditFixture.AGENT_B;
import static io.phigate.audit.AuditFixture.B;
import static io.phigate.audit.AuditFixture.t;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.audit.AuditQueries.Filter;
import io.phigate.audit.AuditQueries.Page;
import io.phigate.audit.AuditQueries.Statement;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditQueriesTest {
    @TempDir
    Path dir;

    private AuditQueries queries;

    @BeforeEach
    void store() throws Exception {
        queries = AuditQueries.sqlite(AuditFixture.write(dir.resolve("audit.db")));
    }

    /** Each found statement as "session#id". */
    private List<String> find(Filter filter) throws SQLException {
        return queries.search(filter, new Page(1000, 0)).statements().stream()
                .map(s -> s.sessionId() + "#" + s.statementId()).toList();
    }

    @Test
    void everyStatementIsFoundOnceInTimeOrderThoughWrittenOutOfOrder() throws Exception {
        assertThat(find(Filter.ANY)).containsExactly("sess-a#1", "sess-a#2", "sess-a#3", "sess-b#1", "sess-b#2",
                "sess-b#3");
    }

    @Test
    void aStatementJoinsItsRequestWithItsCompletion() throws Exception {
        Statement s = queries.search(Filter.ANY.withSession(A).withKind("select"), Page.FIRST_100).statements().getFirst();
        assertThat(s.time()).isEqualTo("2025-03-04T05:00:01.000000Z");
        assertThat(s.subject()).isEqualTo(AGENT_A);
        assertThat(s.issuer()).isEqualTo("https://issuer.test");
        assertThat(s.upstream()).isEqualTo("clinical");
        assertThat(s.clientAddress()).isEqualTo("10.0.0.7:5544");
        assertThat(s.protocol()).isEqualTo("extended");
        assertThat(s.text()).isEqualTo("SELECT * FROM patients WHERE mrn = $1");
        assertThat(s.parameters()).containsExactly("MRN-0042");
        assertThat(s.outcome()).isEqualTo("ok");
        assertThat(s.commandTag()).isEqualTo("SELECT 1");
        assertThat(s.rows()).isEqualTo(1);
        assertThat(s.durationMicros()).isEqualTo(1501);
        assertThat(s.completedTime()).isEqualTo("2025-03-04T05:00:02.000000Z");
        assertThat(s.hash()).hasSize(64);
        assertThat(s.completionHash()).hasSize(64).isNotEqualTo(s.hash());
        assertThat(s.completionSeq()).isGreaterThan(s.seq());

        Statement nullParameter = queries.search(Filter.ANY.withKind("UPDATE"), Page.FIRST_100).statements().getFirst();
        assertThat(nullParameter.parameters()).containsExactly((String) null);
        Statement incomplete = queries.search(Filter.ANY.withOutcome("incomplete"), Page.FIRST_100).statements().getFirst();
        assertThat(incomplete.outcome()).isNull();
        assertThat(incomplete.completionSeq()).isNull();
        assertThat(incomplete.parameters()).as("simple protocol: no parameter list").isNull();
    }

    @Test
    void eachFilterNarrowsToItsStatements() throws Exception {
        assertThat(find(Filter.ANY.withSubject(AGENT_A))).containsExactly("sess-a#1", "sess-a#2", "sess-a#3");
        assertThat(find(Filter.ANY.withSubject("system:serviceaccount:billing:*"))).containsExactly("sess-b#1",
                "sess-b#2", "sess-b#3");
        assertThat(find(Filter.ANY.withSubject("system:serviceaccount:*"))).hasSize(6);
        assertThat(find(Filter.ANY.withSubject("system:serviceaccount:"))).as("no * is exact").isEmpty();
        assertThat(find(Filter.ANY.withSubject("system_serviceaccount*"))).as("_ in a prefix is literal").isEmpty();
        assertThat(find(Filter.ANY.withIssuer("https://other.test"))).containsExactly("sess-b#1", "sess-b#2", "sess-b#3");
        assertThat(find(Filter.ANY.withSession(B))).containsExactly("sess-b#1", "sess-b#2", "sess-b#3");
        assertThat(find(Filter.ANY.withUpstream("clinical"))).containsExactly("sess-a#1", "sess-a#2", "sess-a#3");
        assertThat(find(Filter.ANY.withOutcome("ok"))).containsExactly("sess-a#1", "sess-a#2", "sess-b#1");
        assertThat(find(Filter.ANY.withOutcome("error"))).containsExactly("sess-a#3");
        assertThat(find(Filter.ANY.withOutcome("refused"))).containsExactly("sess-b#2");
        assertThat(find(Filter.ANY.withOutcome("incomplete"))).containsExactly("sess-b#3");
        assertThat(find(Filter.ANY.withKind("UPDATE"))).containsExactly("sess-a#2");
        assertThat(find(Filter.ANY.withKind("select"))).containsExactly("sess-a#1", "sess-b#1");
        assertThat(find(Filter.ANY.withSince(t(3)))).containsExactly("sess-a#2", "sess-a#3", "sess-b#1", "sess-b#2",
                "sess-b#3");
        assertThat(find(Filter.ANY.withUntil(t(3)))).as("until is exclusive").containsExactly("sess-a#1");
        assertThat(find(Filter.ANY.withSince(t(3)).withUntil(t(102)))).containsExactly("sess-a#2", "sess-a#3",
                "sess-b#1");
        assertThat(find(Filter.ANY.withText("select PATIENTS"))).as("all words, any case").containsExactly("sess-a#1");
        assertThat(find(Filter.ANY.withText("patients nowhere"))).isEmpty();
        assertThat(find(Filter.ANY.withSubject(AGENT_B).withOutcome("ok").withText("pct"))).containsExactly("sess-b#1");
    }

    @Test
    void percentUnderscoreAndBackslashInFreeTextAreLiteral() throws Exception {
        assertThat(find(Filter.ANY.withText("100%"))).as("not 'SELECT 100 AS pct'").containsExactly("sess-a#3");
        assertThat(find(Filter.ANY.withText("a_b"))).as("not 'a,b'").containsExactly("sess-b#2");
        assertThat(find(Filter.ANY.withText("%"))).containsExactly("sess-a#3");
        assertThat(find(Filter.ANY.withText("\\"))).isEmpty();
    }

    @Test
    void pagingWithAfterReturnsEveryStatementExactlyOnce() throws Exception {
        List<Long> all = queries.search(Filter.ANY, new Page(1000, 0)).statements().stream().map(Statement::seq).toList();
        assertThat(all).hasSize(AuditFixture.STATEMENTS);
        for (int limit : new int[]{1, 2, 4, 5, 6, 7}) {
            var seen = new ArrayList<Long>();
            long after = 0;
            int pages = 0;
            while (true) {
                var page = queries.search(Filter.ANY, new Page(limit, after));
                page.statements().forEach(s -> seen.add(s.seq()));
                pages++;
                if (page.nextAfter() == null) {
                    break;
                }
                assertThat(page.statements()).hasSize(limit);
                after = page.nextAfter();
            }
            assertThat(seen).as("limit %d", limit).containsExactlyElementsOf(all);
            assertThat(pages).isEqualTo(Math.max(1, (all.size() + limit - 1) / limit));
        }
        // Paging composes with a filter.
        var first = queries.search(Filter.ANY.withSubject(AGENT_B), new Page(2, 0));
        var second = queries.search(Filter.ANY.withSubject(AGENT_B), new Page(2, first.nextAfter()));
        assertThat(second.statements()).extracting(Statement::statementId).containsExactly(3L);
        assertThat(second.nextAfter()).isNull();
    }

    @Test
    void sessionReplaysEveryRecordInTheOrderItHappened() throws Exception {
        assertThat(queries.session(A)).extracting(e -> e.kind() + (e.statementId() == null ? "" : "#" + e.statementId()))
                .containsExactly("session_started", "statement_requested#1", "statement_completed#1",
                        "statement_requested#2", "statement_completed#2", "statement_requested#3",
                        "statement_completed#3", "session_ended");
        var events = queries.session(A);
        assertThat(events.get(1).parameterList()).containsExactly("MRN-0042");
        assertThat(events.get(3).statement()).isEqualTo(AuditFixture.TRICKY);
        assertThat(events).allSatisfy(e -> assertThat(e.hash()).hasSize(64));
        assertThat(queries.session("no-such-session")).isEmpty();
    }

    @Test
    void badLimitsAndOutcomesAreRefused() {
        assertThatThrownBy(() -> new Page(0, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Page(1001, 0)).hasMessageContaining("between 1 and 1000");
        assertThatThrownBy(() -> new Page(10, -1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Filter.ANY.withOutcome("success")).hasMessageContaining("outcome must be one of");
        assertThatThrownBy(() -> Filter.ANY.withSince(t(5)).withUntil(t(5))).hasMessageContaining("before");
    }

    @Test
    void missingStoreIsNamed() {
        assertThatThrownBy(() -> AuditQueries.sqlite(dir.resolve("nope.db")).search(Filter.ANY, Page.FIRST_100))
                .isInstanceOf(SQLException.class).hasMessageContaining("no audit store at");
    }

    @Test
    void timesAreReadAsInstantsDatesOrAges() {
        Clock clock = Clock.fixed(Instant.parse("2025-03-04T12:00:00Z"), ZoneOffset.UTC);
        assertThat(AuditQueries.parseTime("2025-03-01T01:02:03.5Z", clock)).isEqualTo("2025-03-01T01:02:03.500Z");
        assertThat(AuditQueries.parseTime("2025-03-01", clock)).isEqualTo("2025-03-01T00:00:00Z");
        assertThat(AuditQueries.parseTime("24h", clock)).isEqualTo("2025-03-03T12:00:00Z");
        assertThat(AuditQueries.parseTime("7d", clock)).isEqualTo("2025-02-25T12:00:00Z");
        assertThat(AuditQueries.parseTime("90m", clock)).isEqualTo("2025-03-04T10:30:00Z");
        assertThatThrownBy(() -> AuditQueries.parseTime("yesterday", clock)).hasMessageContaining("expected a time");
    }

    @Test
    void toStringNeverShowsStatementParametersOrSearchText() throws Exception {
        var found = queries.search(Filter.ANY.withSession(A), Page.FIRST_100).statements();
        var events = queries.session(A);
        var filter = Filter.ANY.withText("MRN-0042 patients");
        for (Object o : List.of(found.getFirst(), found.get(1), events.get(1), events.get(3), filter)) {
            assertThat(o.toString()).doesNotContain("patients").doesNotContain("MRN-0042");
        }
        assertThat(Arrays.toString(found.toArray())).doesNotContain("MRN-0042");
    }

    @Test
    void theTextIndexIsAskedForEachTrigramAsItsOwnPhrase() {
        assertThat(StatementSearch.trigramMatch(List.of("mrn =", "pat"))).isEqualTo("\"mrn\" AND \"rn \" AND \"n =\" AND \"pat\"");
        assertThat(StatementSearch.trigramMatch(List.of("a\"bc"))).as("quotes doubled")
                .isEqualTo("\"a\"\"b\" AND \"\"\"bc\"");
        assertThat(StatementSearch.trigramMatch(List.of("x😀yz"))).as("by code point, not char")
                .isEqualTo("\"x😀y\" AND \"😀yz\"");
        assertThat(StatementSearch.trigramMatch(List.of("patients patients"))).as("each trigram once")
                .isEqualTo("\"pat\" AND \"ati\" AND \"tie\" AND \"ien\" AND \"ent\" AND \"nts\" AND \"ts \""
                        + " AND \"s p\" AND \" pa\"");
        String many = StatementSearch.trigramMatch(List.of("a".repeat(10) + "b".repeat(500), "zzzq"));
        assertThat(many.split(" AND ")).as("bounded, and every term keeps a share").hasSizeLessThanOrEqualTo(
                StatementSearch.MAX_MATCH_TRIGRAMS).contains("\"zzz\"", "\"zzq\"");
        List<String> words = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            words.add(String.format("%03dx", i)); // first trigrams all distinct
        }
        assertThat(StatementSearch.trigramMatch(words).split(" AND ")).as("more terms than trigrams")
                .hasSize(StatementSearch.MAX_MATCH_TRIGRAMS);
    }
}
