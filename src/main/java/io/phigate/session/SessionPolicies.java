package io.phigate.session;

import io.phigate.policy.ColumnTags;
import io.phigate.mask.MaskingKeys;
import io.phigate.mask.OperatorFactory;
import io.phigate.mask.Operators;
import io.phigate.mask.PhiType;
import io.phigate.mask.Scrubber;
import io.phigate.session.SessionMasking;
import io.phigate.mask.detect.Detector;
import io.phigate.mask.detect.DetectorSettings;
import io.phigate.mask.detect.Detectors;
import io.phigate.policy.PhiCatalog;
import io.phigate.policy.Policy;
import io.phigate.policy.Role;
import io.phigate.sql.Catalog;
import io.phigate.sql.ColumnRef;
import io.phigate.sql.SqlAnalyzer;
import io.phigate.sql.StatementAnalysis;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds what each session needs to enforce the policy: its masking rules, its statement analyser and its rules.
 * A session on an upstream the policy says nothing about gets none of them, and its statements and results pass
 * exactly as without a policy.
 */
public final class SessionPolicies {

    /**
     * What one session enforces; all null when nothing. {@code catalogChanged}: the session found the upstream's
     * catalog changed under it (decision 0075), so the shared one is read afresh for the next session.
     * {@code freshness}: the upstream's shared fingerprint reading its sessions compare with between transactions
     * (decision 0075, "Shared freshness"); null where the cache reads none, and the session asks in-band.
     */
    public record Setup(SessionMasking masking, Function<String, List<StatementAnalysis>> analyzer,
                        StatementRules rules, Runnable catalogChanged,
                        io.phigate.sql.CatalogCache.Freshness freshness) {
        static final Setup NONE = new Setup(null, null, null);

        public Setup(SessionMasking masking, Function<String, List<StatementAnalysis>> analyzer, StatementRules rules) {
            this(masking, analyzer, rules, () -> { }, null);
        }
    }

    /** The upstream's shared analyser (its catalog read, cached); loading may reach the database. */
    public interface AnalyzerSource {
        SqlAnalyzer analyzer() throws IOException;
    }

    /** Wraps an analyser so that DDL it sees makes the upstream's catalog reload for the next session. */
    private Function<String, List<StatementAnalysis>> invalidatingOnDdl(SqlAnalyzer analyzer,
                                                                        io.phigate.sql.SessionTables tables,
                                                                        String upstream) {
        return sql -> {
            // While the session has temporary tables, names resolve through them (decision 0050).
            SqlAnalyzer by = tables == null || tables.isEmpty() ? analyzer : tables.analyzer();
            List<StatementAnalysis> out = by.analyze(sql);
            for (StatementAnalysis a : out) {
                if (a.operations().contains(io.phigate.sql.Operation.DDL)) {
                    invalidateCatalog.accept(upstream);
                    break;
                }
            }
            return out;
        };
    }

    /** The catalog could not be read, so statements cannot be analysed: the session is refused. */
    public static final class CatalogUnavailable extends IOException {
        CatalogUnavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static final Logger log = LoggerFactory.getLogger(SessionPolicies.class);

    private final Policy policy;
    /** Tells the catalog cache that DDL ran on an upstream, so its next session reads the catalog afresh. */
    private final Consumer<String> invalidateCatalog;
    /** Each upstream's shared catalog freshness (decision 0075); null for none. */
    private final Function<String, io.phigate.sql.CatalogCache.Freshness> freshness;
    private final OperatorFactory operators;
    private final Function<PhiCatalog.ContentDetection, Scrubber> scrubbers;
    private final BiFunction<Role, List<StatementAnalysis>, Refusal> scope;
    private final Map<String, Scrubber> scrubberByUpstream = new ConcurrentHashMap<>();
    /** Each upstream's tags, resolved against the catalog read they belong to (once per read). */
    private final Map<String, ResolvedTags> tagsByUpstream = new ConcurrentHashMap<>();

    private record ResolvedTags(Catalog catalog, ColumnTags tags) {
    }

    public SessionPolicies(Policy policy, Consumer<String> invalidateCatalog, MaskingKeys keys,
                    Function<PhiCatalog.ContentDetection, Scrubber> scrubbers,
                    BiFunction<Role, List<StatementAnalysis>, Refusal> scope) {
        this(policy, invalidateCatalog, upstream -> null, keys, scrubbers, scope);
    }

    public SessionPolicies(Policy policy, Consumer<String> invalidateCatalog,
                    Function<String, io.phigate.sql.CatalogCache.Freshness> freshness, MaskingKeys keys,
                    Function<PhiCatalog.ContentDetection, Scrubber> scrubbers,
                    BiFunction<Role, List<StatementAnalysis>, Refusal> scope) {
        this.freshness = freshness;
        this.policy = policy;
        this.invalidateCatalog = invalidateCatalog;
        this.operators = keys == null ? SessionPolicies::keylessOperator : (spec, type) -> Operators.create(spec, type, keys);
        this.scrubbers = scrubbers;
        this.scope = scope;
    }

    public Policy policy() {
        return policy;
    }

    /** {@code estimator}: the planner's row estimate as the session's user, for rules with rows_over. */
    public Setup forSession(String upstream, AnalyzerSource analyzers, Role role,
                            java.util.function.ToLongFunction<StatementAnalysis> estimator) throws CatalogUnavailable {
        PhiCatalog phi = policy.phi().get(upstream);
        boolean scoped = scoped(role);
        boolean ruled = ruled(role);
        if (!analyses(upstream, role)) {
            return Setup.NONE;
        }
        // The gateway's cache loads catalogs already wrapped in a GuardedCatalog, so its analyser (and statement cache) is the one
        // every session on the upstream shares.
        if (!io.phigate.sql.PgGrammar.available()) {
            // Without the server's grammar there is no reading to trust: the session is refused, never half-analysed.
            throw new CatalogUnavailable("phigate cannot analyse this session's statements: PostgreSQL's grammar"
                    + " (libpg_query) is not available: " + io.phigate.sql.PgGrammar.unavailableReason(), null);
        }
        SqlAnalyzer analyzer;
        try {
            analyzer = analyzers.analyzer();
        } catch (IOException | RuntimeException e) {
            throw new CatalogUnavailable("phigate cannot read the catalog of upstream \"" + upstream
                    + "\", so it cannot analyse this session's statements: " + e.getMessage(), e);
        }
        Catalog guarded = analyzer.catalog();
        SessionMasking masking = null;
        io.phigate.sql.SessionTables tables = null;
        if (phi != null) {
            Scrubber scrubber = scrubberByUpstream.computeIfAbsent(upstream, n -> scrubbers.apply(phi.detection()));
            tables = new io.phigate.sql.SessionTables(guarded);
            masking = new SessionMasking(policy, role, upstream, guarded, tags(upstream, phi, guarded),
                    operators, scrubber, tables);
        }
        StatementRules rules = new StatementRules(masking, upstream, role, scoped ? scope : null,
                ruled ? policy.rules() : List.of(), java.time.Clock.systemUTC(), estimator, guarded);
        return new Setup(masking, invalidatingOnDdl(analyzer, tables, upstream), rules,
                () -> invalidateCatalog.accept(upstream), freshness.apply(upstream));
    }

    /** The role's table and operation scope ({@code allow} rules), as the statement rules ask for it. */
    public static Refusal scope(Role role, List<StatementAnalysis> statements) {
        io.phigate.policy.ScopeCheck.Verdict v = io.phigate.policy.ScopeCheck.check(role, statements);
        return v.allowed() ? null : new Refusal(v.sqlState(), v.message());
    }

    /**
     * True when a session of {@code role} on {@code upstream} has its statements analysed: the upstream has PHI
     * tags, the role has a scope, or a risk rule could apply to it. Decided before the upstream session opens, since
     * an analysed session starts with settings of its own (client_encoding UTF8, the startup allowlist).
     */
    public boolean analyses(String upstream, Role role) {
        return policy.phi().get(upstream) != null || scoped(role) || ruled(role);
    }

    private static boolean scoped(Role role) {
        return role != null && (!role.allow().isEmpty() || role.justification() == Role.Justification.REQUIRED
                || !role.windows().isEmpty());
    }

    /** Risk rules judge the parsed statement, so a session any rule could apply to is analysed too. */
    private boolean ruled(Role role) {
        return policy.rules().stream().anyMatch(r -> r.when().roles().isEmpty()
                || role != null && r.when().roles().contains(role.name()));
    }

    /**
     * The upstream's tags for {@code catalog}, resolved on the first session after each catalog read. A tag that
     * names no column masks nothing; most often it is a typo or a renamed column, and the column it meant goes out
     * as stored: said once per catalog read, with names only (no values).
     */
    private ColumnTags tags(String upstream, PhiCatalog phi, Catalog catalog) {
        return tagsByUpstream.compute(upstream, (name, held) -> {
            if (held != null && held.catalog() == catalog) {
                return held;
            }
            ColumnTags tags = ColumnTags.resolve(phi, catalog);
            if (!tags.unmatched().isEmpty()) {
                log.warn("policy phi.{}.columns tags {} column(s) upstream {} does not have, which mask nothing: {}",
                        name, tags.unmatched().size(), name,
                        String.join(", ", tags.unmatched().stream().map(ColumnRef::toString).toList()));
            }
            List<String> keys = tags.keysMaskedManyToOne(policy, catalog);
            if (!keys.isEmpty()) {
                log.warn("policy phi.{}.columns masks key columns with an operator that gives one value for many"
                        + " inputs, so a copy made through a masked session (pg_dump) cannot restore with its keys;"
                        + " tag keys with token or fpe (decision 0049): {}", name, String.join(", ", keys));
            }
            return new ResolvedTags(catalog, tags);
        }).tags();
    }

    /** The content detectors an upstream's policy asks for, as the masker's scrubber. */
    public static Scrubber detectors(PhiCatalog.ContentDetection d) {
        if (!d.enabled()) {
            return Scrubber.NONE;
        }
        java.util.Set<Detector> enabled = java.util.EnumSet.allOf(Detector.class);
        Map<Detector, Double> thresholds = new java.util.EnumMap<>(Detector.class);
        for (Map.Entry<String, Double> e : d.perDetector().entrySet()) {
            for (Detector detector : detectorsNamed(e.getKey())) {
                if (e.getValue() == 0) {
                    enabled.remove(detector);
                } else {
                    thresholds.put(detector, e.getValue());
                }
            }
        }
        List<java.util.regex.Pattern> mrn = d.mrnPatterns().stream().map(java.util.regex.Pattern::compile).toList();
        Detectors detectors = Detectors.create(new DetectorSettings(enabled, d.minConfidence(), thresholds, mrn));
        return new Scrubber() {
            @Override
            public String scrub(String text) {
                return detectors.scrub(text);
            }

            @Override
            public byte[] scrubUtf8(byte[] text) {
                return detectors.scrubUtf8(text);
            }
        };
    }

    private static List<Detector> detectorsNamed(String name) {
        return name.equals("ip") ? List.of(Detector.IPV4, Detector.IPV6)
                : List.of(Detector.valueOf(name.toUpperCase(java.util.Locale.ROOT)));
    }

    /** Without a masking key, keyed operators cannot run: they redact instead, which is never less masked. */
    private static io.phigate.mask.MaskOperator keylessOperator(io.phigate.mask.OperatorSpec spec, PhiType type) {
        return switch (spec.kind()) {
            case TOKEN, FPE, DATE_SHIFT -> Operators.create(io.phigate.mask.OperatorSpec.REDACT, type, null);
            default -> Operators.create(spec, type, null);
        };
    }
}
