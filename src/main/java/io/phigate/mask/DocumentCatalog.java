package io.phigate.mask;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The PHI declared for one document store: per collection ({@code db.collection}), the field paths that hold PHI and
 * their types. A path is dotted ({@code address.street}) and reaches into arrays as the server's own paths do: a
 * path through an array applies to every element ({@code contacts.phone} tags the phone of each contact), so the
 * spellings {@code contacts.$.phone} and {@code contacts[].phone} mean the same and are kept in that one form.
 * Immutable.
 */
public record DocumentCatalog(Map<String, Map<String, PhiType>> collections) {
    public static final DocumentCatalog EMPTY = new DocumentCatalog(Map.of());

    public DocumentCatalog {
        Map<String, Map<String, PhiType>> copy = new LinkedHashMap<>();
        collections.forEach((namespace, paths) -> {
            Map<String, PhiType> normal = new LinkedHashMap<>();
            paths.forEach((path, type) -> normal.merge(normalise(path).orElseThrow(() ->
                    new IllegalArgumentException("not a field path: " + path)), type, PhiType::strongest));
            copy.put(namespace, Map.copyOf(normal));
        });
        collections = Map.copyOf(copy);
    }

    /** The tagged paths of {@code namespace}; empty when it declares none. */
    public Map<String, PhiType> paths(String namespace) {
        Map<String, PhiType> p = collections.get(namespace);
        return p == null ? Map.of() : p;
    }

    public boolean declaresNothing() {
        return collections.values().stream().allMatch(Map::isEmpty);
    }

    /**
     * The path in its one form ({@code contacts.phone}), or empty when it is not a field path: an empty part, a part
     * starting with {@code $} other than the array marker, a numeric part (an array index names one element, which
     * a policy must not do: every element is tagged alike).
     */
    public static Optional<String> normalise(String path) {
        if (path == null || path.isEmpty()) {
            return Optional.empty();
        }
        StringBuilder out = new StringBuilder();
        for (String part : path.replace("[]", ".$").split("\\.", -1)) {
            if (part.equals("$")) {
                continue;
            }
            if (part.isEmpty() || part.startsWith("$") || part.chars().allMatch(Character::isDigit)) {
                return Optional.empty();
            }
            out.append(out.isEmpty() ? "" : ".").append(part);
        }
        return out.isEmpty() ? Optional.empty() : Optional.of(out.toString());
    }

    /** The parts of a normalised path. */
    public static List<String> parts(String path) {
        return List.of(path.split("\\."));
    }
}
