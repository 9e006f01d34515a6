package io.phigate.sql;

import static io.phigate.sql.Tree.body;
import static io.phigate.sql.Tree.list;
import static io.phigate.sql.Tree.names;
import static io.phigate.sql.Tree.sval;
import static io.phigate.sql.Tree.text;
import static io.phigate.sql.Tree.type;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Locale;

/**
 * The column label PostgreSQL gives an unaliased select-list expression, as its FigureColname does: the name the
 * RowDescription will carry, so that outputs and result columns line up by name where callers compare them.
 */
final class ColumnLabels {
    private ColumnLabels() {
    }

    /** The column label PostgreSQL gives an unaliased expression (FigureColname). */
    static String label(JsonNode e) {
        String name = figure(e, new int[1]);
        return name == null ? "?column?" : name;
    }

    private static String figure(JsonNode e, int[] strength) {
        JsonNode b = body(e);
        strength[0] = 2;
        switch (type(e)) {
            case "ColumnRef" -> {
                List<JsonNode> f = list(b, "fields");
                String last = f.isEmpty() ? null : sval(f.getLast());
                if (last != null) {
                    return last;
                }
            }
            case "A_Indirection" -> {
                List<JsonNode> ind = list(b, "indirection");
                for (int i = ind.size() - 1; i >= 0; i--) {
                    if (sval(ind.get(i)) != null) {
                        return sval(ind.get(i));
                    }
                }
                return figure(b.path("arg"), strength);
            }
            case "FuncCall" -> {
                return Tree.last(names(list(b, "funcname")));
            }
            case "A_Expr" -> {
                if ("AEXPR_NULLIF".equals(text(b, "kind"))) {
                    return "nullif";
                }
            }
            case "TypeCast" -> {
                String inner = figure(b.path("arg"), strength);
                if (inner != null && strength[0] > 1) {
                    return inner;
                }
                strength[0] = 1;
                return Tree.last(names(list(b.path("typeName"), "names")));
            }
            case "CollateClause" -> {
                return figure(b.path("arg"), strength);
            }
            case "CaseExpr" -> {
                String inner = figure(b.path("defresult"), strength);
                if (inner != null && strength[0] > 1) {
                    return inner;
                }
                strength[0] = 1;
                return "case";
            }
            case "A_ArrayExpr" -> {
                return "array";
            }
            case "RowExpr" -> {
                return "row";
            }
            case "CoalesceExpr" -> {
                return "coalesce";
            }
            case "MinMaxExpr" -> {
                return "IS_GREATEST".equals(text(b, "op")) ? "greatest" : "least";
            }
            case "GroupingFunc" -> {
                return "grouping";
            }
            case "SQLValueFunction" -> {
                String op = String.valueOf(text(b, "op")).replace("SVFOP_", "");
                return op.replaceFirst("_N$", "").toLowerCase(Locale.ROOT);
            }
            case "XmlExpr" -> {
                String op = String.valueOf(text(b, "op")).replace("IS_", "");
                return op.equals("DOCUMENT") ? null : op.toLowerCase(Locale.ROOT);
            }
            case "XmlSerialize" -> {
                return "xmlserialize";
            }
            case "SubLink" -> {
                switch (String.valueOf(text(b, "subLinkType"))) {
                    case "EXISTS_SUBLINK" -> {
                        return "exists";
                    }
                    case "ARRAY_SUBLINK" -> {
                        return "array";
                    }
                    case "EXPR_SUBLINK" -> {
                        List<JsonNode> targets = list(body(b.path("subselect")), "targetList");
                        if (!targets.isEmpty()) {
                            JsonNode t = body(targets.getFirst());
                            String n = text(t, "name");
                            return n != null ? n : label(t.path("val"));
                        }
                    }
                    default -> {
                    }
                }
            }
            default -> {
            }
        }
        strength[0] = 0;
        return null;
    }
}
