package io.phigate.sql;

import java.util.Set;

/**
 * One column of a statement's result, with where its values may come from.
 *
 * @param name    the column label the server will send (best effort; the RowDescription is authoritative)
 * @param sources every base-table column the value may derive from, through any expression, alias, subquery,
 *                CTE, view, join, UNION branch or whole-row reference ({@code p.*}, {@code row_to_json(p)},
 *                {@code p::text} expand to all of p's columns)
 * @param direct  true when the value is a plain reference to exactly one column (no expression applied), so
 *                an operator that keeps the column's type can be applied to it as is
 * @param opaque  true when lineage cannot be known (an unknown relation, a function that is not transparent, a
 *                construct the analyser does not follow); the caller must then treat it as possibly any PHI
 */
public record OutputColumn(String name, Set<ColumnRef> sources, boolean direct, boolean opaque) {
}
