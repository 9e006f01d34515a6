package io.phigate.sql;

import io.phigate.sql.Lineage.Col;
import io.phigate.sql.Lineage.Lin;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * pg_catalog views over server functions whose lineage cannot be traced through their definitions (the functions
 * read server memory, not tables), modelled column by column instead (issue 25). {@code pg_prepared_statements}
 * and {@code pg_cursors} list only the session's own statements, which it wrote itself: no column holds a value
 * it has not seen. {@code pg_stat_activity} lists every session on the server: its {@code query} is another
 * session's statement text, literals included, and its {@code application_name} is whatever another session set;
 * those two derive from themselves, as columns tagged {@link #VALUE_COLUMNS}' type so masking shows them as free
 * text is shown. Its other columns (pids, states, times, wait events, the role and database) hold no row's value.
 */
public final class SessionViews {
    /** The columns of these views that hold another session's values; tagged {@code free_text} by ColumnTags. */
    public static final Set<ColumnRef> VALUE_COLUMNS = Set.of(
            new ColumnRef("pg_catalog", "pg_stat_activity", "query"),
            new ColumnRef("pg_catalog", "pg_stat_activity", "application_name"));
    private static final Map<String, Boolean> VIEWS = Map.of(
            "pg_stat_activity", true, "pg_prepared_statements", false, "pg_cursors", false);

    private SessionViews() {
    }

    /** True for a view this class models. */
    static boolean models(Relation r) {
        return r.schema().equals("pg_catalog") && VIEWS.containsKey(r.name());
    }

    /** The view's columns: a value column derives from itself; every other one from nothing. */
    static List<Col> columns(Relation r) {
        List<Col> cols = new ArrayList<>();
        for (String c : r.columns()) {
            ColumnRef ref = new ColumnRef(r.schema(), r.name(), c);
            cols.add(new Col(c, VALUE_COLUMNS.contains(ref) ? Lin.of(ref) : Lin.NONE));
        }
        return cols;
    }
}
