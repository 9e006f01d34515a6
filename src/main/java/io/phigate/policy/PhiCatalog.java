package io.phigate.policy;

import io.phigate.mask.PhiType;
import io.phigate.sql.ColumnRef;
import io.phigate.sql.TableRef;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The PHI declared for one upstream.
 *
 * @param columns           tagged columns, as the policy names them
 * @param discoverComments  also take tags from {@code COMMENT ON COLUMN ... IS 'phi:TYPE'} in the database
 * @param subjects          per table, the column that identifies the patient a row is about (keys the per-patient
 *                          date shift)
 * @param functions         functions (and operators outside pg_catalog) vetted for roles that see PHI masked beyond
 *                          phigate's own list ({@link FunctionAllowlist}), as {@code schema.name} or a bare name; any
 *                          other function is refused for those roles
 * @param unparsed          what happens to a statement the analyser cannot parse
 * @param copyOut           what happens to COPY ... TO STDOUT of PHI in a format the gateway cannot mask
 * @param detection         content detection over values not declared PHI
 */
public record PhiCatalog(Map<ColumnRef, PhiType> columns, boolean discoverComments, Map<TableRef, String> subjects,
                         Set<String> functions, OnUnparsed unparsed, ContentDetection detection) {

    public static final PhiCatalog EMPTY = new PhiCatalog(Map.of(), false, Map.of(), Set.of(), OnUnparsed.REFUSE,
            ContentDetection.DEFAULT);

    public enum OnUnparsed { REFUSE, ALLOW }

    /** True when nothing on this upstream is declared PHI (detection may still apply). */
    public boolean declaresNothing() {
        return columns.isEmpty() && !discoverComments;
    }

    /**
     * Content detectors as a safety net over text values the catalog does not declare.
     *
     * @param enabled       master switch for the upstream
     * @param minConfidence findings scored below this are left alone
     * @param perDetector   confidence overrides by detector name (0 disables one)
     * @param mrnPatterns   regular expressions that match this site's medical record numbers
     */
    public record ContentDetection(boolean enabled, double minConfidence, Map<String, Double> perDetector,
                                   List<String> mrnPatterns) {
        public static final ContentDetection DEFAULT = new ContentDetection(true, 0.5, Map.of(), List.of());
    }
}
