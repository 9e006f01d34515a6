package io.phigate.mongo.masking;

import io.phigate.mask.PhiType;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * What the analysis of one command knows of its session and gathers for its record.
 *
 * @param database    the command's {@code $db}, where {@code $lookup} and {@code $unionWith} look
 * @param collections the tags of a collection of that database, by name
 * @param masked      whether this session sees a PHI type masked (conditions over it are a channel)
 * @param lookups     the types the role may look up by equality ({@code roles[].lookup})
 * @param role        the role's name, null when the policy defines none
 * @param phiFields   filled as the analysis goes: {@code db.collection.path} to its type, or {@code lookup:TYPE}
 *                    for a field used only in a lookup by equality; what the request record's {@code phi_columns}
 *                    keeps, so an auditor finds commands by PHI field
 */
record Scope(String database, Function<String, FieldTags> collections, Predicate<PhiType> masked,
             Set<PhiType> lookups, String role, Map<String, String> phiFields) {
    Scope(String database, Function<String, FieldTags> collections, Predicate<PhiType> masked, Set<PhiType> lookups,
          String role) {
        this(database, collections, masked, lookups, role, new TreeMap<>());
    }

    FieldTags collection(String name) {
        return collections.apply(name);
    }

    /**
     * The tags of a collection the command reads, refused where the catalog cannot speak for its contents while
     * this session sees some PHI masked: {@code system.*} collections (the profiler keeps other sessions' commands
     * with their values, {@code system.js} holds server code) and the {@code local} and {@code config} databases
     * (the oplog and change-stream pre-images hold whole documents of every collection).
     */
    FieldTags readable(String name) throws Refused {
        if (name.indexOf('\0') >= 0) {
            throw new Refused("a collection name holding a NUL byte, which a reader of C strings would end there;"
                    + " refused");
        }
        if (masksSome()) {
            if (name.startsWith("system.")) {
                throw new Refused(database + "." + name + " holds copies of documents or commands the PHI catalog"
                        + " cannot tag; refused while this session sees PHI masked");
            }
            if (database.equals("local") || database.equals("config")) {
                throw new Refused("the " + database + " database holds copies of every collection's documents (the"
                        + " oplog, pre-images), which the PHI catalog cannot tag; refused while this session sees"
                        + " PHI masked");
            }
        }
        return collections.apply(name);
    }

    boolean masksSome() {
        return java.util.Arrays.stream(PhiType.values()).anyMatch(masked);
    }

    void read(String collection, FieldTags tags) {
        tags.flatten().forEach((path, type) -> phiFields.putIfAbsent(database + "." + collection + "." + path,
                type.policyName()));
    }

    /** A lookup or join by equality let through, added to the field's entry as the SQL side's records do. */
    void noteLookup(String collection, String path, String lookup) {
        phiFields.merge(database + "." + collection + "." + path, lookup, (a, b) -> a.contains(b) ? a : a + "," + b);
    }

    String lookupKey(PhiType type) {
        return (role == null ? "roles[].lookup (the policy defines no roles)" : "roles[" + role + "].lookup")
                + ": [" + type.policyName() + "]";
    }
}
