package io.phigate.session;

/**
 * Why a statement is refused, in the client's terms: a SQLSTATE, a message that names the rule (so the agent and
 * its operator know what to change), and {@code position}, the 1-based character position a syntax error points
 * at (0 for none). Each protocol turns it into its own error reply; nothing here knows the wire.
 */
public record Refusal(String sqlState, String message, int position) {
    public Refusal(String sqlState, String message) {
        this(sqlState, message, 0);
    }
}
