package io.phigate.audit;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code masking} field of a completion record read back: which PHI columns the statement's results carried,
 * each with its PHI type and the operator applied ({@code none}: delivered as is, the role sees the type). This,
 * not the request's list of columns a statement references, is what says PHI reached the agent: a column used
 * only in a WHERE clause, an aggregate over it, a DECLARE or a PREPARE deliver none of its values.
 *
 * <p>The field reads {@code ssn(ssn)=redact, dob(date)=none}; several results of one statement are joined with
 * {@code "; "}. A refusal's field is {@code refused: REASON}, which names no column.
 *
 * @param results one list of columns per result that carried PHI
 */
public record MaskingSummary(List<List<Column>> results) {

    /** One PHI output column of a result. {@code phiType} is {@code unknown lineage} for a column masked blind. */
    public record Column(String name, String phiType, String operator) {
        public boolean unmasked() {
            return operator.equals("none");
        }
    }

    static final String REFUSED = "refused: ";

    /** Parses a completion's {@code masking} field; an absent field or a refusal gives no results. */
    public static MaskingSummary parse(String masking) {
        List<List<Column>> results = new ArrayList<>();
        if (masking == null || masking.startsWith(REFUSED)) {
            return new MaskingSummary(List.of());
        }
        for (String result : masking.split("; ")) {
            List<Column> columns = new ArrayList<>();
            for (String part : result.split(", ")) {
                int close = part.indexOf(")=");
                int open = close < 0 ? -1 : part.lastIndexOf('(', close);
                if (open > 0) {
                    columns.add(new Column(part.substring(0, open), part.substring(open + 1, close),
                            part.substring(close + 2)));
                }
            }
            if (!columns.isEmpty()) {
                results.add(List.copyOf(columns));
            }
        }
        return new MaskingSummary(List.copyOf(results));
    }

    /** The reason a completion's {@code masking} field gives for a refusal, or null when it is no refusal. */
    public static String refusalReason(String masking) {
        return masking != null && masking.startsWith(REFUSED) ? masking.substring(REFUSED.length()) : null;
    }

    /** Every column of every result, in order. */
    public List<Column> columns() {
        return results.stream().flatMap(List::stream).toList();
    }

    /**
     * PHI values delivered masked in {@code rows} rows. A completion keeps one row count for all of a statement's
     * results, so a statement with several is counted against its widest result (an upper bound; one result,
     * the usual case, is exact).
     */
    public long maskedValues(long rows) {
        return rows * widest(false);
    }

    /** PHI values delivered unmasked in {@code rows} rows; see {@link #maskedValues}. */
    public long unmaskedValues(long rows) {
        return rows * widest(true);
    }

    private long widest(boolean unmasked) {
        long most = 0;
        for (List<Column> result : results) {
            most = Math.max(most, result.stream().filter(c -> c.unmasked() == unmasked).count());
        }
        return most;
    }
}
