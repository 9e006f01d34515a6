package io.phigate.config;

import io.phigate.mask.DocumentCatalog;
import io.phigate.mask.PhiType;
import io.phigate.mask.SecretRef;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The {@code documents} section: the document stores by name, each with its PHI fields, TLS and login. */
final class DocumentStoreLoader {
    static final List<String> DOCUMENTS_KEYS = List.of("upstreams", "default_upstream");
    private static final List<String> DOCUMENT_UPSTREAM_KEYS = List.of("address", "collections", "tls", "credentials");
    private static final List<String> DOCUMENT_CREDENTIALS_KEYS = List.of("user", "password_env", "password_file",
            "source");
    private static final int MONGO_PORT = 27017;

    private final Problems problems;
    private final Path baseDir;

    DocumentStoreLoader(Problems problems, Path baseDir) {
        this.problems = problems;
        this.baseDir = baseDir;
    }

    /** The document stores by name; {@code default_upstream} may be left out when there is only one. */
    DocumentsConfig documents(Section s) {
        if (s == null) {
            return null;
        }
        YamlNode node = s.node("upstreams");
        if (node == null) {
            s.missing("upstreams");
            return null;
        }
        if (!(node instanceof YamlNode.Mapping mapping) || mapping.entries().isEmpty()) {
            s.problem("upstreams", "expected a mapping of document store name to settings (at least one), got "
                    + YamlNode.describe(node));
            return null;
        }
        Map<String, HostPort> upstreams = new LinkedHashMap<>();
        Map<String, DocumentCatalog> catalogs = new LinkedHashMap<>();
        Map<String, UpstreamTlsConfig> tls = new LinkedHashMap<>();
        Map<String, DocumentsConfig.Credentials> credentials = new LinkedHashMap<>();
        boolean complete = true;
        for (YamlNode.Entry entry : mapping.entries().values()) {
            String path = s.pathOf("upstreams") + "." + entry.key();
            Section u = entry.key().isBlank() ? null
                    : Section.open(entry.value(), path, entry.keyLine(), problems, baseDir, DOCUMENT_UPSTREAM_KEYS);
            HostPort address = u == null ? null : u.scalar("address", true, null, "host:port",
                    text -> Units.hostPort(text, false, MONGO_PORT));
            if (entry.key().isBlank()) {
                problems.add(entry.keyLine(), path, "a document store name must not be empty");
            }
            DocumentCatalog catalog = u == null ? null : collections(u);
            Section login = u == null ? null : u.section("credentials", false, DOCUMENT_CREDENTIALS_KEYS);
            DocumentsConfig.Credentials credential = login == null ? null : documentCredentials(login);
            if (address == null || catalog == null || login != null && credential == null) {
                complete = false;
            } else {
                upstreams.put(entry.key(), address);
                catalogs.put(entry.key(), catalog);
                // The PostgreSQL upstream's shape and checks: verify-full needs the CA that signed the store's cert.
                tls.put(entry.key(), UpstreamLoader.tls(u.section("tls", false, UpstreamLoader.UPSTREAM_TLS_KEYS)));
                if (credential != null) {
                    credentials.put(entry.key(), credential);
                }
            }
        }
        String only = mapping.entries().size() == 1 ? mapping.entries().keySet().iterator().next() : null;
        String chosen = s.string("default_upstream", only == null, only);
        if (chosen != null && !mapping.entries().containsKey(chosen)) {
            s.problem("default_upstream", "no document store named " + YamlNode.quote(chosen) + " under upstreams"
                    + " (known: " + String.join(", ", mapping.entries().keySet()) + ")");
            return null;
        }
        return complete && chosen != null ? new DocumentsConfig(upstreams, chosen, catalogs, tls, credentials)
                : null;
    }

    /**
     * The gateway's own login to a document store: a PostgreSQL upstream's user and secret, and the database the
     * user is defined in ({@code source}, {@code admin} unless said); null after a problem.
     */
    private DocumentsConfig.Credentials documentCredentials(Section s) {
        String user = s.string("user", true, null);
        SecretRef password = s.password();
        String source = s.string("source", false, DocumentsConfig.DEFAULT_SOURCE);
        return user == null || password == null || source == null ? null
                : new DocumentsConfig.Credentials(user, password, source);
    }

    /**
     * A document store's PHI: {@code collections: {"db.collection": {field.path: phi_type}}}; null after a problem.
     * Paths reach into arrays as the server's do ({@code contacts.phone}, also spelt {@code contacts.$.phone}).
     */
    private DocumentCatalog collections(Section u) {
        YamlNode node = u.node("collections");
        if (node == null) {
            return DocumentCatalog.EMPTY;
        }
        if (!(node instanceof YamlNode.Mapping namespaces)) {
            u.problem("collections", "expected a mapping of \"database.collection\" to its PHI fields, got "
                    + YamlNode.describe(node));
            return null;
        }
        boolean ok = true;
        Map<String, Map<String, PhiType>> collections = new LinkedHashMap<>();
        for (YamlNode.Entry ns : namespaces.entries().values()) {
            String where = u.pathOf("collections") + "." + ns.key();
            int dot = ns.key().indexOf('.');
            if (dot <= 0 || dot == ns.key().length() - 1) {
                problems.add(ns.keyLine(), where, "expected database.collection, like clinic.patients");
                ok = false;
                continue;
            }
            if (!(ns.value() instanceof YamlNode.Mapping fields)) {
                problems.add(ns.keyLine(), where, "expected a mapping of field path to PHI type, got "
                        + YamlNode.describe(ns.value()));
                ok = false;
                continue;
            }
            Map<String, PhiType> paths = new LinkedHashMap<>();
            for (YamlNode.Entry f : fields.entries().values()) {
                String text = f.value() instanceof YamlNode.Scalar sc ? sc.text().strip() : "";
                PhiType type = PhiType.fromPolicyName(text).orElse(null);
                if (DocumentCatalog.normalise(f.key()).isEmpty()) {
                    problems.add(f.keyLine(), where + "." + f.key(), "not a field path (dotted names; an array's"
                            + " elements as contacts.phone or contacts.$.phone; no indexes, no other $ parts)");
                    ok = false;
                } else if (type == null) {
                    String hint = Suggest.nearest(text, java.util.Arrays.stream(PhiType.values())
                            .map(PhiType::policyName).toList());
                    problems.add(f.keyLine(), where + "." + f.key(), "unknown PHI type " + YamlNode.describe(
                            f.value()) + (hint == null ? "" : " (did you mean " + hint + "?)"));
                    ok = false;
                } else {
                    paths.put(f.key(), type);
                }
            }
            collections.put(ns.key(), paths);
        }
        return ok ? new DocumentCatalog(collections) : null;
    }
}
