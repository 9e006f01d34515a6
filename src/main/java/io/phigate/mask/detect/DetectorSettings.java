package io.phigate.mask.detect;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which detectors run and how sure they must be.
 *
 * @param enabled            the detectors that run
 * @param minScore           a finding below this score is ignored (0 to 1)
 * @param minScoreByDetector per-detector thresholds replacing {@code minScore}; e.g. {@code ZIP -> 0.3} finds
 *                           5-digit ZIPs without a context word such as "zip" before them
 * @param mrnPatterns        what a medical record number looks like here; MRN finds nothing without them. Only
 *                           tried on text holding a digit (see {@link Detectors}), so a pattern should need one
 */
public record DetectorSettings(Set<Detector> enabled, double minScore, Map<Detector, Double> minScoreByDetector,
                               List<Pattern> mrnPatterns) {
    public static final double DEFAULT_MIN_SCORE = 0.5;

    public DetectorSettings {
        enabled = Set.copyOf(enabled);
        checkScore(minScore);
        minScoreByDetector.values().forEach(DetectorSettings::checkScore);
        minScoreByDetector = Map.copyOf(minScoreByDetector);
        mrnPatterns = List.copyOf(mrnPatterns);
    }

    /** Every detector, threshold 0.5, no MRN patterns. */
    public static DetectorSettings defaults() {
        return new DetectorSettings(EnumSet.allOf(Detector.class), DEFAULT_MIN_SCORE, Map.of(), List.of());
    }

    public DetectorSettings withMrnPatterns(List<Pattern> patterns) {
        return new DetectorSettings(enabled, minScore, minScoreByDetector, patterns);
    }

    public DetectorSettings withMinScore(Detector detector, double score) {
        Map<Detector, Double> m = new EnumMap<>(Detector.class);
        m.putAll(minScoreByDetector);
        m.put(detector, score);
        return new DetectorSettings(enabled, minScore, m, mrnPatterns);
    }

    public double minScoreFor(Detector detector) {
        return minScoreByDetector.getOrDefault(detector, minScore);
    }

    private static void checkScore(double score) {
        if (!(score >= 0 && score <= 1)) {
            throw new IllegalArgumentException("a detector score threshold must be between 0 and 1");
        }
    }
}
