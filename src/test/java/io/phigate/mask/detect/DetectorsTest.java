package io.phigate.mask.detect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.phigate.mask.PhiType;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DetectorsTest {
    static final Detectors DEFAULT = Detectors.create(DetectorSettings.defaults());

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "SSN 123-45-6789 on file|SSN [SSN] on file",
        "ssn: 123 45 6789.|ssn: [SSN].",
        "SSN 123456789|SSN [SSN]",
        "synthetic 999-12-3456 row|synthetic [SSN] row",
        "call (555) 234-5678 now|call [PHONE] now",
        "cell +1 555.234.5678|cell [PHONE]",
        "tel 1-800-555-0199|tel [PHONE]",
        "phone 5552345678|phone [PHONE]",
        "mail jane.doe+x@example.co.uk, thanks|mail [EMAIL], thanks",
        "visa 4111 1111 1111 1111 exp|visa [ACCOUNT] exp",
        "card 5500-0000-0000-0004|card [ACCOUNT]",
        "pay to GB82 WEST 1234 5698 7654 32 today|pay to [ACCOUNT] today",
        "iban DE89370400440532013000|iban [ACCOUNT]",
        "provider NPI 1234567893|provider NPI [ID]",
        "DEA AB1234563 expired|DEA [LICENSE] expired",
        "MBI 1EG4-TE5-MK73 active|MBI [HEALTH_PLAN] active",
        "mbi 1EG4TE5MK73|mbi [HEALTH_PLAN]",
        "from 192.168.1.20.|from [IP].",
        "host 2001:db8:85a3::8a2e:370:7334 up|host [IP] up",
        "full 2001:0db8:0000:0000:0000:ff00:0042:8329|full [IP]",
        "see https://example.org/p?id=42).|see [URL]).",
        "see www.example.org/x, ok|see [URL], ok",
        "born 1984-03-05T10:00|born [DATE]T10:00",
        "seen 03/05/1984 and 2024-02-29|seen [DATE] and [DATE]",
        "zip 02134-1234|zip [ZIP]",
        "Boston, MA, postal code 02134|Boston, MA, postal code [ZIP]",
    })
    void findsAndScrubs(String text, String scrubbed) {
        assertThat(DEFAULT.scrub(text)).isEqualTo(scrubbed);
        assertThat(new String(DEFAULT.scrubUtf8(text.getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8))
                .isEqualTo(scrubbed);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "SSN 000-12-3456", "SSN 666-12-3456", "SSN 123-00-4567", "SSN 123-45-0000", // invalid SSNs
        "order 123456789 shipped",                                                  // bare 9 digits, no context
        "card 4111 1111 1111 1112",                                                 // fails Luhn
        "iban GB82 WEST 1234 5698 7654 33",                                         // fails mod-97
        "NPI 1234567890", "DEA AB1234564",                                          // bad check digits
        "MBI 1SG4-TE5-MK73",                                                        // S is not an MBI letter
        "version 1.2.3 and 256.1.1.1", "at 10:11:12 or 12:30",                      // not IPs
        "dates 2024-02-30 and 13/45/2020",                                          // not dates
        "room 02134 on floor 5",                                                    // a 5-digit number, no zip context
        "a plain sentence with no identifiers at all",
        "call me maybe 555-1234",                                                   // 7 digits is not NANP
        "digest 4c0808326819636026a2 and 5d8043749885523b9",                        // Luhn-valid runs inside hex
    })
    void leavesNonPhiAlone(String text) {
        assertThat(DEFAULT.find(text)).isEmpty();
        assertThat(DEFAULT.scrub(text)).isSameAs(text);
    }

    @Test
    void noTriggerCharacterMeansTheSameInstance() {
        String text = "Patient reports mild headache, no fever; follow up next week.";
        assertThat(DEFAULT.scrub(text)).isSameAs(text);
        byte[] bytes = "Zoë Müller, no digits here".getBytes(StandardCharsets.UTF_8);
        assertThat(DEFAULT.scrubUtf8(bytes)).isSameAs(bytes);
        byte[] withDigits = "room 12, nothing else".getBytes(StandardCharsets.UTF_8);
        assertThat(DEFAULT.scrubUtf8(withDigits)).isSameAs(withDigits);
    }

    @Test
    void findingsCarryPositionTypeAndScore() {
        List<Finding> f = DEFAULT.find("x 123-45-6789 and 999-12-3456");
        assertThat(f).extracting(Finding::detector).containsExactly(Detector.SSN, Detector.SSN);
        assertThat(f.get(0).start()).isEqualTo(2);
        assertThat(f.get(0).end()).isEqualTo(13);
        assertThat(f.get(0).type()).isEqualTo(PhiType.SSN);
        assertThat(f.get(1).score()).as("9xx area: lower confidence, still found").isLessThan(f.get(0).score())
                .isGreaterThanOrEqualTo(DetectorSettings.DEFAULT_MIN_SCORE);
    }

    @Test
    void contextWordsRaiseWeakShapes() {
        assertThat(DEFAULT.find("ref 123456789")).isEmpty();
        assertThat(DEFAULT.find("social security 123456789")).extracting(Finding::detector).containsExactly(Detector.SSN);
        assertThat(DEFAULT.find("ref 5552345678")).isEmpty();
    }

    @Test
    void settingsChooseDetectorsThresholdsAndMrnPatterns() {
        Detectors onlyEmail = Detectors.create(new DetectorSettings(EnumSet.of(Detector.EMAIL), 0.5, Map.of(), List.of()));
        assertThat(onlyEmail.scrub("a@b.org 123-45-6789")).isEqualTo("[EMAIL] 123-45-6789");

        Detectors zipAlways = Detectors.create(DetectorSettings.defaults().withMinScore(Detector.ZIP, 0.3));
        assertThat(zipAlways.scrub("room 02134")).isEqualTo("room [ZIP]");

        Detectors strict = Detectors.create(new DetectorSettings(EnumSet.allOf(Detector.class), 0.9, Map.of(), List.of()));
        assertThat(strict.scrub("x 999-12-3456 y 4111111111111111")).isEqualTo("x 999-12-3456 y [ACCOUNT]");

        Detectors mrn = Detectors.create(DetectorSettings.defaults()
                .withMrnPatterns(List.of(Pattern.compile("\\bMRN\\d{7}\\b"), Pattern.compile("(?<!\\d)\\d{8}(?!\\d)"))));
        assertThat(mrn.scrub("chart MRN0012345 and 00123456")).isEqualTo("chart [MRN] and [MRN]");
        assertThat(DEFAULT.scrub("chart MRN0012345")).isEqualTo("chart MRN0012345");
    }

    @Test
    void findsIdentifiersAtTheEdgesOfLongText() {
        String prose = "Patient reports mild headache and no fever. ".repeat(50);
        assertThat(DEFAULT.scrub("GB82 WEST 1234 5698 7654 32 " + prose + "2001:db8:85a3::8a2e:370:7334"))
                .isEqualTo("[ACCOUNT] " + prose + "[IP]");
        assertThat(DEFAULT.scrub(prose + "ssn 123-45-6789")).isEqualTo(prose + "ssn [SSN]");
        assertThat(DEFAULT.scrub("DEA AB1234563 " + prose)).isEqualTo("DEA [LICENSE] " + prose);
    }

    @Test
    void overlappingFindingsAreScrubbedAsOneSpan() {
        assertThat(DEFAULT.scrub("https://x.org/p?ssn=123-45-6789 done")).isEqualTo("[SSN] done");
    }

    @Test
    void settingsValidateScores() {
        assertThatThrownBy(() -> new DetectorSettings(EnumSet.allOf(Detector.class), 1.5, Map.of(), List.of()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DetectorSettings.defaults().withMinScore(Detector.SSN, Double.NaN))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * After code changed client_encoding to GB18030 the server sent {@code SSN À123-45-6789} as {@code 53 53 4e 20 81
     * 30 86 38 31 ...}: as UTF-8, the 8 closing the four-byte character is glued to the SSN; a GB18030 client sees the
     * SSN on its own (decision 0074). In SJIS the bytes {@code e4 b8 81 41} are valid UTF-8 ({@code 丁A}), yet the A
     * closes a two-byte character there.
     */
    @Test
    void anAsciiCharacterRightAfterOneBeyondAsciiIsAlsoReadAsPartOfIt() {
        byte[] gb18030 = java.util.HexFormat.of().parseHex("53534e20813086383132332d34352d36373839206f6e2066696c65");
        assertThat(new String(gb18030, java.nio.charset.Charset.forName("GB18030"))).contains("123-45-6789");
        byte[] scrubbed = DEFAULT.scrubUtf8(gb18030);
        assertThat(new String(scrubbed, StandardCharsets.UTF_8)).doesNotContain("123-45-6789").contains("[SSN]");
        assertThat(new String(scrubbed, java.nio.charset.Charset.forName("GB18030"))).doesNotContain("123-45-6789");
        assertThat(DEFAULT.scrub("SSN \u4e01A123-45-6789 on file")).isEqualTo("SSN \u4e01A[SSN] on file");
        assertThat(DEFAULT.scrub("mail \u00e9x@example.org")).contains("[EMAIL]");
        // ASCII glued to ASCII reads the same in every encoding, and plain text with accents is left as it was.
        assertThat(DEFAULT.scrub("SSN A123-45-6789 on file")).isEqualTo("SSN A123-45-6789 on file");
        String accents = "Jos\u00e9 Garc\u00eda, Zo\u00eb";
        assertThat(DEFAULT.scrub(accents)).isSameAs(accents);
        assertThat(Detectors.asAsciiTrailBytesMayRead("plain ascii 123")).isNull();
    }

    /**
     * In JOHAB a symbol's second byte may be any of {@code 0x31-0x7E}, punctuation too: {@code ø} is {@code dd 3a},
     * whose second byte is the colon. Glued before an IPv6 address, read as UTF-8 that is a colon right before it,
     * which the address pattern's boundary refuses, where a JOHAB client sees the address on its own. Every ASCII
     * byte that can close a multi-byte character in some client encoding is read both ways, not only letters and
     * digits.
     */
    @Test
    void aPunctuationTrailByteGluedBeforeAnAddressIsAlsoReadAsPartOfACharacter() {
        String address = "2001:db8:85a3::8a2e:370:7334";
        assertThat(DEFAULT.scrub("host " + address + " seen")).doesNotContain(address);
        byte[] johab = ("host \u00f8" + address + " seen").getBytes(java.nio.charset.Charset.forName("x-Johab"));
        assertThat(johab).containsSubsequence((byte) 0xdd, (byte) 0x3a, (byte) '2');
        byte[] scrubbed = DEFAULT.scrubUtf8(johab);
        assertThat(new String(scrubbed, StandardCharsets.UTF_8)).doesNotContain(address);
        assertThat(new String(scrubbed, java.nio.charset.Charset.forName("x-Johab"))).doesNotContain(address);
    }
}
