package io.phigate.mongo.masking;

import io.phigate.mask.DocumentCatalog;
import io.phigate.mask.PhiType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * Which field paths of a stream of documents hold PHI, as a tree: a node with a {@code tag} holds PHI of that type
 * in everything beneath it (a tagged sub-document is PHI through and through, its keys too); {@code children} lead
 * to tagged paths further down. A path reaches through arrays as the server's paths do, so a tree says the same of
 * a document and of an array of such documents (what {@code $unwind} and {@code $push} change). Immutable; a tree
 * that tags more than the documents hold is always safe (the extra tags mask nothing), so where a stage's effect is
 * uncertain the analysis keeps the larger tree.
 */
public record FieldTags(PhiType tag, Map<String, FieldTags> children) {
    public static final FieldTags EMPTY = new FieldTags(null, Map.of());

    public FieldTags {
        children = Map.copyOf(children);
    }

    static FieldTags leaf(PhiType type) {
        return type == null ? EMPTY : new FieldTags(type, Map.of());
    }

    /** The tree of a collection's declared (normalised) paths. */
    public static FieldTags of(Map<String, PhiType> paths) {
        FieldTags t = EMPTY;
        for (var e : paths.entrySet()) {
            t = t.with(e.getKey(), leaf(e.getValue()));
        }
        return t;
    }

    public boolean isEmpty() {
        return tag == null && children.isEmpty();
    }

    /** What the value at {@code path} holds: the subtree there, or all of it tagged when an ancestor is. */
    public FieldTags at(String path) {
        FieldTags node = this;
        for (String part : DocumentCatalog.parts(path)) {
            if (node.tag != null) {
                return leaf(node.tag);
            }
            if (part.equals("$") || part.chars().allMatch(Character::isDigit)) {
                continue; // a positional or indexed part reaches an element, tagged as every element is
            }
            node = node.children.get(part);
            if (node == null) {
                return EMPTY;
            }
        }
        return node;
    }

    /**
     * This tree with the value at {@code path} replaced by one tagged {@code value}. Under a tagged ancestor nothing
     * changes: what is written inside PHI stays inside PHI.
     */
    public FieldTags with(String path, FieldTags value) {
        return with(DocumentCatalog.parts(path), 0, value);
    }

    private FieldTags with(java.util.List<String> parts, int i, FieldTags value) {
        if (i == parts.size()) {
            return value;
        }
        if (tag != null) {
            return this;
        }
        String part = parts.get(i);
        if (part.equals("$") || part.chars().allMatch(Character::isDigit)) {
            // One element written: the others keep their tags, so the new value's are added to them.
            return merge(with(parts, i + 1, value));
        }
        Map<String, FieldTags> next = new LinkedHashMap<>(children);
        FieldTags child = children.getOrDefault(part, EMPTY).with(parts, i + 1, value);
        if (child.isEmpty()) {
            next.remove(part);
        } else {
            next.put(part, child);
        }
        return new FieldTags(null, next);
    }

    /** Both trees' tags; where both tag a path, the stronger type. */
    public FieldTags merge(FieldTags other) {
        if (other.isEmpty()) {
            return this;
        }
        if (isEmpty()) {
            return other;
        }
        if (tag != null || other.tag != null) {
            return leaf(PhiType.strongest(strongest(t -> true), other.strongest(t -> true)));
        }
        Map<String, FieldTags> next = new LinkedHashMap<>(children);
        other.children.forEach((k, v) -> next.merge(k, v, FieldTags::merge));
        return new FieldTags(null, next);
    }

    /** The strongest type anywhere in the tree that {@code counts}, or null. */
    public PhiType strongest(Predicate<PhiType> counts) {
        if (tag != null) {
            return counts.test(tag) ? tag : null;
        }
        PhiType s = null;
        for (FieldTags c : children.values()) {
            s = PhiType.strongest(s, c.strongest(counts));
        }
        return s;
    }

    /**
     * The strongest type that {@code counts} which a condition on {@code path} reads: tagged at the path, above it
     * or anywhere beneath it (a comparison of {@code address} reads {@code address.street}).
     */
    public PhiType overlapping(String path, Predicate<PhiType> counts) {
        return at(path).strongest(counts);
    }

    /** Every tagged path with its type, sorted, for the records. */
    public Map<String, PhiType> flatten() {
        Map<String, PhiType> out = new TreeMap<>();
        flatten("", out);
        return out;
    }

    private void flatten(String prefix, Map<String, PhiType> out) {
        if (tag != null) {
            out.put(prefix.isEmpty() ? "$$ROOT" : prefix, tag);
            return;
        }
        children.forEach((k, v) -> v.flatten(prefix.isEmpty() ? k : prefix + "." + k, out));
    }

    @Override
    public String toString() {
        return flatten().toString();
    }
}
