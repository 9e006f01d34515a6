package io.phigate.mask;

/** Makes the operator that applies {@code spec} to values of PHI type {@code type}. */
@FunctionalInterface
public interface OperatorFactory {
    MaskOperator create(OperatorSpec spec, PhiType type);
}
