package io.phigate.mask;

/** {@code none}: the value as the server sent it, for roles the policy grants the type. */
final class Identity implements MaskOperator {
    static final Identity INSTANCE = new Identity();

    private Identity() {
    }

    @Override
    public byte[] apply(byte[] value, ValueType type, RowContext context) {
        return value;
    }

    @Override
    public int describedType(int typeOid) {
        return typeOid;
    }

    @Override
    public OperatorSpec spec() {
        return OperatorSpec.NONE;
    }
}
