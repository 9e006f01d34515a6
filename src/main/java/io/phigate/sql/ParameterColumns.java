package io.phigate.sql;

import io.phigate.sql.Lexer.Token;
import io.phigate.sql.Lexer.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which column each bound parameter ({@code $n}) of a statement is compared with or written to, as far as the
 * tokens show it: {@code col = $1} (and the other comparisons, LIKE, ILIKE), {@code $1 = col},
 * {@code col IN ($1, $2)}, {@code UPDATE ... SET col = $1} and {@code INSERT INTO t (a, b) VALUES ($1, $2)}. A
 * parameter used anywhere else, or against two different columns, or against a name that more than one of the
 * statement's relations has, or against a view's column, is unknown (null): the caller must treat its value as
 * PHI.
 */
public final class ParameterColumns {
    /** Marks a parameter already seen against a different column: unknown however often it is seen again. */
    private static final ColumnRef CONFLICT = new ColumnRef("", "", "");

    private ParameterColumns() {
    }

    /** Per parameter ($1 first), its column or null when unknown; as long as the highest parameter number. */
    public static List<ColumnRef> of(StatementAnalysis a, Catalog catalog) {
        if (a == null || !a.parsed()) {
            return List.of();
        }
        List<Token> t = Lexer.tokens(a.text());
        Set<TableRef> relations = new LinkedHashSet<>(a.writes());
        relations.addAll(a.reads());
        Map<Integer, ColumnRef> inserted = insertColumns(t, relations, catalog);
        ColumnRef[] out = new ColumnRef[0];
        for (int i = 0; i < t.size(); i++) {
            if (t.get(i).type() != Type.PARAM) {
                continue;
            }
            int n;
            try {
                n = Integer.parseInt(t.get(i).value().substring(1));
            } catch (NumberFormatException e) {
                continue;
            }
            if (n < 1 || n > 65_535) {
                continue;
            }
            if (n > out.length) {
                out = Arrays.copyOf(out, n);
            }
            ColumnRef c = inserted.containsKey(i) ? inserted.get(i) : resolve(columnBeside(t, i), relations, catalog);
            // Used once where no column is known, or against two columns: unknown, whatever else it meets.
            out[n - 1] = c == null ? CONFLICT : out[n - 1] == null || out[n - 1].equals(c) ? c : CONFLICT;
        }
        List<ColumnRef> list = new ArrayList<>(out.length);
        for (ColumnRef c : out) {
            list.add(c == CONFLICT ? null : c);
        }
        return list;
    }

    /** The (qualifier, column) a parameter at {@code i} is compared with, or null. */
    private static String[] columnBeside(List<Token> t, int i) {
        int left = operatorBefore(t, i);
        if (left >= 0) {
            String[] name = nameEndingAt(t, left - 1);
            if (name != null) {
                return name;
            }
        }
        int j = i + 1;
        while (j + 1 < t.size() && t.get(j).isSymbol("::")) {
            j += 2; // $1::text = col
        }
        int right = operatorAfter(t, j);
        if (right >= 0 && right < t.size() && t.get(right).isName()) {
            if (right + 2 < t.size() && t.get(right + 1).isSymbol(".") && t.get(right + 2).isName()) {
                return new String[]{t.get(right).value(), t.get(right + 2).value()};
            }
            return new String[]{null, t.get(right).value()};
        }
        // col IN ($1, $2, ...): walk back over the list to its opening parenthesis
        int k = i - 1;
        while (k >= 1 && t.get(k).isSymbol(",") && t.get(k - 1).type() == Type.PARAM) {
            k -= 2;
        }
        if (k >= 1 && t.get(k).isSymbol("(") && t.get(k - 1).is("in")) {
            int end = k - 2;
            if (end >= 0 && t.get(end).is("not")) {
                end--;
            }
            return nameEndingAt(t, end);
        }
        return null;
    }

    /** Index of the first token of a comparison ending just before {@code i}, or -1. */
    private static int operatorBefore(List<Token> t, int i) {
        if (i >= 1 && (t.get(i - 1).is("like") || t.get(i - 1).is("ilike"))) {
            return i - 1;
        }
        int k = i - 1;
        while (k >= 0 && k >= i - 2 && isComparisonChar(t.get(k))) {
            k--;
        }
        return k < i - 1 ? k + 1 : -1;
    }

    /** Index of the first token after a comparison starting at {@code j}, or -1. */
    private static int operatorAfter(List<Token> t, int j) {
        if (j < t.size() && (t.get(j).is("like") || t.get(j).is("ilike"))) {
            return j + 1;
        }
        int k = j;
        while (k < t.size() && k < j + 2 && isComparisonChar(t.get(k))) {
            k++;
        }
        return k > j ? k : -1;
    }

    private static boolean isComparisonChar(Token token) {
        return token.isSymbol("=") || token.isSymbol("<") || token.isSymbol(">") || token.isSymbol("!");
    }

    /**
     * Only a plain table's columns are named: a view's column may derive from PHI that the PHI catalog tags on
     * the base table, so a parameter compared with it stays unknown.
     */
    private static Optional<Relation> table(Catalog catalog, TableRef r) {
        return catalog.relation(r.schema(), r.table()).filter(rel -> rel.kind() == Relation.Kind.TABLE);
    }

    /** {@code col} or {@code q.col} ending at token {@code end}. */
    private static String[] nameEndingAt(List<Token> t, int end) {
        if (end < 0 || !t.get(end).isName()) {
            return null;
        }
        if (end >= 2 && t.get(end - 1).isSymbol(".") && t.get(end - 2).isName()) {
            return new String[]{t.get(end - 2).value(), t.get(end).value()};
        }
        return new String[]{null, t.get(end).value()};
    }

    /** The one column of the statement's relations with this name (and qualifier, when it names a relation). */
    private static ColumnRef resolve(String[] name, Set<TableRef> relations, Catalog catalog) {
        if (name == null) {
            return null;
        }
        ColumnRef found = null;
        boolean qualifierIsRelation = name[0] != null && relations.stream().anyMatch(r -> r.table().equals(name[0]));
        for (TableRef r : relations) {
            if (qualifierIsRelation && !r.table().equals(name[0])) {
                continue;
            }
            Optional<Relation> rel = table(catalog, r);
            if (rel.isPresent() && rel.get().columns().contains(name[1])) {
                if (found != null) {
                    return null; // ambiguous
                }
                found = new ColumnRef(rel.get().schema(), rel.get().name(), name[1]);
            }
        }
        return found;
    }

    /**
     * {@code INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)}: the token index of each parameter that is a whole
     * value (perhaps cast), to the column it is written to.
     */
    private static Map<Integer, ColumnRef> insertColumns(List<Token> t, Set<TableRef> relations, Catalog catalog) {
        Map<Integer, ColumnRef> out = new HashMap<>();
        if (t.size() < 4 || !t.get(0).is("insert") || !t.get(1).is("into")) {
            return out;
        }
        String[] name = t.get(3).isSymbol(".") && t.size() > 4 ? new String[]{t.get(2).value(), t.get(4).value()}
                : new String[]{null, t.get(2).value()};
        int i = name[0] == null ? 3 : 5;
        if (i < t.size() && t.get(i).is("as")) {
            i += 2;
        }
        if (i >= t.size() || !t.get(i).isSymbol("(")) {
            return out;
        }
        List<String> columns = new ArrayList<>();
        for (i++; i < t.size() && !t.get(i).isSymbol(")"); i++) {
            if (t.get(i).isName()) {
                columns.add(t.get(i).value());
            }
        }
        if (++i >= t.size() || !t.get(i).is("values")) {
            return out;
        }
        Optional<Relation> rel = relations.stream()
                .filter(r -> r.table().equals(name[1]) && (name[0] == null || r.schema().equals(name[0])))
                .findFirst().flatMap(r -> table(catalog, r));
        if (rel.isEmpty()) {
            return out;
        }
        int depth = 0;
        int position = 0;
        for (i++; i < t.size(); i++) {
            Token token = t.get(i);
            if (token.isSymbol("(")) {
                depth++;
                position = depth == 1 ? 0 : position;
            } else if (token.isSymbol(")")) {
                depth--;
            } else if (depth == 1 && token.isSymbol(",")) {
                position++;
            } else if (depth == 0 && !token.isSymbol(",")) {
                return out; // ON CONFLICT, RETURNING: the rest is not values
            } else if (depth == 1 && token.type() == Type.PARAM
                    && (t.get(i - 1).isSymbol("(") || t.get(i - 1).isSymbol(","))
                    && i + 1 < t.size() && (t.get(i + 1).isSymbol(",") || t.get(i + 1).isSymbol(")")
                            || t.get(i + 1).isSymbol("::"))
                    && position < columns.size() && rel.get().columns().contains(columns.get(position))) {
                out.put(i, new ColumnRef(rel.get().schema(), rel.get().name(), columns.get(position)));
            }
        }
        return out;
    }
}
