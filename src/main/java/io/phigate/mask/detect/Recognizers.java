package io.phigate.mask.detect;

import static io.phigate.mask.detect.Recognizer.AT;
import static io.phigate.mask.detect.Recognizer.DIGIT;
import static io.phigate.mask.detect.Recognizer.LINK;
import static io.phigate.mask.detect.Recognizer.fixed;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The patterns and their scores. Base scores: a shape with a passing check digit is near certain (0.9+); a
 * distinctive shape without one 0.6-0.85; a shape common in ordinary text (bare 9 or 10 digits, 5-digit
 * numbers) starts below the default threshold of 0.5 and needs a context word (+0.35) to count.
 */
final class Recognizers {
    private Recognizers() {
    }

    private static final String NOT_BEFORE = "(?<![\\w-])", NOT_AFTER = "(?![\\w-])";
    private static final String MBI_LETTER = "[AC-HJKMNP-RT-Y]";
    /**
     * A one-character lookahead in front of a pattern: java.util.regex tries every position, and failing on one
     * character class is much cheaper than evaluating a lookbehind first at each of them.
     */
    private static final String DIGIT_FIRST = "(?=\\d)";

    static List<Recognizer> of(DetectorSettings settings) {
        List<Recognizer> all = new ArrayList<>();
        all.add(new Recognizer(Detector.SSN,
                Pattern.compile(DIGIT_FIRST + NOT_BEFORE + "(\\d{3})([- ]?)(\\d{2})\\2(\\d{4})" + NOT_AFTER), DIGIT,
                Recognizers::ssn, List.of("ssn", "social security", "social sec", "ss#", "ss #")));
        all.add(new Recognizer(Detector.PHONE, Pattern.compile(
                "(?=[\\d(+])(?<![\\w+])(?:\\+?1[-. ]?)?(?:\\((\\d{3})\\)[-. ]?|(\\d{3})[-. ])(\\d{3})[-. ]\\d{4}(?!\\w)"), DIGIT,
                Recognizers::phone, List.of("phone", "tel", "cell", "mobile", "fax", "call")));
        all.add(new Recognizer(Detector.PHONE, Pattern.compile(DIGIT_FIRST + "(?<![\\w+-])\\d{10}" + NOT_AFTER), DIGIT,
                fixed(0.3), List.of("phone", "tel", "cell", "mobile", "fax", "call")));
        all.add(new Recognizer(Detector.EMAIL, Pattern.compile(
                "(?<![\\w.%+-])[\\w.%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}(?![\\w-])"), AT,
                fixed(0.9), List.of()));
        all.add(new Recognizer(Detector.CARD, Pattern.compile(DIGIT_FIRST + "(?<![\\w-])\\d(?:[ -]?\\d){12,18}(?![\\w-])"), DIGIT,
                (m, t) -> Validators.luhn("", t, m.start(), m.end()) ? 0.9 : -1,
                List.of("card", "visa", "mastercard", "amex", "credit", "debit")));
        all.add(new Recognizer(Detector.IBAN, Pattern.compile("(?=[A-Z])\\b[A-Z]{2}\\d{2}(?: ?[A-Z0-9]){11,30}\\b"), DIGIT,
                (m, t) -> Validators.ibanValid(t, m.start(), m.end()) ? 0.95 : -1, List.of("iban", "account")));
        all.add(new Recognizer(Detector.NPI, Pattern.compile("(?=[12])" + NOT_BEFORE + "[12]\\d{9}" + NOT_AFTER), DIGIT,
                (m, t) -> Validators.luhn("80840", t, m.start(), m.end()) ? 0.6 : -1, List.of("npi", "provider")));
        all.add(new Recognizer(Detector.DEA, Pattern.compile("(?=[ABCDEFGHJKLMPRSTUX])(?<!\\w)[ABCDEFGHJKLMPRSTUX][A-Z9]\\d{7}(?!\\w)"), DIGIT,
                (m, t) -> Validators.deaValid(t, m.start()) ? 0.9 : -1, List.of("dea")));
        all.add(new Recognizer(Detector.MBI, Pattern.compile("(?=[1-9])(?<!\\w)[1-9]" + MBI_LETTER + "[AC-HJKMNP-RT-Y0-9]\\d-?"
                + MBI_LETTER + "[AC-HJKMNP-RT-Y0-9]\\d-?" + MBI_LETTER + "{2}\\d{2}(?!\\w)"), DIGIT,
                fixed(0.85), List.of("mbi", "medicare", "beneficiary")));
        all.add(new Recognizer(Detector.IPV4, Pattern.compile(
                DIGIT_FIRST + "(?<![\\w.])(?:(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)"
                        + "(?!\\w|\\.\\d)"), DIGIT, fixed(0.6), List.of("ip", "address", "host", "client")));
        all.add(new Recognizer(Detector.IPV6, Pattern.compile(
                "(?=[0-9A-Fa-f:])(?<![\\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|\\d{1,3}(?:\\.\\d{1,3}){3})?(?![\\w:]|\\.\\w)"),
                DIGIT, (m, t) -> Validators.ipv6Valid(m.group()) ? 0.7 : -1, List.of("ip", "address", "host")));
        all.add(new Recognizer(Detector.URL, Pattern.compile(
                "(?i)\\b(?:(?:https?|ftp)://|www\\.)[^\\s<>\"'`]*[^\\s<>\"'`.,;:!?)\\]]"), LINK, fixed(0.6), List.of()));
        List<String> dateContext = List.of("dob", "birth", "born", "admit", "discharg", "died", "death", "date", "visit");
        all.add(new Recognizer(Detector.DATE, Pattern.compile(DIGIT_FIRST + NOT_BEFORE + "(\\d{4})-(\\d{2})-(\\d{2})(?![\\d-])"),
                DIGIT, (m, t) -> validDate(m, 1, 2, 3) ? 0.6 : -1, dateContext));
        all.add(new Recognizer(Detector.DATE, Pattern.compile(DIGIT_FIRST + "(?<![\\w/])(\\d{1,2})/(\\d{1,2})/(\\d{4})(?![\\w/])"),
                DIGIT, (m, t) -> validDate(m, 3, 1, 2) ? 0.6 : -1, dateContext));
        all.add(new Recognizer(Detector.ZIP, Pattern.compile(DIGIT_FIRST + NOT_BEFORE + "\\d{5}(?:-\\d{4})?" + NOT_AFTER), DIGIT,
                fixed(0.3), List.of("zip", "postal", "post code")));
        for (Pattern p : settings.mrnPatterns()) {
            all.add(new Recognizer(Detector.MRN, p, DIGIT, fixed(0.5),
                    List.of("mrn", "medical record", "record no", "record #", "chart", "patient id")));
        }
        all.removeIf(r -> !settings.enabled().contains(r.detector()));
        return List.copyOf(all);
    }

    private static double ssn(Matcher m, String t) {
        int area = number(t, m.start(1), 3), group = number(t, m.start(3), 2), serial = number(t, m.start(4), 4);
        if (!Validators.ssnValid(area, group, serial)) {
            return -1;
        }
        boolean separated = m.start(2) != m.end(2);
        // 9xx areas are never issued, but synthetic data sets use them: a match, with less confidence
        if (area >= 900) {
            return separated ? 0.6 : 0.2;
        }
        return separated ? 0.85 : 0.3;
    }

    private static double phone(Matcher m, String t) {
        int area = m.start(1) >= 0 ? m.start(1) : m.start(2);
        boolean nanp = t.charAt(area) >= '2' && t.charAt(m.start(3)) >= '2';
        return nanp ? 0.75 : 0.5;
    }

    private static boolean validDate(Matcher m, int yearGroup, int monthGroup, int dayGroup) {
        String t = m.group();
        int base = m.start();
        int year = number(t, m.start(yearGroup) - base, 4);
        int month = number(t, m.start(monthGroup) - base, m.end(monthGroup) - m.start(monthGroup));
        int day = number(t, m.start(dayGroup) - base, m.end(dayGroup) - m.start(dayGroup));
        if (year < 1000 || month < 1 || month > 12 || day < 1) {
            return false;
        }
        int length = switch (month) {
            case 2 -> (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28;
            case 4, 6, 9, 11 -> 30;
            default -> 31;
        };
        return day <= length;
    }

    private static int number(CharSequence t, int from, int length) {
        int x = 0;
        for (int i = from; i < from + length; i++) {
            x = x * 10 + (t.charAt(i) - '0');
        }
        return x;
    }
}
