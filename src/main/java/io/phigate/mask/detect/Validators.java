package io.phigate.mask.detect;

/** Check digits and validity rules that turn a shape match into a finding, or drop it. */
final class Validators {
    private Validators() {
    }

    /** Luhn over the digits of {@code s[from, to)}, skipping separators; {@code prefix} digits go first. */
    static boolean luhn(String prefix, CharSequence s, int from, int to) {
        int sum = 0;
        boolean doubled = false;
        for (int i = to - 1; i >= from - prefix.length(); i--) {
            char c = i >= from ? s.charAt(i) : prefix.charAt(i - from + prefix.length());
            if (c < '0' || c > '9') {
                continue;
            }
            int d = c - '0';
            if (doubled) {
                d *= 2;
                if (d > 9) {
                    d -= 9;
                }
            }
            sum += d;
            doubled = !doubled;
        }
        return sum % 10 == 0;
    }

    static int digitCount(CharSequence s, int from, int to) {
        int n = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c >= '0' && c <= '9') {
                n++;
            }
        }
        return n;
    }

    /** SSA rules since 2011: area not 000 or 666, group not 00, serial not 0000. 9xx areas are checked apart. */
    static boolean ssnValid(int area, int group, int serial) {
        return area != 0 && area != 666 && group != 0 && serial != 0;
    }

    /** ISO 13616: the first four characters moved to the end, letters as 10..35, the number mod 97 is 1. */
    static boolean ibanValid(CharSequence s, int from, int to) {
        char[] compact = new char[34];
        int n = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c != ' ') {
                if (n == compact.length) {
                    return false;
                }
                compact[n++] = c;
            }
        }
        if (n < 15) {
            return false;
        }
        int remainder = 0;
        for (int k = 4; k < n + 4; k++) {
            char c = compact[k % n];
            remainder = c <= '9' ? (remainder * 10 + (c - '0')) % 97 : (remainder * 100 + (c - 'A' + 10)) % 97;
        }
        return remainder == 1;
    }

    /** DEA: (d1 + d3 + d5) + 2 (d2 + d4 + d6), last digit equals d7. */
    static boolean deaValid(CharSequence s, int start) {
        int odd = 0, even = 0;
        for (int i = 0; i < 6; i++) {
            int d = s.charAt(start + 2 + i) - '0';
            if (i % 2 == 0) {
                odd += d;
            } else {
                even += d;
            }
        }
        return (odd + 2 * even) % 10 == s.charAt(start + 8) - '0';
    }

    /**
     * An IPv6 address, optionally ending in dotted IPv4, with at most one {@code ::}, and at least two non-empty
     * groups so that prose such as {@code a::b} in code samples rarely counts.
     */
    static boolean ipv6Valid(String s) {
        int compressed = s.indexOf("::");
        if (compressed < 0) {
            return groups(s, true) == 8;
        }
        if (s.indexOf("::", compressed + 1) >= 0) {
            return false;
        }
        String tail = s.substring(compressed + 2);
        int head = groups(s.substring(0, compressed), tail.isEmpty());
        int rest = groups(tail, true);
        return head >= 0 && rest >= 0 && head + rest <= 7 && head + rest >= 2;
    }

    /** Groups in a colon-separated run of 1-4 hex digit groups (dotted IPv4 last counts 2), or -1. */
    private static int groups(String part, boolean last) {
        if (part.isEmpty()) {
            return 0;
        }
        int count = 0;
        int start = 0;
        while (true) {
            int colon = part.indexOf(':', start);
            int end = colon < 0 ? part.length() : colon;
            String group = part.substring(start, end);
            if (colon < 0 && last && group.indexOf('.') >= 0) {
                return ipv4Valid(group) ? count + 2 : -1;
            }
            if (group.isEmpty() || group.length() > 4 || !isHex(group)) {
                return -1;
            }
            count++;
            if (colon < 0) {
                return count;
            }
            start = colon + 1;
        }
    }

    private static boolean isHex(String g) {
        for (int i = 0; i < g.length(); i++) {
            if (Character.digit(g.charAt(i), 16) < 0) {
                return false;
            }
        }
        return true;
    }

    static boolean ipv4Valid(String s) {
        String[] octets = s.split("\\.", -1);
        if (octets.length != 4) {
            return false;
        }
        for (String o : octets) {
            if (o.isEmpty() || o.length() > 3 || (o.length() > 1 && o.charAt(0) == '0')) {
                return false;
            }
            for (int i = 0; i < o.length(); i++) {
                if (o.charAt(i) < '0' || o.charAt(i) > '9') {
                    return false;
                }
            }
            if (Integer.parseInt(o) > 255) {
                return false;
            }
        }
        return true;
    }
}
