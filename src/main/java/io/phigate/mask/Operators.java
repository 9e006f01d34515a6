package io.phigate.mask;

import java.util.Objects;

/**
 * Makes the operator a policy names for a column of one PHI type. Each operator is a small immutable class,
 * safe to share between sessions; make one per (spec, type) and reuse it for every row.
 *
 * <p>Every operator understands text, varchar, bpchar, name, int2, int4, int8, numeric, float4, float8, date,
 * timestamp, timestamptz, uuid, json, jsonb, bytea and bool in both transfer formats, as far as its kind makes
 * sense for the type, and fails closed on any other type (NULL; {@code redact} gives the tag re-described as
 * text). Binary numeric is only read by {@code age90}; the others mask it to NULL.
 */
public final class Operators {
    private Operators() {
    }

    /**
     * @param keys needed by {@code token}, {@code fpe} and {@code date_shift}; may be null for the others
     * @throws IllegalArgumentException for parameters the operator cannot work with, or missing keys
     */
    public static MaskOperator create(OperatorSpec spec, PhiType type, MaskingKeys keys) {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(type, "type");
        return switch (spec.kind()) {
            case NONE -> Identity.INSTANCE;
            case REDACT -> new Redact(type);
            case NULL -> Nullify.INSTANCE;
            case PARTIAL -> new Partial(spec, type);
            case TOKEN -> new Token(spec, type, required(keys, spec));
            case FPE -> new FormatPreserving(spec, type, required(keys, spec));
            case YEAR -> new YearOnly(spec, type);
            case DATE_SHIFT -> new DateShift(spec, type, required(keys, spec));
            case ZIP3 -> new Zip3(spec, type);
            case AGE90 -> new Age90(spec, type);
        };
    }

    private static MaskingKeys required(MaskingKeys keys, OperatorSpec spec) {
        if (keys == null) {
            throw new IllegalArgumentException(spec.kind().policyName() + " needs masking keys");
        }
        return keys;
    }
}
