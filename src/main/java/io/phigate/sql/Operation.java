package io.phigate.sql;

/** What a statement does, in the vocabulary of the policy's {@code operations} lists. */
public enum Operation {
    SELECT, INSERT, UPDATE, DELETE, TRUNCATE, DDL, COPY, FUNCTION, GRANT, UTILITY;

    /** The policy spelling, e.g. {@code select}. */
    public String policyName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
