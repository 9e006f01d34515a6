package io.phigate.mongo.masking;

import static org.assertj.core.api.Assertions.assertThat;

import io.phigate.mask.PhiType;
import java.util.List;
import org.bson.BsonDocument;
import org.junit.jupiter.api.Test;

/**
 * A unique index over several masked fields answers, when a write fails on it, for the whole key: every path of it
 * is a key of the strongest type the index holds that the role may not look up, not of its own type (the closing
 * attacker's review of decision 0096 found each path carrying its own, so a refusal named the weaker type).
 */
class UniqueMaskedKeysTest {
    private static final List<BsonDocument> COMPOUND = List.of(
            BsonDocument.parse("{v: 2, key: {_id: 1}, name: '_id_'}"),
            BsonDocument.parse("{v: 2, key: {'name.given': 1, ssn: 1}, name: 'given_ssn', unique: true}"));

    @Test
    void everyPathOfACompoundKeyAnswersForTheStrongestTypeItHolds() {
        PhiType strongest = PhiType.strongest(PhiType.SSN, PhiType.NAME);
        assertThat(MaskingProbesTest.masking("analyst").uniqueMaskedKeys("clinic", "patients", COMPOUND))
                .containsEntry("ssn", strongest).containsEntry("name.given", strongest).hasSize(2);
    }

    @Test
    void aTypeTheRoleMayLookUpDoesNotMakeAKeyOfItsOwn() {
        assertThat(MaskingProbesTest.masking("lookup").uniqueMaskedKeys("clinic", "patients", COMPOUND))
                .containsEntry("ssn", PhiType.NAME).containsEntry("name.given", PhiType.NAME).hasSize(2);
    }
}
