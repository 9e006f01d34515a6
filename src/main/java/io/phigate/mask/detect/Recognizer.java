package io.phigate.mask.detect;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One shape a detector looks for (Presidio's pattern recognizer): a pattern, a scorer that validates the match
 * and gives its base score (negative drops it), and context words that raise the score when one appears shortly
 * before the match. {@code needs} says which cheap pre-scan flag the text must have for the pattern to be tried.
 */
record Recognizer(Detector detector, Pattern pattern, int needs, Scorer scorer, List<String> context) {
    static final int DIGIT = 1, AT = 2, LINK = 4;
    /** Presidio's default context boost. */
    static final double CONTEXT_BOOST = 0.35;
    /** How far before a match a context word counts, in chars (about five words). */
    static final int CONTEXT_WINDOW = 40;

    interface Scorer {
        double score(Matcher m, String text);
    }

    static Scorer fixed(double score) {
        return (m, text) -> score;
    }

    /** Finds matches starting and ending in {@code [from, to)}; lookarounds still see the whole text. */
    void find(String text, int from, int to, double minScore, List<Finding> out) {
        Matcher m = pattern.matcher(text).region(from, to).useTransparentBounds(true).useAnchoringBounds(false);
        while (m.find()) {
            double score = scorer.score(m, text);
            if (score < 0) {
                continue;
            }
            if (score < 1 && hasContext(text, m.start())) {
                score = Math.min(1, score + CONTEXT_BOOST);
            }
            if (score >= minScore) {
                out.add(new Finding(detector, m.start(), m.end(), score));
            }
        }
    }

    private boolean hasContext(String text, int start) {
        int from = Math.max(0, start - CONTEXT_WINDOW);
        for (String word : context) {
            for (int i = from; i + word.length() <= start; i++) {
                if (text.regionMatches(true, i, word, 0, word.length())) {
                    return true;
                }
            }
        }
        return false;
    }
}
