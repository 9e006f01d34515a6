package io.phigate.session;

import io.phigate.policy.FunctionAllowlist;
import io.phigate.sql.Operation;
import io.phigate.sql.StatementAnalysis;
import io.phigate.sql.StatementKind;

/**
 * The settings the gateway reads statement text by, {@code client_encoding} (UTF8) and
 * {@code standard_conforming_strings} (on), kept as it reads them in every analysed session, masked or not
 * (decisions 0032, 0054, 0057): under another value the server reads one text as another statement, and a scope, an
 * approval rule or masking is only as good as the reading of the statement it judges. Refused here: SET of another
 * value, set_config but with a constant name and, for those two, the constant value phigate reads with, a row
 * written into pg_settings (its rules call set_config), ALTER SYSTEM (after a reload every session reads its next
 * statement by the new value). What changes them out of sight is the batch rule's ({@code pg.RequestForwarder}) and
 * the server's own report's ({@code pg.ServerReports}). Pure.
 */
final class ReadingSettings {
    private ReadingSettings() {
    }

    /** Why {@code a} may change a setting statements are read by, or null. */
    static Refusal refusal(StatementAnalysis a) {
        if ("standard_conforming_strings".equals(a.setting()) && a.kind() == StatementKind.SET
                && !StatementRules.isOn(a.settingValue())) {
            // The analyser reads '...' as the SQL standard does; off, the server would read \' as a quote and run
            // a statement other than the one judged here (the front door refuses a session that starts with it off).
            return new Refusal(SqlStates.FEATURE_NOT_SUPPORTED, "phigate analyses statements with"
                    + " standard_conforming_strings on only; use E'...' for backslash escapes");
        }
        if (ClientEncoding.SETTING.equals(a.setting()) && a.kind() == StatementKind.SET
                && !ClientEncoding.isUtf8(a.settingValue())) {
            // SET client_encoding and SET NAMES; the server's ParameterStatus is the backstop (ServerReports).
            return new Refusal(SqlStates.FEATURE_NOT_SUPPORTED, "phigate reads this session's statements as UTF-8"
                    + " and analyses them only while the server does too; client_encoding stays UTF8");
        }
        String setConfig = FunctionAllowlist.readingSettingRefusal(a);
        if (setConfig != null) {
            return new Refusal(SqlStates.INSUFFICIENT_PRIVILEGE, setConfig);
        }
        if (writesSettingsView(a)) {
            // Its rules run set_config(name, new value, false): any setting, from any computed value.
            return new Refusal(SqlStates.INSUFFICIENT_PRIVILEGE, "writing pg_settings is refused: its rules"
                    + " change settings, among them client_encoding and standard_conforming_strings, which"
                    + " phigate reads statements by; use SET or set_config with constants");
        }
        if ("ALTER SYSTEM".equals(a.dataRoute())) {
            // With a reload, every session takes the new value at its next command, before the server reads that
            // command's text; it reports the change only at the command's end, after running what it misread.
            return new Refusal(SqlStates.INSUFFICIENT_PRIVILEGE, "ALTER SYSTEM is refused in a session phigate"
                    + " analyses: once the configuration is reloaded, every session reads its next statement by the"
                    + " new settings (client_encoding and standard_conforming_strings among them, which phigate reads"
                    + " statements by) before the server reports them");
        }
        return null;
    }

    /** A row written into pg_settings; a relation created under its name is DataRoutes' to refuse. */
    private static boolean writesSettingsView(StatementAnalysis a) {
        return !a.operations().contains(Operation.DDL) && a.writes().stream().anyMatch(t -> t.table()
                .equals("pg_settings") && (t.schema().equals("pg_catalog") || t.schema().equals("?")));
    }
}
