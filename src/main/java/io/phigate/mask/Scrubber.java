package io.phigate.mask;

/**
 * Content detection over free text: replaces PHI-shaped substrings (SSNs, phone numbers, emails, ...) in place.
 * Both methods return their argument itself when nothing was found, so the common case costs no copy.
 */
public interface Scrubber {
    String scrub(String text);

    byte[] scrubUtf8(byte[] text);

    /** Finds nothing. */
    Scrubber NONE = new Scrubber() {
        @Override
        public String scrub(String text) {
            return text;
        }

        @Override
        public byte[] scrubUtf8(byte[] text) {
            return text;
        }
    };
}
