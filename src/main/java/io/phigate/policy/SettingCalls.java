package io.phigate.policy;

import com.fasterxml.jackson.databind.JsonNode;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementFacts.FunctionCall;
import io.phigate.sql.StatementKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The settings a statement changes that decide who runs it or how its names resolve, however it changes them:
 * {@code SET} and {@code SET LOCAL}, or {@code set_config} (which a SELECT calls anywhere in its tree, in any
 * clause), and the defaults {@code ALTER ROLE/DATABASE ... SET} gives later sessions. Read from the server's parse
 * tree. Pure.
 */
final class SettingCalls {
    /** Settings that choose the database role the session runs as. */
    static final List<String> ROLE_SWITCHING = List.of("role", "session_authorization");
    static final String SEARCH_PATH = "search_path";

    private SettingCalls() {
    }

    /**
     * The name of the first of {@code guarded} the statement sets, {@code "a computed setting"} when a set_config
     * names its setting by anything but a constant (it could be any of them), or null when it sets none of them.
     */
    static String setsAny(StatementAnalysis s, List<String> guarded) {
        if (s.setting() != null && s.kind() == StatementKind.SET
                && guarded.contains(s.setting().toLowerCase(Locale.ROOT))) {
            return s.setting().toLowerCase(Locale.ROOT);
        }
        String defaulted = roleOrDatabaseDefault(s, guarded);
        if (defaulted != null) {
            return defaulted;
        }
        for (String name : setConfigNames(s)) {
            if (name == null) {
                return "a computed setting";
            }
            if (guarded.contains(name)) {
                return name;
            }
        }
        return null;
    }

    /**
     * The first of {@code guarded} that {@code ALTER ROLE ... SET} or {@code ALTER DATABASE ... SET} gives as a default
     * to every later session of the role or database: with the upstream login shared, to every agent's sessions,
     * from their start, where no report of the server shows it (decision 0084). Null when it sets none of them.
     */
    private static String roleOrDatabaseDefault(StatementAnalysis s, List<String> guarded) {
        if (!"ALTER ROLE".equals(s.dataRoute()) && !"ALTER DATABASE".equals(s.dataRoute())) {
            return null;
        }
        StatementTree tree = StatementTree.of(s.text());
        if (tree == null) {
            return null;
        }
        for (String type : List.of("AlterRoleSetStmt", "AlterDatabaseSetStmt")) {
            for (JsonNode stmt : tree.nodes(type)) {
                JsonNode set = stmt.path("setstmt");
                set = set.has("VariableSetStmt") ? set.path("VariableSetStmt") : set;
                String name = set.path("name").asText("").toLowerCase(Locale.ROOT);
                if (guarded.contains(name)) {
                    return name;
                }
            }
        }
        return null;
    }

    /** Each set_config call's setting name as the server looks it up (lower case), null where not a constant. */
    private static List<String> setConfigNames(StatementAnalysis s) {
        List<Call> calls = setConfigCalls(s);
        if (calls == null) {
            return java.util.Collections.singletonList(null);
        }
        List<String> out = new ArrayList<>(calls.size());
        for (Call c : calls) {
            out.add(c.name());
        }
        return out;
    }

    /**
     * One set_config call as the server's grammar reads it: the setting's name as the server looks it up (lower
     * case) where it is a constant, or pg_dump's {@code set_config(name, ...) FROM pg_settings WHERE name =
     * 'constant'}, else null; and its arguments.
     */
    record Call(String name, List<JsonNode> arguments) {
    }

    /** The statement's set_config calls; null when it calls set_config but its tree cannot be read. */
    static List<Call> setConfigCalls(StatementAnalysis s) {
        boolean calls = false;
        for (FunctionCall f : s.facts().functions()) {
            calls |= f.name().equalsIgnoreCase("set_config");
        }
        if (!calls) {
            return List.of();
        }
        StatementTree tree = StatementTree.of(s.text());
        if (tree == null) {
            return null;
        }
        List<Call> out = new ArrayList<>();
        for (List<JsonNode> args : tree.callsOf("set_config")) {
            String name = args.isEmpty() ? null : FunctionAllowlist.settingName(tree, args.getFirst());
            out.add(new Call(name == null ? null : name.strip().toLowerCase(Locale.ROOT), args));
        }
        return out;
    }
}
