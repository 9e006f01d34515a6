package io.phigate.sql;

import java.util.Optional;
import java.util.Set;

/**
 * What the analyser knows about one upstream's schema. Names are looked up as PostgreSQL folds them; an
 * unqualified relation name resolves through the search path, as the server would.
 */
public interface Catalog {

    /** The relation {@code schema.name}, or {@code name} through the search path when {@code schema} is null. */
    Optional<Relation> relation(String schema, String name);

    /**
     * True when the server may read {@code name} (unqualified: {@code schema} null) as another relation than the one
     * {@link #relation} returns: a session's temporary table of that name, which the server finds first, while the
     * analysis keeps the catalog's relation so that its tags still mask. What is read through such a name is then
     * not known to be that relation's own values: no lookup and no join of masked keys (decision 0094).
     */
    default boolean shadowed(String schema, String name) {
        return false;
    }

    /** The column a RowDescription names by table OID and attribute number, if that is a known relation. */
    Optional<ColumnRef> column(int tableOid, int attributeNumber);

    /**
     * True for a function whose result depends only on its arguments as far as lineage is concerned (built-in
     * functions in pg_catalog such as {@code lower}, {@code concat_ws}, {@code row_to_json}). A function that is
     * not transparent may read tables inside its body and hides lineage; {@code schema} is null when unqualified.
     */
    boolean isTransparentFunction(String schema, String name);

    /**
     * The columns whose stored values a value written into {@code column} is checked against: the column itself
     * under a primary key, unique or exclusion constraint or a unique index (one on an expression counts for every
     * column of its table), and the referenced columns of a foreign key. The write then answers whether the value
     * exists there (the constraint's error, or ON CONFLICT). The column itself when the catalog does not know its
     * table: fail closed.
     */
    default Set<ColumnRef> checkedAgainst(ColumnRef column) {
        return Set.of(column);
    }

    /**
     * The columns a CHECK constraint of {@code table} reads: a row written there is tested against them whatever
     * the statement writes ({@code CHECK (discharged_on >= admitted_on)} answers for {@code admitted_on} when only
     * {@code discharged_on} is set).
     */
    default Set<ColumnRef> rowChecks(TableRef table) {
        return Set.of();
    }

    /**
     * The tables the server also writes when a statement writes {@code table} with {@code operation}, through
     * foreign-key actions, transitively: for DELETE the ON DELETE actions, for UPDATE the ON UPDATE actions (CASCADE,
     * SET NULL and SET DEFAULT all write the referencing table; SET NULL/DEFAULT as an update, whose own actions then
     * follow), and for TRUNCATE (with CASCADE) every referencing table. Empty when the catalog does not know them.
     */
    default Set<TableRef> writtenThroughKeys(TableRef table, Operation operation) {
        return Set.of();
    }

    /**
     * The tables that inherit from {@code table} or are its partitions, transitively. The server writes their rows
     * too when a statement writes {@code table} without ONLY (DELETE, UPDATE, TRUNCATE, ALTER, DROP of a
     * partitioned table) and routes rows into a partition when it inserts into its parent. Empty when none are known.
     */
    default Set<TableRef> descendants(TableRef table) {
        return Set.of();
    }

    /**
     * Names of {@code table}'s columns whose values choose which of its partitions a row is stored in: its own
     * partition key's and each partitioned descendant's. A row's {@code tableoid} names that partition, so it holds
     * what they hold ({@code PARTITION BY LIST (left(ssn, 1))} made it give each SSN's first digit).
     */
    default Set<String> partitionedBy(TableRef table) {
        return Set.of();
    }

    /**
     * Names of {@code table}'s columns its ancestors' partition keys read: whether a row is among its rows was chosen
     * by their values, as a view's WHERE chooses (a partition {@code FOR VALUES IN ('0')} of a table partitioned by
     * {@code left(ssn, 1)} lists the patients whose SSN starts with 0).
     */
    default Set<String> chosenBy(TableRef table) {
        return Set.of();
    }

    /**
     * True when {@code column} holds arrays, ranges, multiranges or composite values (through a domain too), over
     * which the functions and operators vetted total for scalars are not ({@link TotalExpressions}). False when the
     * catalog does not know the column's type.
     */
    default boolean compound(ColumnRef column) {
        return false;
    }

    /**
     * True when some schema defines a function named {@code name} (any case folding aside). A field name after a
     * row whose columns are not known ({@code j.key} of {@code jsonb_each_text(...) j}) is read as its column unless
     * it names a function, which the server may call on the row instead. True when the catalog cannot say.
     */
    default boolean definesFunction(String name) {
        return true;
    }

    /**
     * True for a built-in function that may change state beyond its result or read what no relation of the
     * statement names: one the server marks volatile ({@code pg_proc.provolatile = 'v'}) in pg_catalog, other than
     * those known to change nothing (random numbers, clocks, sleeps, sizes, the server's status), or one marked
     * stable that gives the transaction an xid ({@code txid_current}). A setting, a lock,
     * a notification, another session, statistics, WAL, an index's pending list: a read-only role may not do these
     * without a grant (policy.ScopeCheck). False for other schemas' functions, which are opaque, and when the
     * catalog cannot say.
     */
    default boolean changesState(String schema, String name) {
        return false;
    }

    /**
     * True when equality under the collation {@code name} (its last name part, as the grammar gives it) holds only
     * for equal values: a deterministic collation the catalog knows. A nondeterministic one (case- or
     * accent-insensitive, or ICU rules that make characters equal) turns {@code column = $1} into a match of every
     * value its rules make equal; a name the catalog does not know may be one. The built-in {@code default},
     * {@code C}, {@code POSIX} and {@code ucs_basic} are deterministic in every database.
     */
    default boolean deterministicCollation(String name) {
        return DETERMINISTIC_EVERYWHERE.contains(name);
    }

    /** Collations every PostgreSQL database has, all deterministic. */
    Set<String> DETERMINISTIC_EVERYWHERE = Set.of("default", "C", "POSIX", "ucs_basic");

    /**
     * True when {@code column} is declared with a nondeterministic collation (directly or through its domain), so
     * equality with it matches values that differ. False when the catalog does not know the column.
     */
    default boolean looseEquality(ColumnRef column) {
        return false;
    }

    /**
     * The stored columns holding values of the domain or enum {@code schema.name}: columns of the type, of a domain
     * over it, or of an array, range, multirange or composite built over it. The server tests every one when a
     * domain's constraint is added, validated or made NOT NULL (decision 0074), and an enum's RENAME VALUE changes
     * what every one reads as (decision 0080). Unqualified ({@code schema} null): of every such type by that name.
     * Empty when the catalog does not know the type: the caller fails closed.
     */
    default Optional<Set<ColumnRef>> columnsHoldingType(String schema, String name) {
        return Optional.empty();
    }

    /**
     * The tables typed by the composite type {@code schema.name} ({@code CREATE TABLE t OF name}), which ALTER TYPE
     * ... CASCADE rewrites; any schema when unqualified. Empty when the catalog does not know the type (fail closed).
     */
    default Optional<Set<TableRef>> typedTables(String schema, String name) {
        return Optional.empty();
    }

    /** A catalog that knows nothing: every relation unknown, only built-in functions transparent. */
    Catalog EMPTY = new Catalog() {
        @Override
        public Optional<Relation> relation(String schema, String name) {
            return Optional.empty();
        }

        @Override
        public Optional<ColumnRef> column(int tableOid, int attributeNumber) {
            return Optional.empty();
        }

        @Override
        public boolean isTransparentFunction(String schema, String name) {
            return schema == null || schema.equals("pg_catalog");
        }
    };
}
