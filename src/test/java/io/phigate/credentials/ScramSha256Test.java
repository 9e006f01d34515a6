package io.phigate.credentials;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.GeneralSecurityException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScramSha256Test {
    // RFC 7677 section 3.
    private static final String CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
    private static final String SERVER_FIRST =
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    private static final String CLIENT_FINAL = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    private static final String SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    /** PostgreSQL's preparation with a fixed nonce and a user name, so the RFC's vector applies. */
    private static ScramSha256 postgres(String user, String password) {
        return new ScramSha256(user, password, ScramSha256.Preparation.POSTGRESQL, CLIENT_NONCE);
    }

    private static ScramSha256 mongo(String user, String password) {
        return new ScramSha256(user, password, ScramSha256.Preparation.SASL, CLIENT_NONCE);
    }

    @Test
    void rfc7677TestVectorProducesTheExpectedProofAndAcceptsTheServerSignature() throws GeneralSecurityException {
        ScramSha256 scram = postgres("user", "pencil");

        assertThat(scram.clientFirstMessage()).isEqualTo("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        assertThat(scram.clientFinalMessage(SERVER_FIRST)).isEqualTo(CLIENT_FINAL);
        scram.verifyServerFinal(SERVER_FINAL);
    }

    @Test
    void postgresExchangeSendsThePlaceholderUserNameThatPostgresIgnores() throws GeneralSecurityException {
        // The server takes the user from the startup message; pgjdbc sends "*" too.
        assertThat(postgres(ScramSha256.IGNORED_USER, "pencil").clientFirstMessage())
                .isEqualTo("n,,n=*,r=rOprNGfwEbeRWgbNEkqO");
        assertThat(ScramSha256.postgres("pencil").clientFirstMessage()).startsWith("n,,n=*,r=");
    }

    @Test
    void mongoExchangeSendsTheRealUserNameAndMeetsTheSameVector() throws GeneralSecurityException {
        // MongoDB checks the user named in the exchange; with an ASCII password its preparation changes nothing.
        assertThat(ScramSha256.mongo("gateway", "pencil").clientFirstMessage()).startsWith("n,,n=gateway,r=");
        ScramSha256 scram = mongo("user", "pencil");
        assertThat(scram.clientFirstMessage()).isEqualTo("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        assertThat(scram.clientFinalMessage(SERVER_FIRST)).isEqualTo(CLIENT_FINAL);
        scram.verifyServerFinal(SERVER_FINAL);
    }

    @Test
    void mongoPreparationFoldsAsSaslprepAndRefusesWhatSaslprepProhibits() throws GeneralSecurityException {
        // MongoDB's drivers prepare the SCRAM-SHA-256 password with SASLprep for stored strings and no fallback.
        assertThat(mongo("user", "\u2168").clientFinalMessage(SERVER_FIRST))
                .isEqualTo(mongo("user", "IX").clientFinalMessage(SERVER_FIRST));
        assertThatThrownBy(() -> mongo("user", "pass\u0007word").clientFinalMessage(SERVER_FIRST))
                .isInstanceOf(GeneralSecurityException.class);
    }

    @Test
    void userNameIsEscapedSoItCannotAddAttributes() throws GeneralSecurityException {
        assertThat(postgres("a,r=b=", "pencil").clientFirstMessage())
                .isEqualTo("n,,n=a=2Cr=3Db=3D,r=rOprNGfwEbeRWgbNEkqO");
    }

    @Test
    void clientNoncesAreFreshPerExchange() throws GeneralSecurityException {
        assertThat(ScramSha256.postgres("pw").clientFirstMessage()).isNotEqualTo(ScramSha256.postgres("pw").clientFirstMessage());
    }

    @Test
    void nonAsciiPasswordsArePreparedWithSaslprepAsPostgresPreparesThem() throws GeneralSecurityException {
        // RFC 4013: a soft hyphen maps to nothing and NFKC folds ROMAN NUMERAL NINE to "IX", so all three are one
        // password to PostgreSQL, which stores the verifier of the prepared text.
        String ascii = finalMessageFor("IX");
        assertThat(finalMessageFor("I\u00ADX")).isEqualTo(ascii);
        assertThat(finalMessageFor("\u2168")).isEqualTo(ascii);
        assertThat(finalMessageFor("IY")).isNotEqualTo(ascii);
    }

    @Test
    void aPasswordSaslprepRefusesIsUsedAsItIsAsPostgresDoes() throws GeneralSecurityException {
        // A control character is prohibited by SASLprep; PostgreSQL then hashes the raw bytes, and so must we.
        assertThat(finalMessageFor("pass\u0007word")).isNotEqualTo(finalMessageFor("password"));
    }

    private static String finalMessageFor(String password) throws GeneralSecurityException {
        ScramSha256 scram = postgres("user", password);
        return scram.clientFinalMessage(SERVER_FIRST);
    }

    @Test
    void theKeysAreDerivedOncePerPasswordAndSaltAndTheNextLoginStillMeetsTheVector() throws GeneralSecurityException {
        String password = "pencil-" + System.nanoTime();
        long before = ScramKeys.derivations();
        String first = postgres("user", password).clientFinalMessage(SERVER_FIRST);
        ScramSha256 again = postgres("user", password);
        assertThat(again.clientFinalMessage(SERVER_FIRST)).isEqualTo(first);
        assertThat(ScramKeys.derivations() - before).as("the second login found the keys kept").isEqualTo(1);

        String otherSalt = SERVER_FIRST.replace("s=W22ZaJ0SNY7soEsUEjb6gQ==", "s=AAAAAAAAAAAAAAAAAAAAAA==");
        assertThat(postgres("user", password).clientFinalMessage(otherSalt)).isNotEqualTo(first);
        assertThat(postgres("user", password + "x").clientFinalMessage(SERVER_FIRST)).isNotEqualTo(first);
        assertThat(ScramKeys.derivations() - before).as("another salt, another password: derived anew").isEqualTo(3);

        for (int i = 0; i < 2; i++) { // derived, then kept: the RFC's proof and server signature both times
            ScramSha256 scram = postgres("user", "pencil");
            assertThat(scram.clientFinalMessage(SERVER_FIRST)).isEqualTo(CLIENT_FINAL);
            scram.verifyServerFinal(SERVER_FINAL);
        }
    }

    @Test
    void wrongServerSignatureIsRejected() throws GeneralSecurityException {
        ScramSha256 scram = postgres("user", "pencil");
        scram.clientFinalMessage(SERVER_FIRST);

        assertThatThrownBy(() -> scram.verifyServerFinal("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))
                .isInstanceOf(GeneralSecurityException.class)
                .hasMessageContaining("signature does not match");
    }

    @Test
    void serverSignatureForAnotherPasswordIsRejected() throws GeneralSecurityException {
        ScramSha256 scram = postgres("user", "not-pencil");

        assertThat(scram.clientFinalMessage(SERVER_FIRST)).isNotEqualTo(CLIENT_FINAL);
        assertThatThrownBy(() -> scram.verifyServerFinal(SERVER_FINAL))
                .isInstanceOf(GeneralSecurityException.class);
    }

    @Test
    void serverNonceThatDoesNotExtendTheClientNonceIsRejected() {
        ScramSha256 scram = postgres("user", "pencil");

        assertThatThrownBy(() -> scram.clientFinalMessage(
                "r=somebodyElsesNonce%hvYDpWUa2RaTCAfuxFIlj,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"))
                .isInstanceOf(GeneralSecurityException.class)
                .message().containsIgnoringCase("nonce");
    }

    @Test
    void serverNonceEqualToTheClientNonceIsRejected() {
        ScramSha256 scram = postgres("user", "pencil");

        assertThatThrownBy(() -> scram.clientFinalMessage(
                "r=" + CLIENT_NONCE + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"))
                .isInstanceOf(GeneralSecurityException.class)
                .message().containsIgnoringCase("nonce");
    }

    @Test
    void iterationCountOutOfRangeIsRejected() {
        ScramSha256 scram = postgres("user", "pencil");

        assertThatThrownBy(() -> scram.clientFinalMessage(SERVER_FIRST.replace("i=4096", "i=0")))
                .isInstanceOf(GeneralSecurityException.class)
                .hasMessageContaining("iteration");
    }

    @Test
    void serverErrorSurfacesInTheException() throws GeneralSecurityException {
        ScramSha256 scram = postgres("user", "pencil");
        scram.clientFinalMessage(SERVER_FIRST);

        assertThatThrownBy(() -> scram.verifyServerFinal("e=invalid-proof"))
                .isInstanceOf(GeneralSecurityException.class)
                .hasMessageContaining("invalid-proof");
    }

    @Test
    void serverFirstMessageWithoutSaltIsRejected() {
        ScramSha256 scram = postgres("user", "pencil");

        assertThatThrownBy(() -> scram.clientFinalMessage(
                "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,i=4096"))
                .isInstanceOf(GeneralSecurityException.class)
                .message().contains("salt");
    }

    /*
     * UpstreamConnection.open maps only IOException and GeneralSecurityException to an UpstreamException and
     * closes the socket; anything else escapes with the socket left open. So a hostile or broken server must only
     * ever cause a GeneralSecurityException here.
     */
    @ParameterizedTest
    @ValueSource(strings = {
            "r=rOprNGfwEbeRWgbNEkqO%hvY,s=not base64!,i=4096",
            "r=rOprNGfwEbeRWgbNEkqO%hvY,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=many",
            "r=rOprNGfwEbeRWgbNEkqO%hvY,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999",
            ""})
    void malformedServerFirstMessageIsASecurityExceptionOnly(String serverFirst) {
        ScramSha256 scram = postgres("user", "pencil");

        assertThatThrownBy(() -> scram.clientFinalMessage(serverFirst)).isInstanceOf(GeneralSecurityException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"v=not base64!", "v=", "x=1", ""})
    void malformedServerFinalMessageIsASecurityExceptionOnly(String serverFinal) throws GeneralSecurityException {
        ScramSha256 scram = postgres("user", "pencil");
        scram.clientFinalMessage(SERVER_FIRST);

        assertThatThrownBy(() -> scram.verifyServerFinal(serverFinal)).isInstanceOf(GeneralSecurityException.class);
    }

    @Test
    void serverFinalBeforeServerFirstIsRejected() {
        // A server that skips SASLContinue must not crash the client with a NullPointerException.
        ScramSha256 scram = postgres("user", "pencil");

        assertThatThrownBy(() -> scram.verifyServerFinal(SERVER_FINAL)).isInstanceOf(GeneralSecurityException.class);
    }

    @Test
    void emptyPasswordIsASecurityExceptionOnly() {
        // HMAC refuses an empty key with IllegalArgumentException; PostgreSQL never accepts an empty password.
        ScramSha256 scram = postgres("user", "");

        assertThatThrownBy(() -> scram.clientFinalMessage(SERVER_FIRST)).isInstanceOf(GeneralSecurityException.class);
    }
}
