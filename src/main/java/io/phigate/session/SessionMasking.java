package io.phigate.session;

import io.phigate.mask.MaskOperator;
import io.phigate.mask.MaskOperator.ValueType;
import io.phigate.mask.MaskPlan;
import io.phigate.mask.MessageScrubber;
import io.phigate.mask.OperatorFactory;
import io.phigate.mask.OperatorSpec;
import io.phigate.mask.PhiType;
import io.phigate.mask.ResultColumn;
import io.phigate.mask.Scrubber;
import io.phigate.policy.ColumnTags;
import io.phigate.policy.PhiCatalog;
import io.phigate.policy.Policy;
import io.phigate.policy.Role;
import io.phigate.sql.Catalog;
import io.phigate.sql.ColumnRef;
import io.phigate.sql.OutputColumn;
import io.phigate.sql.SessionTables;
import io.phigate.sql.TableChange;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.TableRef;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Masking decisions for one session: which PHI a result carries and how this session's role may see it. Two
 * independent signals are combined, and the stronger wins: the statement's lineage (every output column traced
 * back to its source columns) and the result description's table OID and attribute number for plain column
 * references. When neither can say where a value comes from and the statement touches PHI, the value is masked.
 */
public final class SessionMasking {
    private static final Set<Integer> TEXT_TYPES = Set.of(25, 1043, 1042, 19, 18, 114, 3802, 142, 705);
    /** Declared type of a COPY field computed by an expression: text, scanned and masked as text would be. */
    private static final int TEXT = 25;

    private final Policy policy;
    private final Role role;
    private final PhiCatalog phi;
    private final Catalog catalog;
    private final Map<ColumnRef, PhiType> tags;
    private final Set<TableRef> phiTables;
    private final OperatorFactory factory;
    private final Scrubber scrubber;
    private final boolean masksPhi;
    private final MessageScrubber messages;
    private final Map<String, MaskOperator> operators = new ConcurrentHashMap<>();
    /** The session's temporary tables (decision 0050); null when the session keeps none. */
    private final SessionTables tables;
    private final String upstream;

    /** {@code tags}: the upstream's tags resolved against {@code catalog} ({@link ColumnTags#resolve}). */
    public SessionMasking(Policy policy, Role role, String upstream, Catalog catalog, ColumnTags tags,
                          OperatorFactory factory, Scrubber scrubber) {
        this(policy, role, upstream, catalog, tags, factory, scrubber, null);
    }

    /** As above, with the session's temporary tables, whose columns are masked by what was written into them. */
    public SessionMasking(Policy policy, Role role, String upstream, Catalog catalog, ColumnTags tags,
                          OperatorFactory factory, Scrubber scrubber, SessionTables sessionTables) {
        this.tables = sessionTables;
        this.upstream = upstream;
        this.policy = policy;
        this.role = role;
        this.phi = policy.catalog(upstream);
        this.catalog = catalog;
        this.tags = tags.byColumn();
        Set<TableRef> tables = new HashSet<>();
        boolean masks = false;
        for (Map.Entry<ColumnRef, PhiType> e : this.tags.entrySet()) {
            tables.add(new TableRef(e.getKey().schema(), e.getKey().table()));
            masks |= policy.operatorFor(role, e.getValue()).kind() != OperatorSpec.Kind.NONE;
        }
        this.phiTables = Collections.unmodifiableSet(tables);
        this.masksPhi = masks;
        this.factory = factory;
        this.scrubber = phi.detection().enabled() ? scrubber : Scrubber.NONE;
        this.messages = new MessageScrubber(masks, catalog, this.scrubber);
    }

    /** True when some declared PHI on this upstream reaches this role masked: statements must then be analysed. */
    public boolean masksPhi() {
        return masksPhi;
    }

    /** The session's temporary tables, told by the response side what the server completed; null when none. */
    public SessionTables tables() {
        return tables;
    }

    /**
     * An output's sources with every column of a session's temporary table replaced by what was written into it,
     * as the table is now; {@code opaque[0]} set when that is unknown.
     */
    private Set<ColumnRef> resolved(Set<ColumnRef> sources, boolean[] opaque) {
        if (tables == null || sources.stream().noneMatch(SessionMasking::temporary)) {
            return sources;
        }
        Set<ColumnRef> out = new HashSet<>();
        for (ColumnRef c : sources) {
            if (temporary(c)) {
                TableChange.Written w = tables.lineage(c);
                out.addAll(w.sources());
                opaque[0] |= w.opaque();
            } else {
                out.add(c);
            }
        }
        return out;
    }

    private static boolean temporary(ColumnRef c) {
        return SessionTables.SCHEMA.equals(c.schema());
    }

    /**
     * True if a {@code search_path} value names exactly the schemas the catalog resolves names by (what
     * {@code current_schemas(false)} gave when it was read): a client that sets the path its server already uses
     * (pgjdbc's {@code currentSchema=public}) changes nothing masking depends on.
     */
    public boolean resolvesNamesBy(String searchPath) {
        io.phigate.sql.PgCatalog pg = io.phigate.sql.PgCatalog.of(catalog);
        return pg != null && pg.resolvesNamesBy(searchPath);
    }

    public PhiCatalog catalogPolicy() {
        return phi;
    }

    public Scrubber scrubber() {
        return scrubber;
    }

    public Optional<PhiType> typeOf(ColumnRef column) {
        return Optional.ofNullable(tags.get(column));
    }

    /** The column's PHI type when this session sees it masked; null when it is untagged or seen in clear. */
    public PhiType maskedType(ColumnRef column) {
        PhiType t = tags.get(column);
        return t == null || policy.operatorFor(role, t).kind() == OperatorSpec.Kind.NONE ? null : t;
    }

    /** The lookups and joins by equality over masked PHI the statement makes ({@code lookup:TYPE}, {@code join:TYPE}). */
    public Map<String, String> lookups(StatementAnalysis a) {
        return io.phigate.policy.PredicateRule.lookups(a, catalog, this::maskedType,
                role == null ? Set.of() : role.lookup());
    }

    /** The upstream's catalog as this session resolves names by it. */
    public Catalog catalog() {
        return catalog;
    }

    /** True when the relation has a column tagged with a PHI type. */
    public boolean holdsPhi(TableRef t) {
        return phiTables.contains(t);
    }

    /** True when the statement reads or writes a table with PHI columns, or one of its outputs derives from PHI. */
    public boolean touchesPhi(StatementAnalysis a) {
        for (TableRef t : a.scanned()) {
            if (phiTables.contains(t)) {
                return true;
            }
        }
        for (TableRef t : a.writes()) {
            if (phiTables.contains(t)) {
                return true;
            }
        }
        for (OutputColumn out : a.outputs()) {
            for (ColumnRef c : out.sources()) {
                if (tags.containsKey(c)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * The PHI types a statement's result derives from. Fails closed: a statement that could not be parsed, or a
     * result column of unknown lineage in a statement touching PHI, counts as every type declared on the upstream.
     */
    public Set<PhiType> phiRead(StatementAnalysis a) {
        Set<PhiType> out = EnumSet.noneOf(PhiType.class);
        if (!a.parsed()) {
            out.addAll(tags.values());
            return out;
        }
        boolean touches = touchesPhi(a);
        for (OutputColumn col : a.outputs()) {
            if (col.opaque() && touches) {
                out.addAll(tags.values());
                return out;
            }
            for (ColumnRef c : col.sources()) {
                PhiType t = tags.get(c);
                if (t != null) {
                    out.add(t);
                }
            }
        }
        return out;
    }

    /** {@link #phiRead}, and the PHI types of every table the statement reads or writes. */
    public Set<PhiType> phiTouched(StatementAnalysis a) {
        Set<PhiType> out = phiRead(a);
        for (Map.Entry<ColumnRef, PhiType> e : tags.entrySet()) {
            TableRef t = new TableRef(e.getKey().schema(), e.getKey().table());
            if (a.scanned().contains(t) || a.writes().contains(t)) {
                out.add(e.getValue());
            }
        }
        return out;
    }

    /** Per bound parameter ($1 first), the column it is compared with or written to; null when unknown. */
    public List<ColumnRef> parameterColumns(StatementAnalysis a) {
        return io.phigate.sql.ParameterColumns.of(a, catalog);
    }

    /** Of {@link #phiRead}, the types this session's role sees unmasked (operator {@code none}). */
    public Set<PhiType> unmaskedRead(StatementAnalysis a) {
        Set<PhiType> out = phiRead(a);
        out.removeIf(t -> policy.operatorFor(role, t).kind() != OperatorSpec.Kind.NONE);
        return out;
    }

    /**
     * True when the statement writes a table with no PHI columns while reading a table with PHI: the written
     * copy would be read back unmasked.
     */
    public boolean copiesPhiOut(StatementAnalysis a) {
        for (StatementAnalysis.ColumnWrite w : a.columnWrites()) {
            PhiType into = tags.get(w.target());
            for (ColumnRef src : w.sources()) {
                PhiType from = tags.get(src);
                if (from != null && from != into) {
                    return true; // masked as something else, or not at all, from then on
                }
            }
        }
        boolean readsPhi = false;
        for (TableRef t : a.scanned()) {
            readsPhi |= phiTables.contains(t) && !a.writes().contains(t);
        }
        if (!readsPhi) {
            return false;
        }
        for (TableRef t : a.writes()) {
            if (!phiTables.contains(t)) {
                return true;
            }
        }
        return false;
    }

    /** The tagged columns with their PHI types, for the rules that name them ({@link PhiCopies}). */
    Map<ColumnRef, PhiType> tags() {
        return tags;
    }

    /** The upstream's name as the policy's {@code phi} section keys it. */
    String upstream() {
        return upstream;
    }

    /**
     * The plan for a result of {@code columns}. {@code analysis} is the statement that produced it (null when
     * unknown).
     */
    public MaskPlan plan(StatementAnalysis analysis, List<ResultColumn> columns) {
        int n = columns.size();
        List<OutputColumn> outputs = analysis == null ? List.of() : analysis.outputs();
        boolean aligned = analysis != null && analysis.parsed() && outputs.size() == n;
        boolean lineageUnknown = !aligned && (analysis == null || !analysis.parsed() || touchesPhi(analysis)
                || !analysis.opaqueFunctions().isEmpty());
        MaskOperator[] ops = new MaskOperator[n];
        boolean[] scrub = new boolean[n];
        ValueType[] types = new ValueType[n];
        StringBuilder summary = new StringBuilder();
        String[] nulled = new String[n];
        int subjectIndex = -1;
        boolean needsSubject = false;
        for (int i = 0; i < n; i++) {
            ResultColumn f = columns.get(i);
            types[i] = f.type();
            PhiType type = null;
            boolean opaque = lineageUnknown;
            boolean direct = true;
            boolean temporary = false;
            Set<ColumnRef> sources = Set.of();
            if (aligned) {
                OutputColumn out = outputs.get(i);
                boolean[] unknownTable = {false};
                sources = resolved(out.sources(), unknownTable);
                temporary = sources != out.sources();
                for (ColumnRef src : sources) {
                    type = PhiType.strongest(type, tags.get(src));
                }
                opaque = out.opaque() || unknownTable[0];
                // A temporary table's column holds what was written into it: an expression's value, as far as an
                // operator is concerned, unless nothing tagged went in.
                direct = out.direct() && (!temporary || sources.isEmpty());
                if (subjectIndex < 0 && out.direct() && isSubject(out.sources())) {
                    subjectIndex = i;
                }
            }
            // A system column (tableoid, ctid, xmin: attribute numbers below zero) holds no value of the row.
            if (f.tableOid() != 0 && f.columnNumber() > 0) {
                Optional<ColumnRef> col = catalog.column(f.tableOid(), f.columnNumber());
                if (col.isPresent()) {
                    type = PhiType.strongest(type, tags.get(col.get()));
                    if (subjectIndex < 0 && isSubject(Set.of(col.get()))) {
                        subjectIndex = i;
                    }
                } else if (masksPhi && !temporary) {
                    // A relation created after the catalog was read: its columns may be tagged by name. A column the
                    // analysis traced to the session's temporary table is masked by what was written into it.
                    opaque = true;
                }
            }
            OperatorSpec spec = null;
            PhiType as = type;
            if (opaque && masksPhi) {
                spec = OperatorSpec.REDACT;
                as = type == null ? PhiType.FREE_TEXT : type;
            } else if (type != null) {
                spec = policy.operatorFor(role, type);
                if (!direct && spec.kind() != OperatorSpec.Kind.NONE && spec.kind() != OperatorSpec.Kind.NULL) {
                    // An operator is applied to the column's own value only: over an expression it would keep what
                    // the expression moved into the kept part (reverse(zip) under zip3, day and month moved into the
                    // year under year, a token of substr(ssn, i, 1) compared with the token of a chosen constant).
                    spec = OperatorSpec.REDACT;
                }
            }
            if (spec != null && spec.kind() != OperatorSpec.Kind.NONE) {
                ops[i] = operator(spec, as);
                if (ops[i].nullsEvery(f.type().oid())) {
                    nulled[i] = SubstitutedNulls.reason(f.name(), opaque, sources, as, spec, tags,
                            role == null ? null : role.name(), upstream);
                }
                needsSubject |= spec.kind() == OperatorSpec.Kind.DATE_SHIFT;
                if (!summary.isEmpty()) {
                    summary.append(", ");
                }
                summary.append(f.name()).append('(').append(opaque ? "unknown lineage" : as.policyName()).append(")=")
                        .append(spec);
            } else if (spec != null) {
                // Delivered unmasked because the role sees this type: the completion record says so, which is
                // what the console's and the access report's "PHI delivered unmasked" count.
                if (!summary.isEmpty()) {
                    summary.append(", ");
                }
                summary.append(f.name()).append('(').append(as.policyName()).append(")=").append(spec);
            } else if (TEXT_TYPES.contains(f.type().oid())) {
                scrub[i] = scrubber != Scrubber.NONE;
            }
        }
        return new MaskPlan(ops, scrub, types, needsSubject ? subjectIndex : -1, summary.toString())
                .nulledBecause(nulled);
    }

    /**
     * A plan for COPY TO text or CSV rows. COPY describes no columns, so each field is typed as the catalog types
     * the column it copies (a plain column reference), and the operators then give exactly what a SELECT of the
     * same column gives in text format: a date masked to its year is still a date, and content detection leaves
     * a timestamptz alone. A field computed by an expression has no known type: it is taken as text, so it is
     * scanned and masked as text would be (more, never less, than a SELECT of it).
     */
    public MaskPlan planCopy(StatementAnalysis analysis) {
        if (masksPhi && (analysis == null || !analysis.parsed()
                || (analysis.outputs().isEmpty() && touchesPhi(analysis)))) {
            return MaskPlan.NULL_ALL;
        }
        io.phigate.sql.PgCatalog types = io.phigate.sql.PgCatalog.of(catalog);
        List<ResultColumn> columns = new ArrayList<>();
        int n = analysis == null ? 0 : analysis.outputs().size();
        for (int i = 0; i < n; i++) {
            OutputColumn out = analysis.outputs().get(i);
            int type = TEXT;
            if (types != null && out.direct() && !out.opaque() && out.sources().size() == 1) {
                type = types.columnType(out.sources().iterator().next()).orElse(TEXT);
            }
            columns.add(new ResultColumn(out.name(), 0, 0, new ValueType(type, -1, false)));
        }
        return plan(analysis, columns);
    }

    /** Reads PostgreSQL's message templates, which the first error of a masked session would otherwise wait for. */
    public static void loadMessageTemplates() {
        MessageScrubber.loadTemplates();
    }

    /** One field of a server's error or notice as this session's client may read it (see {@link MessageScrubber}). */
    public String scrubMessage(char field, String text, Set<String> known) {
        return messages.scrub(field, text, known);
    }

    private boolean isSubject(Set<ColumnRef> sources) {
        if (sources.size() != 1) {
            return false;
        }
        ColumnRef c = sources.iterator().next();
        String subject = phi.subjects().get(new TableRef(c.schema(), c.table()));
        return subject != null && subject.equals(c.column());
    }

    private MaskOperator operator(OperatorSpec spec, PhiType type) {
        return operators.computeIfAbsent(spec + "/" + type, k -> factory.create(spec, type));
    }
}
