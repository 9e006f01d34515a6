package io.phigate.mask;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** Messages as PostgreSQL 15 words them, with values taken from the data or from the client's own statement. */
class EchoedValuesTest {
    private static final String W = EchoedValues.WITHHELD;

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        // a value read as a name: quoted, or unquoted after a colon
        "relation \"treutel\" does not exist                        | relation \"" + W + "\" does not exist",
        "schema \"\"Treutel\"\" does not exist                      | schema \"" + W + "\" does not exist",
        "time zone \"\" x Treutel\" not recognized                  | time zone \"" + W + "\" not recognized",
        "cross-database references are not implemented: treutel.a.b | cross-database references are not implemented: " + W,
        "\"8\" is not a valid binary digit                           | \"" + W + "\" is not a valid binary digit",
        "syntax error at or near \"@\"                              | syntax error at or near \"" + W + "\"",
        "invalid input syntax for type integer: \"618-36-9927\"     | invalid input syntax for type integer: \"" + W + "\"",
        // numbers computed from a value
        "bit string length 54 does not match type bit(3)            | bit string length " + W + " does not match type bit(" + W + ")",
        "date field value out of range: 0-01-54                     | date field value out of range: " + W + "-" + W + "-" + W,
        // the server's own words and type names stay
        "operator does not exist: text = integer                    | operator does not exist: text = integer",
        "division by zero                                           | division by zero",
        "Key (ssn)=([withheld by phigate]) already exists.          | Key (ssn)=([withheld by phigate]) already exists.",
    })
    void valuesTheClientDidNotSendAreWithheld(String message, String expected) {
        assertThat(EchoedValues.withhold(message, Set.of("a", "b", "ssn")::contains)).isEqualTo(expected);
    }

    @Test
    void whatTheClientSentComesBack() {
        java.util.function.Predicate<String> known = Set.of("patiens", "abc", "3", "@")::contains;
        assertThat(EchoedValues.withhold("relation \"patiens\" does not exist", known))
                .isEqualTo("relation \"patiens\" does not exist");
        assertThat(EchoedValues.withhold("invalid input syntax for type integer: \"ABC\"", known))
                .isEqualTo("invalid input syntax for type integer: \"ABC\"");
        assertThat(EchoedValues.withhold("bit string length 3 does not match type bit(3)", known))
                .isEqualTo("bit string length 3 does not match type bit(3)");
        assertThat(EchoedValues.withhold("syntax error at or near \"@\"", known)).isEqualTo("syntax error at or near \"@\"");
    }

    @Test
    void aMessageNoTemplateReadsIsJudgedWordByWord() {
        MessageTemplates templates = MessageTemplates.of(List.of("relation \"%s\" does not exist"));
        String out = EchoedValues.withhold("relation missing: \"Treutel\" near Smith 123 and \"b\" \"x\" y\"",
                Set.of("b")::contains, templates);
        assertThat(out).isEqualTo("relation " + W + ": \"" + W + "\" " + W + " " + W + " " + W + " " + W
                + " \"b\" \"" + W + "\" " + W + "\"" + W);
        assertThat(out).doesNotContain("Treutel", "Smith", "123", "missing", "near");
    }

    @Test
    void theMostSpecificTemplateReadsTheMessage() {
        MessageTemplates templates = MessageTemplates.of(List.of("%s: %s", "could not open file \"%s\": %m"));
        assertThat(EchoedValues.withhold("could not open file \"x\": No such file or directory", w -> false, templates))
                .isEqualTo("could not open file \"" + W + "\": No such file or directory");
        assertThat(EchoedValues.withhold("smith: jones", w -> false, templates)).isEqualTo(W + ": " + W);
    }
}
