package io.phigate.policy;

/**
 * Why an agent needs the data: where it may be stated, what a usable one looks like, and the refusal a session
 * gets when its role requires one and none was given. The session is admitted without one (so the agent can read
 * the refusal and supply it with {@code SET}); every statement is refused until it has one.
 */
public final class Justifications {
    /** The setting name in {@code options=-c ...}, a startup parameter, or {@code SET}; never sent upstream. */
    public static final String SETTING = "phigate.justification";
    /** Long enough for a ticket reference and a sentence; a bound on what each audit record carries. */
    public static final int MAX_LENGTH = 1000;

    private Justifications() {
    }

    /** Null when {@code value} is usable as a justification, else why not (safe to send to the client). */
    public static String problem(String value) {
        if (value == null || value.isBlank()) {
            return SETTING + " is empty; state why the data is needed";
        }
        if (value.length() > MAX_LENGTH) {
            return SETTING + " is " + value.length() + " characters; at most " + MAX_LENGTH + " are kept";
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isISOControl(c) && c != '\t') {
                return SETTING + " must not contain control characters";
            }
        }
        return null;
    }

    /**
     * For the statement hook: the justification a {@code SET phigate.justification = '...'} states (to be kept by
     * the session, checked with {@link #problem}, and never sent upstream), or null when {@code analysis} is not
     * that statement. A {@code RESET} of it yields the empty string, which {@link #problem} refuses.
     */
    public static String fromSet(io.phigate.sql.StatementAnalysis analysis) {
        if (analysis.setting() == null || !SETTING.equalsIgnoreCase(analysis.setting())) {
            return null;
        }
        return switch (analysis.kind()) {
            case SET -> analysis.settingValue() == null ? "" : analysis.settingValue();
            case RESET -> "";
            default -> null;
        };
    }

    /** True when statements must be refused: {@code role} requires a justification and {@code justification} is none. */
    public static boolean missing(Role role, String justification) {
        return role != null && role.justification() == Role.Justification.REQUIRED
                && (justification == null || justification.isBlank());
    }

    /** SQLSTATE of the refusal (insufficient_privilege). */
    public static final String SQLSTATE = "42501";

    /** The message for a statement refused by {@link #missing}: names the role and every way to supply one. */
    public static String refusal(Role role) {
        return "a justification is required: role \"" + role.name() + "\" must state why it needs the data before"
                + " running statements. Supply one with SET " + SETTING + " = '...' in this session, with"
                + " options='-c " + SETTING + "=...' (spaces escaped as \\ ) at connect, or in the credential"
                + " exchange (POST /api/v1/credentials {\"justification\": \"...\"})";
    }
}
