package io.phigate.mask.detect;

import io.phigate.mask.PhiType;

/**
 * One match in a text: {@code [start, end)} in UTF-16 chars, and how confident the detector is (0 to 1). Holds
 * positions only, never the matched text, so a finding can be logged.
 */
public record Finding(Detector detector, int start, int end, double score) {
    public PhiType type() {
        return detector.phiType();
    }
}
