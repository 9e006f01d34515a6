package io.phigate.audit;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A time as people type it on a command line or in a URL: {@code now}, an instant ({@code 2025-03-04T05:06:07Z}), a
 * UTC date ({@code 2025-03-04}, its midnight) or an age with a unit ({@code 90m}, {@code 24h}, {@code 7d}: that long ago).
 */
final class PastTimes {
    private PastTimes() {
    }

    /**
     * An age: digits with one of the config's duration units. Bare digits, which the config reads as seconds,
     * are refused here: {@code --since 2025} is more likely a year cut short than 2025 seconds ago.
     */
    private static final Pattern AGE = Pattern.compile("(\\d{1,12})\\s*(ms|s|m|h|d)");

    /**
     * The config's duration units, read here rather than through config's {@code Units}: audit sits below config
     * in the package layering (decision 0039), and the pattern above has already checked the digits and the unit.
     */
    private static Duration age(long n, String unit) {
        return switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }

    static Instant parseTime(String text, Clock clock) {
        String s = text.strip();
        if (s.equalsIgnoreCase("now")) {
            return clock.instant();
        }
        Matcher age = AGE.matcher(s);
        if (age.matches()) {
            try {
                return clock.instant().minus(age(Long.parseLong(age.group(1)), age.group(2)));
            } catch (IllegalArgumentException | ArithmeticException | java.time.DateTimeException e) {
                throw new IllegalArgumentException("age too large: \"" + s + "\"");
            }
        }
        try {
            return s.length() == 10 ? LocalDate.parse(s).atStartOfDay(ZoneOffset.UTC).toInstant() : Instant.parse(s);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("expected a time like now, 2025-03-04T05:06:07Z, 2025-03-04 or 24h"
                    + " (ago), got \"" + s + "\"");
        }
    }
}
