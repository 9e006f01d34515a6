package io.phigate.config;

import java.util.Collection;
import java.util.Locale;

/** "Did you mean" for misspelled keys and values: the known word within a small edit distance, if any. */
final class Suggest {
    private Suggest() {
    }

    /** The closest candidate, or null when none is close enough to be a plausible typo. */
    static String nearest(String word, Collection<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        String lower = word.toLowerCase(Locale.ROOT).replace('-', '_');
        for (String candidate : candidates) {
            int d = distance(lower, candidate.toLowerCase(Locale.ROOT).replace('-', '_'));
            if (d < bestDistance) {
                bestDistance = d;
                best = candidate;
            }
        }
        // A third of the word's length (at least 2) catches typos, swaps and case slips without
        // suggesting unrelated keys; a key that starts the candidate ("password" for "password_env") also counts.
        int allowed = Math.max(2, word.length() / 3);
        if (best != null && bestDistance <= allowed) {
            return best;
        }
        if (lower.length() >= 4) {
            for (String candidate : candidates) {
                if (candidate.toLowerCase(Locale.ROOT).startsWith(lower)) {
                    return candidate;
                }
            }
        }
        return null;
    }

    /** Levenshtein distance, with a transposition counted as one edit (optimal string alignment). */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
