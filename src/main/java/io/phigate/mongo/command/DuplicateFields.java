package io.phigate.mongo.command;

import java.util.HashSet;
import java.util.Set;
import org.bson.BsonBinaryReader;
import org.bson.BsonType;
import org.bson.RawBsonDocument;

/**
 * Finds a field name repeated within one document at any depth of a command. The analysis reads documents through
 * maps, where a repeated name is one entry, while the server's query parser applies every occurrence
 * ({@code {ssn: "1", ssn: {$regex: "^1"}}} is two conditions) and its command parsers refuse most repeats; a command
 * with one is refused by {@link CommandReader}, PHI declared or not, so neither the masking nor the rules (which read
 * a bulkWrite's filter through a map) ever judge a different command from the one the server runs. Read from the bytes, since
 * {@code RawBsonDocument}'s own views hide repeats (decision 0042). Pure.
 */
public final class DuplicateFields {
    private DuplicateFields() {
    }

    /** The first repeated name, or null when there is none. */
    public static String in(RawBsonDocument document) {
        try (BsonBinaryReader reader = new BsonBinaryReader(document.getByteBuffer().asNIO().slice())) {
            return document(reader);
        }
    }

    private static String document(BsonBinaryReader reader) {
        reader.readStartDocument();
        Set<String> seen = new HashSet<>();
        while (reader.readBsonType() != BsonType.END_OF_DOCUMENT) {
            String name = reader.readName();
            if (!seen.add(name)) {
                return name;
            }
            String found = value(reader);
            if (found != null) {
                return found;
            }
        }
        reader.readEndDocument();
        return null;
    }

    private static String value(BsonBinaryReader reader) {
        return switch (reader.getCurrentBsonType()) {
            case DOCUMENT -> document(reader);
            case ARRAY -> {
                reader.readStartArray();
                while (reader.readBsonType() != BsonType.END_OF_DOCUMENT) {
                    String found = value(reader);
                    if (found != null) {
                        yield found;
                    }
                }
                reader.readEndArray();
                yield null;
            }
            default -> {
                reader.skipValue();
                yield null;
            }
        };
    }
}
