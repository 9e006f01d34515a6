package io.phigate.mask;

import java.util.Locale;
import java.util.Optional;

/**
 * The kinds of protected health information a column can be tagged with (after the Safe Harbor identifiers).
 * Declared from strongest to weakest: an output that derives from several PHI columns is masked as the
 * strongest of them, the one whose disclosure identifies a person most directly.
 */
public enum PhiType {
    SSN, MRN, HEALTH_PLAN, ACCOUNT, LICENSE, VEHICLE, DEVICE, BIOMETRIC, ID,
    NAME, EMAIL, PHONE, ADDRESS, URL, IP, FREE_TEXT, DOB, DATE, ZIP, AGE;

    /** The policy spelling, e.g. {@code free_text}. */
    public String policyName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<PhiType> fromPolicyName(String name) {
        for (PhiType t : values()) {
            if (t.policyName().equals(name)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /** The stronger of two types; null counts as no PHI. */
    public static PhiType strongest(PhiType a, PhiType b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        return a.ordinal() <= b.ordinal() ? a : b;
    }
}
