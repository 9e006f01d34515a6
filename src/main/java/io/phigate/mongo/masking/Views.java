package io.phigate.mongo.masking;

import io.phigate.mask.DocumentCatalog;
import io.phigate.mask.PhiType;
import io.phigate.mongo.command.Command;
import java.util.List;
import java.util.Set;
import org.bson.BsonDocument;
import org.bson.BsonValue;

/**
 * A view runs its pipeline for whoever reads it, under a name the policy does not tag (the catalog tags names, not
 * data), so a view is created only when nothing it can return or read is tagged: its source collection, and every
 * collection its pipeline looks up or unions, judged as if every type were masked. Pure.
 */
final class Views {
    private Views() {
    }

    /** Why {@code create} of a view is refused, or null when it may be created. */
    static String refusal(Command command, BsonDocument body, DocumentCatalog catalog, String role) {
        String db = command.database();
        Scope everyone = new Scope(db, name -> FieldTags.of(catalog.paths(db + "." + name)), t -> true, Set.of(),
                role);
        if (!(body.get("viewOn") instanceof BsonValue on) || !on.isString()) {
            return "a view needs viewOn as a collection name; refused while the store declares PHI";
        }
        String source = on.asString().getValue();
        try {
            FieldTags in = everyone.readable(source);
            everyone.read(source, in);
            BsonValue pipeline = body.get("pipeline");
            List<BsonDocument> stages = pipeline == null ? List.of() : Pipelines.stages("a view's pipeline", pipeline);
            PhiType shown = Pipelines.output(stages, in, source, everyone).strongest(t -> true);
            if (shown == null && everyone.phiFields().isEmpty()) {
                return null;
            }
            String type = shown != null ? shown.policyName()
                    : everyone.phiFields().values().iterator().next().replaceAll(".*:", "");
            return "a view on " + source + " would show or read PHI (" + type + ") under a name the policy does not"
                    + " tag; refused";
        } catch (Refused e) {
            return "a view on " + source + " is refused: " + e.getMessage();
        }
    }
}
