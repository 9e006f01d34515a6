package io.phigate.mask;

import java.util.Locale;

/**
 * A masking operator as the policy names it, with its parameters.
 *
 * <ul>
 *   <li>{@code none}: unmasked (only for roles granted the type)</li>
 *   <li>{@code redact}: the type tag ({@code [SSN]}) for text, a type-valid stand-in or NULL otherwise</li>
 *   <li>{@code null}: SQL NULL</li>
 *   <li>{@code partial}: keep the last {@code keep} characters, mask the rest with {@code *}</li>
 *   <li>{@code token}: keyed HMAC-SHA-256, truncated and prefixed with the type; deterministic, so joins work</li>
 *   <li>{@code fpe}: FF1 format-preserving encryption of the digits / letters, keeping separators</li>
 *   <li>{@code year}: a date or timestamp reduced to January 1st of its year</li>
 *   <li>{@code date_shift}: shifted by a keyed per-patient offset of up to {@code maxShiftDays} days</li>
 *   <li>{@code zip3}: the first three ZIP digits, the restricted prefixes as 000</li>
 *   <li>{@code age90}: ages over 89 reported as 90</li>
 * </ul>
 */
public record OperatorSpec(Kind kind, int keep, int maxShiftDays) {
    public enum Kind { NONE, REDACT, NULL, PARTIAL, TOKEN, FPE, YEAR, DATE_SHIFT, ZIP3, AGE90;

        public String policyName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public static final OperatorSpec NONE = new OperatorSpec(Kind.NONE, 0, 0);
    public static final OperatorSpec REDACT = new OperatorSpec(Kind.REDACT, 0, 0);
    public static final OperatorSpec NULL = new OperatorSpec(Kind.NULL, 0, 0);

    public static OperatorSpec of(Kind kind) {
        return new OperatorSpec(kind, kind == Kind.PARTIAL ? 4 : 0, kind == Kind.DATE_SHIFT ? 365 : 0);
    }

    @Override
    public String toString() {
        return switch (kind) {
            case PARTIAL -> "partial(" + keep + ")";
            case DATE_SHIFT -> "date_shift(" + maxShiftDays + "d)";
            default -> kind.policyName();
        };
    }
}
