package io.phigate.mask.detect;

import io.phigate.mask.PhiType;

/** The content detectors, each with the PHI type its findings count as. */
public enum Detector {
    SSN(PhiType.SSN), PHONE(PhiType.PHONE), EMAIL(PhiType.EMAIL), CARD(PhiType.ACCOUNT), IBAN(PhiType.ACCOUNT),
    NPI(PhiType.ID), DEA(PhiType.LICENSE), MBI(PhiType.HEALTH_PLAN), IPV4(PhiType.IP), IPV6(PhiType.IP),
    URL(PhiType.URL), DATE(PhiType.DATE), ZIP(PhiType.ZIP), MRN(PhiType.MRN);

    private final PhiType type;
    private final String tag;

    Detector(PhiType type) {
        this.type = type;
        this.tag = "[" + type.name() + "]";
    }

    public PhiType phiType() {
        return type;
    }

    /** What {@link Detectors#scrub} writes in place of a finding, the same tag the {@code redact} operator uses. */
    public String tag() {
        return tag;
    }
}
