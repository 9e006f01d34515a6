package io.phigate.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.sql.Catalog;
import io.phigate.sql.SqlAnalyzer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The utility-statement facts the session-state registry reads, from PostgreSQL's own parse tree. */
class UtilityWordsTest {

    @Test
    void theBodyOfAPrepareStartsAfterItsTypeListAndAs() {
        assertThat(UtilityWords.preparedBody("PREPARE p (int, character varying(10)[]) AS SELECT $1"))
                .isEqualTo("SELECT $1");
        assertThat(UtilityWords.preparedBody("prepare \"As\" /* as */ as\n-- comment\nSELECT 1")).isEqualTo(
                "-- comment\nSELECT 1");
        assertThat(UtilityWords.preparedBody("PREPARE TRANSACTION 'x'")).isNull();
        // A comment ended by a carriage return, as the server's scanner ends it: the AS after it is real.
        assertThat(UtilityWords.preparedBody("PREPARE p -- x\rAS SELECT 2")).isEqualTo("SELECT 2");
    }

    @Test
    void theQueryOfADeclareStartsAfterFor() {
        assertThat(UtilityWords.cursorQuery("DECLARE c BINARY NO SCROLL CURSOR WITH HOLD FOR SELECT 1"))
                .isEqualTo("SELECT 1");
        assertThat(UtilityWords.withHold("DECLARE c CURSOR WITH HOLD FOR SELECT 1")).isTrue();
        assertThat(UtilityWords.withHold("DECLARE c CURSOR WITHOUT HOLD FOR SELECT 1")).isFalse();
        assertThat(UtilityWords.withHold("DECLARE \"with\" CURSOR FOR SELECT 'with hold'")).isFalse();
        assertThat(UtilityWords.withHold("DECLARE c CURSOR FOR SELECT 1 /* WITH HOLD */")).isFalse();
        assertThat(UtilityWords.cursorQuery("DECLARE c /* for select 1 /* nested */ for */ CURSOR FOR SELECT 3"))
                .isEqualTo("SELECT 3");
    }

    @Test
    void allIsReadOnlyUnquoted() {
        assertThat(UtilityWords.deallocateAll("DEALLOCATE ALL")).isTrue();
        assertThat(UtilityWords.deallocateAll("deallocate prepare all")).isTrue();
        assertThat(UtilityWords.deallocateAll("DEALLOCATE \"all\"")).isFalse();
        assertThat(UtilityWords.discardAll("DISCARD ALL")).isTrue();
        assertThat(UtilityWords.discardAll("DISCARD PLANS")).isFalse();
    }

    @Test
    void onlyBeginStartSavepointAndReleaseRunNothingAsTheAnalysisReadThem() {
        SqlAnalyzer analyzer = new SqlAnalyzer(Catalog.EMPTY, 0);
        for (String nothing : List.of("BEGIN", "BEGIN ISOLATION LEVEL REPEATABLE READ", "START TRANSACTION READ ONLY",
                "SAVEPOINT s", "RELEASE SAVEPOINT s", "RELEASE s")) {
            assertThat(UtilityWords.runsNothing(analyzer.analyze(nothing).getFirst())).as(nothing).isTrue();
        }
        // COMMIT fires deferred triggers, a ROLLBACK of either kind puts settings back, the prepared ones finish a
        // transaction of any session of the login
        for (String code : List.of("COMMIT", "END", "COMMIT AND CHAIN", "ROLLBACK", "ABORT", "ROLLBACK AND CHAIN",
                "ROLLBACK TO SAVEPOINT s", "ROLLBACK TO s", "PREPARE TRANSACTION 'x'", "COMMIT PREPARED 'x'",
                "ROLLBACK PREPARED 'x'", "SELECT 1", "SET search_path = x", "not sql at all")) {
            assertThat(UtilityWords.runsNothing(analyzer.analyze(code).getFirst())).as(code).isFalse();
        }
    }
}
