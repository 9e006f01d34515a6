package io.phigate.sql;

import java.util.List;
import java.util.Set;

/**
 * What one statement does to the session's own temporary tables ({@link SessionTables}), read from the parse tree:
 * created with which columns and where their values come from, written, renamed, dropped, or ended with the
 * transaction. A statement that does nothing of the kind has none.
 *
 * @param kind     what happens
 * @param table    the temporary table's name (unqualified, as folded); null for DISCARD and transaction ends
 * @param newName  RENAME's new name (of the table, or of {@code columns}' one column), else null
 * @param columns  the columns created or written, with the lineage of what goes into them; for RENAME of a column,
 *                 the column renamed
 */
public record TableChange(Kind kind, String table, String newName, List<Written> columns) {

    public enum Kind {
        /** CREATE TEMP TABLE (AS), SELECT INTO TEMP: a new, empty or filled table. */
        CREATE,
        /** As CREATE, with ON COMMIT DROP: the table ends with its transaction. */
        CREATE_DROPPED_AT_COMMIT,
        /** A form whose content or shape the gateway does not follow (INHERITS, LIKE, IF NOT EXISTS, MERGE ...). */
        UNKNOWN,
        /** INSERT, UPDATE, COPY FROM STDIN, ALTER TABLE ADD COLUMN: values (or columns) added. */
        WRITE,
        /**
         * A write, ALTER, RENAME or DROP of a name that was not a temporary table when the statement was analysed
         * (prepared before the table was created): if it is one when the statement completes, it becomes unknown.
         */
        TOUCHED_UNSEEN,
        DROP,
        RENAME_TABLE,
        RENAME_COLUMN,
        /** DISCARD TEMP, DISCARD ALL: every temporary table dropped. */
        DISCARD,
        COMMIT,
        ROLLBACK,
        /** ROLLBACK TO SAVEPOINT: undoes part of a transaction the gateway does not keep states of. */
        ROLLBACK_TO_SAVEPOINT
    }

    /**
     * A column and where a value written into it may come from: base-table columns and the session's own
     * columns ({@code pg_temp}), or nothing the gateway can follow ({@code opaque}).
     */
    public record Written(String column, Set<ColumnRef> sources, boolean opaque) {
        static Written clean(String column) {
            return new Written(column, Set.of(), false);
        }
    }

    static TableChange of(Kind kind, String table) {
        return new TableChange(kind, table, null, List.of());
    }
}
