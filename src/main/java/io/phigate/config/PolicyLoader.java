package io.phigate.config;

import io.phigate.mask.OperatorSpec;
import io.phigate.mask.PhiType;
import io.phigate.mask.SecretRef;
import io.phigate.policy.Match;
import io.phigate.policy.PhiCatalog;
import io.phigate.policy.Policy;
import io.phigate.policy.RiskRule;
import io.phigate.policy.Role;
import io.phigate.sql.ColumnRef;
import io.phigate.sql.Identifiers;
import io.phigate.sql.Operation;
import io.phigate.sql.TableRef;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Reads the policy file (PHI catalog, masking, roles) with the same strictness as the config: unknown keys,
 * unknown PHI types and operators are errors with their line, all reported at once. See docs/configuration.md,
 * "The policy file".
 */
public final class PolicyLoader {
    private static final List<String> ROOT_KEYS = List.of("phi", "masking", "roles", "approvers", "rules");
    private static final List<String> APPROVER_KEYS = List.of("match", "webhook");
    private static final List<String> RULE_KEYS = List.of("name", "when", "require_approval", "deny");
    private static final List<String> WHEN_KEYS = List.of("operations", "tables", "roles", "no_where", "phi", "during",
            "rows_over", "phi_without_limit", "unmasked_phi");
    private static final List<String> APPROVAL_KEYS = List.of("group", "approvers", "timeout", "mode", "valid_for",
            "uses");
    private static final List<String> PHI_KEYS = List.of("columns", "discover_comments", "subjects", "functions",
            "unparsed", "detection");
    private static final List<String> DETECTION_KEYS = List.of("enabled", "min_confidence", "detectors", "mrn_patterns");
    private static final List<String> MASKING_KEYS = List.of("key_env", "key_file", "defaults");
    private static final List<String> OPERATOR_KEYS = List.of("operator", "keep", "max_days");
    private static final List<String> ROLE_KEYS = List.of("name", "match", "upstreams", "allow", "unmasked", "masking",
            "justification", "row_limit", "windows", "group", "lookup");
    static final List<String> MATCH_KEYS = List.of("issuer", "subject", "claims");
    private static final List<String> ALLOW_KEYS = List.of("tables", "operations");
    private static final List<String> WINDOW_KEYS = List.of("days", "from", "to", "zone");
    static final List<String> DETECTOR_NAMES = List.of("ssn", "phone", "email", "card", "iban", "npi", "dea", "mbi",
            "ip", "ipv4", "ipv6", "url", "date", "zip", "mrn");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]*");

    private final Problems problems;
    private final Path baseDir;

    private PolicyLoader(Problems problems, Path baseDir) {
        this.problems = problems;
        this.baseDir = baseDir;
    }

    public static Policy load(Path file) throws ConfigException {
        String yaml;
        try {
            yaml = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read the policy file: "
                    + (e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getMessage()), e);
        }
        return parse(yaml, file.toAbsolutePath().normalize().getParent(), file.toString());
    }

    public static Policy parse(String yaml, Path baseDir, String sourceName) throws ConfigException {
        Problems problems = new Problems(sourceName);
        YamlNode root = YamlReader.read(yaml, problems);
        Policy policy = null;
        if (root instanceof YamlNode.Scalar s && s.kind() == YamlNode.Scalar.Kind.NULL) {
            policy = Policy.NONE;
        } else if (root != null) {
            policy = new PolicyLoader(problems, baseDir.toAbsolutePath().normalize()).policy(root);
        }
        problems.throwIfAny();
        return policy;
    }

    private Policy policy(YamlNode root) {
        Section s = Section.open(root, "", 1, problems, baseDir, ROOT_KEYS);
        if (s == null) {
            return null;
        }
        Map<String, PhiCatalog> phi = new LinkedHashMap<>();
        Section phiSection = s.section("phi", false, null);
        if (phiSection != null) {
            for (String upstream : phiSection.keys()) {
                Section u = phiSection.section(upstream, true, PHI_KEYS);
                if (u != null) {
                    phi.put(upstream, catalog(u));
                }
            }
        }
        Policy.Masking masking = masking(s.section("masking", false, MASKING_KEYS));
        List<Role> roles = roles(s);
        Map<String, Policy.ApproverGroup> approvers = new LinkedHashMap<>();
        Section a = s.section("approvers", false, null);
        if (a != null) {
            for (String group : a.keys()) {
                Section g = a.section(group, true, APPROVER_KEYS);
                Match match = g == null ? null : match(g.section("match", true, MATCH_KEYS));
                if (match != null) {
                    if (match.issuer() == null) {
                        g.problem("match", "an approver group must name the issuer of its members' tokens");
                    }
                    java.net.URI webhook = g.scalar("webhook", false, null, "an http(s) URL", PolicyLoader::webhook);
                    approvers.put(group, new Policy.ApproverGroup(match, webhook));
                }
            }
        }
        List<RiskRule> rules = rules(s, approvers, roles);
        return new Policy(Collections.unmodifiableMap(phi), masking, roles, Collections.unmodifiableMap(approvers),
                rules);
    }

    private PhiCatalog catalog(Section s) {
        Map<ColumnRef, PhiType> columns = new LinkedHashMap<>();
        Section c = s.section("columns", false, null);
        if (c != null) {
            for (String key : c.keys()) {
                ColumnRef column = columnRef(c, key);
                PhiType type = c.scalar(key, true, null, "a PHI type", PolicyLoader::phiType);
                if (column != null && type != null) {
                    columns.put(column, type);
                }
            }
        }
        Boolean discover = s.bool("discover_comments", false);
        Map<TableRef, String> subjects = new LinkedHashMap<>();
        Section subj = s.section("subjects", false, null);
        if (subj != null) {
            for (String key : subj.keys()) {
                String[] parts = key.split("\\.", -1);
                String col = subj.string(key, true, null);
                if (parts.length != 2 || !IDENTIFIER.matcher(parts[0]).matches() || !IDENTIFIER.matcher(parts[1]).matches()) {
                    subj.problem(key, "expected schema.table as the key, got \"" + key + "\"");
                } else if (col != null) {
                    subjects.put(new TableRef(fold(parts[0]), fold(parts[1])), fold(col));
                }
            }
        }
        List<String> functions = s.strings("functions", false);
        PhiCatalog.OnUnparsed unparsed = s.scalar("unparsed", false, PhiCatalog.OnUnparsed.REFUSE, "refuse or allow",
                text -> ConfigLoader.enumValue(PhiCatalog.OnUnparsed.class, text));
        PhiCatalog.ContentDetection detection = detection(s.section("detection", false, DETECTION_KEYS));
        Set<String> fnSet = new LinkedHashSet<>();
        if (functions != null) {
            for (String f : functions) {
                fnSet.add(f.toLowerCase(Locale.ROOT));
            }
        }
        return new PhiCatalog(Collections.unmodifiableMap(columns), Boolean.TRUE.equals(discover),
                Collections.unmodifiableMap(subjects), Collections.unmodifiableSet(fnSet),
                unparsed == null ? PhiCatalog.OnUnparsed.REFUSE : unparsed,
                detection == null ? PhiCatalog.ContentDetection.DEFAULT : detection);
    }

    private ColumnRef columnRef(Section c, String key) {
        String[] parts = key.split("\\.", -1);
        if (parts.length != 3) {
            c.problem(key, "expected schema.table.column, got \"" + key + "\"");
            return null;
        }
        for (String p : parts) {
            if (!IDENTIFIER.matcher(p).matches()) {
                c.problem(key, "expected schema.table.column of plain identifiers, got \"" + key + "\"");
                return null;
            }
        }
        return new ColumnRef(fold(parts[0]), fold(parts[1]), fold(parts[2]));
    }

    private PhiCatalog.ContentDetection detection(Section s) {
        if (s == null) {
            return null;
        }
        Boolean enabled = s.bool("enabled", true);
        Double min = s.scalar("min_confidence", false, 0.5, "a number between 0 and 1", PolicyLoader::confidence);
        Map<String, Double> per = new LinkedHashMap<>();
        Section d = s.section("detectors", false, null);
        if (d != null) {
            for (String name : d.keys()) {
                if (!DETECTOR_NAMES.contains(name.toLowerCase(Locale.ROOT))) {
                    String hint = Suggest.nearest(name, DETECTOR_NAMES);
                    d.problem(name, "unknown detector" + (hint == null ? " (known: " + String.join(", ", DETECTOR_NAMES) + ")"
                            : "; did you mean \"" + hint + "\"?"));
                    continue;
                }
                Double v = d.scalar(name, true, null, "a number between 0 and 1", PolicyLoader::confidence);
                if (v != null) {
                    per.put(name.toLowerCase(Locale.ROOT), v);
                }
            }
        }
        List<String> mrn = s.strings("mrn_patterns", false);
        if (mrn != null) {
            for (String p : mrn) {
                try {
                    Pattern.compile(p);
                } catch (PatternSyntaxException e) {
                    s.problem("mrn_patterns", "not a valid regular expression: " + e.getDescription());
                }
            }
        }
        return new PhiCatalog.ContentDetection(!Boolean.FALSE.equals(enabled), min == null ? 0.5 : min,
                Collections.unmodifiableMap(per), mrn == null ? List.of() : mrn);
    }

    private Policy.Masking masking(Section s) {
        if (s == null) {
            return new Policy.Masking(null, Map.of());
        }
        SecretRef key = null;
        String env = s.scalar("key_env", false, null, "an environment variable name", text -> {
            if (!ENV_NAME.matcher(text.strip()).matches()) {
                throw new IllegalArgumentException("expected an environment variable name, got \"" + text + "\"");
            }
            return text.strip();
        });
        Path file = s.path("key_file", false);
        if (env != null && file != null) {
            s.problem("key_file", "set only one of key_env or key_file");
        } else if (env != null || file != null) {
            key = new SecretRef(env, file);
        }
        return new Policy.Masking(key, operators(s.section("defaults", false, null)));
    }

    private Map<PhiType, OperatorSpec> operators(Section s) {
        Map<PhiType, OperatorSpec> map = new EnumMap<>(PhiType.class);
        if (s == null) {
            return Map.of();
        }
        for (String key : s.keys()) {
            PhiType type;
            try {
                type = phiType(key);
            } catch (IllegalArgumentException e) {
                s.problem(key, e.getMessage());
                continue;
            }
            OperatorSpec op = operator(s, key);
            if (op != null) {
                map.put(type, op);
            }
        }
        return Collections.unmodifiableMap(map);
    }

    /** {@code redact}, or {@code {operator: partial, keep: 4}}. */
    private OperatorSpec operator(Section s, String key) {
        YamlNode node = s.node(key);
        if (node instanceof YamlNode.Mapping) {
            Section o = s.section(key, true, OPERATOR_KEYS);
            OperatorSpec.Kind kind = o.scalar("operator", true, null, "a masking operator", PolicyLoader::operatorKind);
            if (kind == null) {
                return null;
            }
            OperatorSpec base = OperatorSpec.of(kind);
            Integer keep = o.integer("keep", base.keep(), 0, 64);
            Integer maxDays = o.integer("max_days", base.maxShiftDays(), 1, 36_500);
            if (o.has("keep") && kind != OperatorSpec.Kind.PARTIAL) {
                o.problem("keep", "only the partial operator takes keep");
            }
            if (o.has("max_days") && kind != OperatorSpec.Kind.DATE_SHIFT) {
                o.problem("max_days", "only the date_shift operator takes max_days");
            }
            return new OperatorSpec(kind, keep == null ? base.keep() : keep, maxDays == null ? base.maxShiftDays() : maxDays);
        }
        OperatorSpec.Kind kind = s.scalar(key, true, null, "a masking operator", PolicyLoader::operatorKind);
        return kind == null ? null : OperatorSpec.of(kind);
    }

    private List<Role> roles(Section root) {
        YamlNode node = root.node("roles");
        if (node == null) {
            return List.of();
        }
        if (!(node instanceof YamlNode.Sequence seq)) {
            root.problem("roles", "expected a list of roles, got " + YamlNode.describe(node));
            return List.of();
        }
        List<Role> roles = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (int i = 0; i < seq.items().size(); i++) {
            YamlNode item = seq.items().get(i);
            Section r = Section.open(item, "roles[" + i + "]", item.line(), problems, baseDir, ROLE_KEYS);
            if (r == null) {
                continue;
            }
            String name = r.string("name", true, null);
            if (name != null && !names.add(name)) {
                r.problem("name", "a role named \"" + name + "\" is already defined");
            }
            Match match = match(r.section("match", true, MATCH_KEYS));
            List<String> upstreams = r.strings("upstreams", true);
            List<Role.Allow> allow = allows(r);
            Set<PhiType> unmasked = phiTypes(r, "unmasked");
            Set<PhiType> lookup = phiTypes(r, "lookup");
            Map<PhiType, OperatorSpec> masking = operators(r.section("masking", false, null));
            Role.Justification justification = r.scalar("justification", false, Role.Justification.OPTIONAL,
                    "required or optional", text -> ConfigLoader.enumValue(Role.Justification.class, text));
            Integer rowLimit = r.integer("row_limit", 0, 0, Integer.MAX_VALUE);
            List<Role.TimeWindow> windows = windows(r);
            String group = r.string("group", false, null);
            if (group != null && !ConfigLoader.ROLE_NAME.matcher(group).matches()) {
                r.problem("group", "expected a database role name of letters, digits, _ and $ (at most 63), got \""
                        + group + "\"");
            }
            if (name != null && match != null && upstreams != null) {
                roles.add(new Role(name, match, upstreams, allow, unmasked, masking,
                        justification == null ? Role.Justification.OPTIONAL : justification,
                        rowLimit == null ? 0 : rowLimit, windows, group, lookup));
            }
        }
        return List.copyOf(roles);
    }

    /** A list of PHI types under {@code key}, each unknown one reported on its line; empty when absent. */
    private Set<PhiType> phiTypes(Section r, String key) {
        Set<PhiType> types = EnumSet.noneOf(PhiType.class);
        List<String> names = r.strings(key, false);
        if (names != null) {
            for (String t : names) {
                try {
                    types.add(phiType(t));
                } catch (IllegalArgumentException e) {
                    r.problem(key, e.getMessage());
                }
            }
        }
        return Collections.unmodifiableSet(types);
    }

    private static java.net.URI webhook(String text) {
        try {
            java.net.URI u = new java.net.URI(text.strip());
            if (("http".equals(u.getScheme()) || "https".equals(u.getScheme())) && u.getHost() != null) {
                return u;
            }
        } catch (java.net.URISyntaxException e) {
            // reported below
        }
        throw new IllegalArgumentException("expected an http(s) URL, got " + YamlNode.quote(text));
    }

    private List<RiskRule> rules(Section root, Map<String, Policy.ApproverGroup> approvers, List<Role> roles) {
        YamlNode node = root.node("rules");
        if (node == null) {
            return List.of();
        }
        if (!(node instanceof YamlNode.Sequence seq)) {
            root.problem("rules", "expected a list of rules, got " + YamlNode.describe(node));
            return List.of();
        }
        List<RiskRule> rules = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (int i = 0; i < seq.items().size(); i++) {
            YamlNode item = seq.items().get(i);
            Section r = Section.open(item, "rules[" + i + "]", item.line(), problems, baseDir, RULE_KEYS);
            if (r == null) {
                continue;
            }
            String name = r.string("name", true, null);
            if (name != null && !names.add(name)) {
                r.problem("name", "a rule named \"" + name + "\" is already defined");
            }
            RiskRule.When when = when(r.section("when", true, WHEN_KEYS), roles);
            String deny = r.string("deny", false, null);
            RiskRule.Approval approval = approval(r.section("require_approval", false, APPROVAL_KEYS), approvers);
            boolean hasApproval = r.has("require_approval");
            if (deny == null && !hasApproval && !r.has("deny")) {
                r.problem("name", "a rule needs either require_approval or deny");
            } else if (deny != null && hasApproval) {
                r.problem("deny", "a rule has either require_approval or deny, not both");
            }
            if (name != null && when != null && (deny != null) != (approval != null)) {
                rules.add(new RiskRule(name, when, approval, deny));
            }
        }
        return List.copyOf(rules);
    }

    private RiskRule.When when(Section w, List<Role> roles) {
        if (w == null) {
            return null;
        }
        Set<Operation> operations = EnumSet.noneOf(Operation.class);
        List<String> ops = w.strings("operations", false);
        if (ops != null) {
            for (String op : ops) {
                try {
                    operations.add(operation(op));
                } catch (IllegalArgumentException e) {
                    w.problem("operations", e.getMessage());
                }
            }
        }
        List<String> tables = new ArrayList<>();
        List<String> t = w.strings("tables", false);
        if (t != null) {
            for (String table : t) {
                tables.add(Identifiers.cutEach(table.contains(".") ? table.toLowerCase(Locale.ROOT)
                        : "*." + table.toLowerCase(Locale.ROOT)));
            }
        }
        List<String> roleNames = w.strings("roles", false);
        if (roleNames != null) {
            Set<String> known = new LinkedHashSet<>();
            roles.forEach(role -> known.add(role.name()));
            for (String role : roleNames) {
                if (!known.contains(role)) {
                    String hint = Suggest.nearest(role, new ArrayList<>(known));
                    w.problem("roles", "no role named \"" + role + "\" is defined"
                            + (hint == null ? "" : "; did you mean \"" + hint + "\"?"));
                }
            }
        }
        Boolean noWhere = w.bool("no_where", false);
        Boolean phi = w.bool("phi", false);
        List<Role.TimeWindow> during = windows(w, "during");
        if (noWhere != null && noWhere && !operations.isEmpty()
                && !operations.contains(Operation.DELETE) && !operations.contains(Operation.UPDATE)) {
            w.problem("no_where", "no_where applies to delete and update; add one of them to operations");
        }
        Integer rowsOver = w.has("rows_over") ? w.integer("rows_over", -1, 0, Integer.MAX_VALUE) : Integer.valueOf(-1);
        Boolean phiWithoutLimit = w.bool("phi_without_limit", false);
        return new RiskRule.When(Collections.unmodifiableSet(operations), List.copyOf(tables),
                roleNames == null ? List.of() : List.copyOf(roleNames), noWhere != null && noWhere,
                phi != null && phi, during, rowsOver == null ? -1 : rowsOver,
                phiWithoutLimit != null && phiWithoutLimit, unmaskedPhi(w));
    }

    /** {@code unmasked_phi: true} (any type) or a list of PHI types; null when absent or false. */
    private static Set<PhiType> unmaskedPhi(Section w) {
        YamlNode node = w.node("unmasked_phi");
        if (node == null) {
            return null;
        }
        if (node instanceof YamlNode.Scalar s && s.kind() == YamlNode.Scalar.Kind.BOOLEAN) {
            return Boolean.TRUE.equals(w.bool("unmasked_phi", false))
                    ? Collections.unmodifiableSet(EnumSet.allOf(PhiType.class)) : null;
        }
        List<String> names = w.strings("unmasked_phi", false);
        if (names == null) {
            return null;
        }
        Set<PhiType> types = EnumSet.noneOf(PhiType.class);
        for (String name : names) {
            try {
                types.add(phiType(name));
            } catch (IllegalArgumentException e) {
                w.problem("unmasked_phi", e.getMessage());
            }
        }
        return Collections.unmodifiableSet(types);
    }

    private RiskRule.Approval approval(Section a, Map<String, Policy.ApproverGroup> approvers) {
        if (a == null) {
            return null;
        }
        String group = a.string("group", true, null);
        if (group != null && !approvers.containsKey(group)) {
            String hint = Suggest.nearest(group, new ArrayList<>(approvers.keySet()));
            a.problem("group", "no approver group \"" + group + "\" is defined under approvers"
                    + (hint == null ? "" : "; did you mean \"" + hint + "\"?"));
        }
        Integer count = a.integer("approvers", 1, 1, 10);
        java.time.Duration timeout = a.duration("timeout", java.time.Duration.ofMinutes(10), true);
        RiskRule.Mode mode = a.scalar("mode", false, RiskRule.Mode.HOLD, "hold or ticket",
                text -> ConfigLoader.enumValue(RiskRule.Mode.class, text));
        java.time.Duration validFor = a.duration("valid_for", java.time.Duration.ofHours(1), true);
        Integer uses = a.integer("uses", 1, 1, 1000);
        if (group == null || count == null || timeout == null || mode == null || validFor == null || uses == null) {
            return null;
        }
        return new RiskRule.Approval(group, count, timeout, mode, validFor, uses);
    }

    static Match match(Section s) {
        if (s == null) {
            return null;
        }
        String issuer = s.string("issuer", false, null);
        String subject = s.string("subject", false, null);
        Map<String, String> claims = new LinkedHashMap<>();
        Section c = s.section("claims", false, null);
        if (c != null) {
            for (String k : c.keys()) {
                String v = c.string(k, true, null);
                if (v != null) {
                    claims.put(k, v);
                }
            }
        }
        return new Match(issuer, subject, Collections.unmodifiableMap(claims));
    }

    private List<Role.Allow> allows(Section r) {
        YamlNode node = r.node("allow");
        if (node == null) {
            return List.of();
        }
        if (!(node instanceof YamlNode.Sequence seq)) {
            r.problem("allow", "expected a list of {tables, operations}, got " + YamlNode.describe(node));
            return List.of();
        }
        List<Role.Allow> out = new ArrayList<>();
        for (int i = 0; i < seq.items().size(); i++) {
            YamlNode item = seq.items().get(i);
            Section a = Section.open(item, r.pathOf("allow") + "[" + i + "]", item.line(), problems, baseDir, ALLOW_KEYS);
            if (a == null) {
                continue;
            }
            List<String> tables = a.strings("tables", true);
            List<String> ops = a.strings("operations", true);
            Set<Operation> operations = EnumSet.noneOf(Operation.class);
            if (ops != null) {
                for (String op : ops) {
                    try {
                        operations.add(operation(op));
                    } catch (IllegalArgumentException e) {
                        a.problem("operations", e.getMessage());
                    }
                }
            }
            if (tables != null) {
                List<String> folded = new ArrayList<>();
                for (String t : tables) {
                    folded.add(Identifiers.cutEach(t.contains(".") ? t.toLowerCase(Locale.ROOT)
                            : "*." + t.toLowerCase(Locale.ROOT)));
                }
                out.add(new Role.Allow(List.copyOf(folded), Collections.unmodifiableSet(operations)));
            }
        }
        return List.copyOf(out);
    }

    private List<Role.TimeWindow> windows(Section r) {
        return windows(r, "windows");
    }

    private List<Role.TimeWindow> windows(Section r, String key) {
        YamlNode node = r.node(key);
        if (node == null) {
            return List.of();
        }
        if (!(node instanceof YamlNode.Sequence seq)) {
            r.problem(key, "expected a list of {days, from, to, zone}, got " + YamlNode.describe(node));
            return List.of();
        }
        List<Role.TimeWindow> out = new ArrayList<>();
        for (int i = 0; i < seq.items().size(); i++) {
            YamlNode item = seq.items().get(i);
            Section w = Section.open(item, r.pathOf(key) + "[" + i + "]", item.line(), problems, baseDir, WINDOW_KEYS);
            if (w == null) {
                continue;
            }
            Set<DayOfWeek> days = EnumSet.noneOf(DayOfWeek.class);
            List<String> d = w.strings("days", false);
            if (d == null) {
                days.addAll(Arrays.asList(DayOfWeek.values()));
            } else {
                for (String day : d) {
                    try {
                        days.addAll(days(day));
                    } catch (IllegalArgumentException e) {
                        w.problem("days", e.getMessage());
                    }
                }
            }
            LocalTime from = w.scalar("from", true, null, "a time HH:MM", PolicyLoader::time);
            LocalTime to = w.scalar("to", true, null, "a time HH:MM", PolicyLoader::time);
            ZoneId zone = w.scalar("zone", false, ZoneId.of("UTC"), "a time zone id", text -> {
                try {
                    return ZoneId.of(text.strip());
                } catch (java.time.DateTimeException e) {
                    throw new IllegalArgumentException("not a time zone: \"" + text + "\" (use e.g. Europe/Berlin or UTC)");
                }
            });
            if (from != null && to != null && zone != null) {
                out.add(new Role.TimeWindow(Collections.unmodifiableSet(days), from, to, zone));
            }
        }
        return List.copyOf(out);
    }

    private static Set<DayOfWeek> days(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        return switch (t) {
            case "weekdays" -> EnumSet.range(DayOfWeek.MONDAY, DayOfWeek.FRIDAY);
            case "weekends" -> EnumSet.of(DayOfWeek.SATURDAY, DayOfWeek.SUNDAY);
            case "mon" -> EnumSet.of(DayOfWeek.MONDAY);
            case "tue" -> EnumSet.of(DayOfWeek.TUESDAY);
            case "wed" -> EnumSet.of(DayOfWeek.WEDNESDAY);
            case "thu" -> EnumSet.of(DayOfWeek.THURSDAY);
            case "fri" -> EnumSet.of(DayOfWeek.FRIDAY);
            case "sat" -> EnumSet.of(DayOfWeek.SATURDAY);
            case "sun" -> EnumSet.of(DayOfWeek.SUNDAY);
            default -> throw new IllegalArgumentException("expected mon..sun, weekdays or weekends, got \"" + text + "\"");
        };
    }

    private static LocalTime time(String text) {
        try {
            return LocalTime.parse(text.strip());
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException("expected a time HH:MM, got \"" + text + "\"");
        }
    }

    private static Double confidence(String text) {
        try {
            double v = Double.parseDouble(text.strip());
            if (v < 0 || v > 1) {
                throw new IllegalArgumentException("must be between 0 and 1, got " + text.strip());
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected a number between 0 and 1, got \"" + text + "\"");
        }
    }

    static PhiType phiType(String text) {
        return byPolicyName("PHI type", text, PhiType.values(), PhiType::policyName);
    }

    static OperatorSpec.Kind operatorKind(String text) {
        return byPolicyName("masking operator", text, OperatorSpec.Kind.values(), OperatorSpec.Kind::policyName);
    }

    static Operation operation(String text) {
        return byPolicyName("operation", text, Operation.values(), Operation::policyName);
    }

    /** The constant spelled {@code text} in the policy, or an error naming the nearest spelling (or all of them). */
    private static <T> T byPolicyName(String what, String text, T[] constants,
                                      java.util.function.Function<T, String> policyName) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        List<String> names = new ArrayList<>();
        for (T c : constants) {
            if (policyName.apply(c).equals(t)) {
                return c;
            }
            names.add(policyName.apply(c));
        }
        String hint = Suggest.nearest(t, names);
        throw new IllegalArgumentException("unknown " + what + " \"" + text.strip() + "\""
                + (hint == null ? " (known: " + String.join(", ", names) + ")" : "; did you mean \"" + hint + "\"?"));
    }

    /**
     * PostgreSQL folds unquoted identifiers to lower case, and cuts a long one to 63 bytes (decision 0065); policy
     * names are written unquoted.
     */
    private static String fold(String identifier) {
        return Identifiers.cut(identifier.strip().toLowerCase(Locale.ROOT));
    }
}
