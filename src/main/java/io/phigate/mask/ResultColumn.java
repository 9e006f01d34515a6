package io.phigate.mask;

import io.phigate.mask.MaskOperator.ValueType;

/**
 * One column of a result as a masking plan sees it, whatever protocol carried its description: its name (for the
 * audit summary), the table and attribute it is a plain reference to when the server says so ({@code tableOid}
 * 0 when it does not), and the type and transfer format its values arrive in.
 */
public record ResultColumn(String name, int tableOid, int columnNumber, ValueType type) {
}
