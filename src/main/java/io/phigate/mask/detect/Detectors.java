package io.phigate.mask.detect;

import io.phigate.mask.Scrubber;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Content detectors: the safety net for text that no column rule classified (free text, expressions the lineage
 * could not trace). Immutable and thread-safe; make one from the settings and share it.
 *
 * <p>Cost: a text is first scanned once for a digit, an {@code @}, {@code ://} or {@code www.}; every detector
 * needs one of those, so text without them returns at once (the same instance from {@link #scrub}). Only the
 * patterns whose trigger is present run. An IPv6 address written without any digit ({@code fe::ab}) is
 * therefore not found; MRN patterns only run on text with a digit.
 */
public final class Detectors implements Scrubber {
    private static final Comparator<Finding> BY_POSITION =
            Comparator.comparingInt(Finding::start).thenComparing(Comparator.comparingInt(Finding::end).reversed());

    /** How far a digit-triggered match can reach from its nearest digit (an IBAN is at most 34 chars). */
    private static final int DIGIT_REACH = 64;

    private final List<Recognizer> recognizers;
    private final double[] minScores;

    private Detectors(List<Recognizer> recognizers, double[] minScores) {
        this.recognizers = recognizers;
        this.minScores = minScores;
    }

    public static Detectors create(DetectorSettings settings) {
        double[] minScores = new double[Detector.values().length];
        for (Detector d : Detector.values()) {
            minScores[d.ordinal()] = settings.minScoreFor(d);
        }
        return new Detectors(Recognizers.of(settings), minScores);
    }

    /** Every finding at or above its detector's threshold, by start; findings of different detectors may overlap. */
    public List<Finding> find(CharSequence text) {
        String s = text.toString();
        int present = triggers(s);
        if (present == 0) {
            return List.of();
        }
        // Digit-triggered shapes lie within a few dozen chars of a digit: skip the digit-free head and tail
        int from = 0, to = s.length();
        if ((present & Recognizer.DIGIT) != 0) {
            int first = 0, last = s.length() - 1;
            while (!isDigit(s.charAt(first))) {
                first++;
            }
            while (!isDigit(s.charAt(last))) {
                last--;
            }
            from = Math.max(0, first - DIGIT_REACH);
            to = Math.min(s.length(), last + 1 + DIGIT_REACH);
        }
        List<Finding> out = new ArrayList<>();
        for (Recognizer r : recognizers) {
            if ((r.needs() & present) != 0) {
                boolean nearDigits = r.needs() == Recognizer.DIGIT && r.detector() != Detector.MRN;
                r.find(s, nearDigits ? from : 0, nearDigits ? to : s.length(), minScores[r.detector().ordinal()], out);
            }
        }
        out.sort(BY_POSITION);
        return out;
    }

    /**
     * The text with every finding replaced by its tag ({@code [SSN]}); overlapping findings are replaced as one
     * span, tagged by the most confident. The same instance when nothing was found.
     */
    @Override
    public String scrub(String text) {
        List<Finding> findings = find(text);
        String otherReading = asAsciiTrailBytesMayRead(text);
        if (otherReading != null) {
            List<Finding> both = new ArrayList<>(findings);
            both.addAll(find(otherReading));
            both.sort(BY_POSITION);
            findings = both;
        }
        if (findings.isEmpty()) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length());
        int copied = 0;
        int i = 0;
        while (i < findings.size()) {
            Finding best = findings.get(i);
            int start = best.start(), end = best.end();
            for (i++; i < findings.size() && findings.get(i).start() < end; i++) {
                Finding f = findings.get(i);
                end = Math.max(end, f.end());
                if (f.score() > best.score()) {
                    best = f;
                }
            }
            out.append(text, copied, start).append(best.detector().tag());
            copied = end;
        }
        return out.append(text, copied, text.length()).toString();
    }

    /**
     * The text as a client may read it whose encoding puts ASCII bytes inside multi-byte characters, or null when no
     * character could be read so. The server encodes what it sends by the session's client_encoding, which code the
     * gateway does not read can change within a statement (decision 0074); in SJIS, BIG5, GBK, UHC, JOHAB and
     * GB18030 a character's second (and GB18030's fourth) byte may be an ASCII letter, digit or (JOHAB) punctuation,
     * right after a byte beyond ASCII. Read as UTF-8, that byte is a letter glued to what follows
     * ({@code 81 30 86 38} before an SSN reads as {@code \uFFFD0\uFFFD8123-45-6789}, which no pattern's word
     * boundary admits), where such a client sees one character and then the SSN on its own. Only an ASCII character right after one beyond ASCII can be so
     * swallowed (no other byte of any client encoding is ASCII), so each is read here as a character that is not
     * one (U+FFFD), at the same position; the detectors then run over both readings. Only where it matters: a
     * character that some client encoding admits as a trail byte ({@link #mayCloseACharacter}: not only letters and
     * digits, JOHAB's symbols end in {@code 0x31-0x3F}, so a colon glued before an IPv6 address defeats its
     * boundary too; no trail byte is a space) right before another ASCII character that is not a space, where a
     * finding may start. Text with no such place, ASCII text among it, costs one scan.
     */
    static String asAsciiTrailBytesMayRead(String text) {
        char[] out = null;
        for (int i = 1, n = text.length() - 1; i < n; i++) {
            char c = text.charAt(i);
            char next = text.charAt(i + 1);
            if (text.charAt(i - 1) >= 0x80 && mayCloseACharacter(c) && next > ' ' && next < 0x80) {
                if (out == null) {
                    out = text.toCharArray();
                }
                out[i] = '\uFFFD';
            }
        }
        return out == null ? null : new String(out);
    }

    /** {@link #scrub} for a UTF-8 value; the same array when nothing was found. */
    @Override
    public byte[] scrubUtf8(byte[] value) {
        if (triggers(value) == 0) {
            return value;
        }
        String text = new String(value, StandardCharsets.UTF_8);
        String scrubbed = scrub(text);
        return scrubbed == text ? value : scrubbed.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Whether {@code c} can be the last byte of a multi-byte character in some client encoding PostgreSQL offers:
     * GB18030's second and fourth bytes are {@code 0x30-0x39}, JOHAB's trail bytes {@code 0x31-0x7E}, SJIS's, BIG5's,
     * GBK's and UHC's within {@code 0x40-0x7E}. Every pattern's left boundary refuses some of these ({@code \w}, a
     * colon before an IPv6 address), so all of them are read as possibly swallowed, not only word characters.
     */
    static boolean mayCloseACharacter(char c) {
        return c >= 0x30 && c <= 0x7E;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static int triggers(String s) {
        int present = 0;
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (c >= '0' && c <= '9') {
                present |= Recognizer.DIGIT;
            } else if (c == '@') {
                present |= Recognizer.AT;
            } else if ((c == ':' && s.startsWith("//", i + 1)) || ((c | 0x20) == 'w' && s.regionMatches(true, i, "www.", 0, 4))) {
                present |= Recognizer.LINK;
            }
        }
        return present;
    }

    /** The same scan over UTF-8 bytes: every trigger is ASCII, and no multi-byte sequence holds an ASCII byte. */
    private static int triggers(byte[] v) {
        int present = 0;
        for (int i = 0, n = v.length; i < n; i++) {
            byte c = v[i];
            if (c >= '0' && c <= '9') {
                present |= Recognizer.DIGIT;
            } else if (c == '@') {
                present |= Recognizer.AT;
            } else if ((c == ':' && i + 2 < n && v[i + 1] == '/' && v[i + 2] == '/')
                    || ((c | 0x20) == 'w' && i + 3 < n && (v[i + 1] | 0x20) == 'w' && (v[i + 2] | 0x20) == 'w' && v[i + 3] == '.')) {
                present |= Recognizer.LINK;
            }
        }
        return present;
    }
}
