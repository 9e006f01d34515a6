package io.phigate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import io.phigate.audit.CheckpointKeys;
import io.phigate.config.ConfigLoader;
import io.phigate.config.GatewayConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The manifests under deploy/kubernetes (decision 0048) say what the gateway needs: the config in the ConfigMap is
 * one the gateway's own loader accepts (every key, every value, the policy it names), the Deployment mounts every
 * path it names, probes /livez and /readyz on the port it listens on, gives the drain time to finish before the
 * kubelet's SIGKILL, names each pod's audit chain, and sizes the heap inside the memory limit. Each overlay is
 * rendered with {@code kubectl kustomize} when kubectl is installed, and the rendered config checked the same way.
 */
class KubernetesManifestsTest {
    private static final Path ROOT = Path.of("deploy/kubernetes");
    private static final Path KUBECTL = Path.of("/usr/bin/kubectl");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Pattern MOUNTED_PATH = Pattern.compile("(/etc/phigate|/var/lib/phigate)(/[A-Za-z0-9._-]+)+");
    /** SIGTERM to exit: the audit store's close (busy timeout twice, write timeout, a second) and slack. */
    private static final long CLOSE_SECONDS = 10;

    @TempDir
    Path dir;

    @Test
    void theBaseConfigIsOneTheGatewayAcceptsAndTheDeploymentServesIt() throws Exception {
        String config = Files.readString(ROOT.resolve("base/phigate.yaml"));
        String policy = Files.readString(ROOT.resolve("base/policy.yaml"));
        JsonNode deployment = only(documents(ROOT.resolve("base/deployment.yaml")), "Deployment");
        checkDeployment(deployment, config, "phigate-config", load(config, policy));
        JsonNode service = only(documents(ROOT.resolve("base/service.yaml")), "Service");
        assertThat(portNames(service.path("spec").path("ports"))).containsExactlyInAnyOrder("postgres", "http");
        JsonNode pdb = only(documents(ROOT.resolve("base/poddisruptionbudget.yaml")), "PodDisruptionBudget");
        assertThat(pdb.path("spec").path("maxUnavailable").asInt()).isEqualTo(1);
        assertThat(pdb.path("spec").path("selector")).isEqualTo(deployment.path("spec").path("selector"));
    }

    @Test
    void agentsMayReachTheGatewayAndOnlyTheGatewayReachesTheDatabases() throws Exception {
        JsonNode gateway = only(documents(ROOT.resolve("base/networkpolicy.yaml")), "NetworkPolicy");
        assertThat(gateway.path("spec").path("policyTypes").toString()).contains("Ingress").contains("Egress");
        JsonNode agents = gateway.path("spec").path("ingress").get(0);
        assertThat(agents.path("from").get(0).path("podSelector").path("matchLabels").path("phigate.io/agent").asText())
                .isEqualTo("true");
        assertThat(agents.path("ports").get(0).path("port").asInt()).isEqualTo(6432);
        Set<Integer> ingressPorts = new LinkedHashSet<>();
        gateway.path("spec").path("ingress").forEach(rule -> rule.path("ports").forEach(p -> ingressPorts.add(p.path("port").asInt())));
        assertThat(ingressPorts).containsExactlyInAnyOrder(6432, 8080);

        List<JsonNode> databases = documents(ROOT.resolve("databases/networkpolicy.yaml"));
        assertThat(databases).hasSize(2).allSatisfy(p -> {
            assertThat(p.path("spec").path("policyTypes").toString()).contains("Ingress");
            p.path("spec").path("ingress").forEach(rule -> rule.path("from").forEach(peer -> {
                assertThat(peer.path("namespaceSelector").path("matchLabels").path("kubernetes.io/metadata.name")
                        .asText()).as("every peer is in the gateway's namespace").isEqualTo("phigate");
                assertThat(peer.path("podSelector").path("matchLabels").isEmpty()).as("and a named pod").isFalse();
            }));
        });
        assertThat(databases.getFirst().path("spec").path("ingress").get(0).path("from")).hasSize(1);
        assertThat(databases.getFirst().path("spec").path("ingress").get(0).path("from").get(0).path("podSelector")
                .path("matchLabels").path("app.kubernetes.io/name").asText()).isEqualTo("phigate");
    }

    @Test
    void everyOverlayRendersWithKubectlAndItsConfigIsOneTheGatewayAccepts() throws Exception {
        assumeTrue(Files.isExecutable(KUBECTL), "kubectl is not installed at " + KUBECTL);
        List<Path> overlays;
        try (var list = Files.list(ROOT.resolve("overlays"))) {
            overlays = list.sorted().toList();
        }
        assertThat(overlays).extracting(p -> p.getFileName().toString()).containsExactly("production", "staging");
        for (Path overlay : overlays) {
            List<JsonNode> rendered = render(overlay);
            JsonNode configMap = rendered.stream().filter(d -> d.path("kind").asText().equals("ConfigMap")
                    && d.path("data").has("phigate.yaml")).findFirst().orElseThrow();
            String name = configMap.path("metadata").path("name").asText();
            assertThat(name).as(overlay + ": a content-hashed name rolls the pods on change").matches("phigate-config-[a-z0-9]+");
            String config = configMap.path("data").path("phigate.yaml").asText();
            GatewayConfig loaded = load(config, configMap.path("data").path("policy.yaml").asText());
            JsonNode deployment = only(rendered, "Deployment");
            checkDeployment(deployment, config, name, loaded);
            int replicas = deployment.path("spec").path("replicas").asInt();
            boolean production = overlay.endsWith("production");
            assertThat(replicas).as(overlay.toString()).isEqualTo(production ? 3 : 2);
            assertThat(deployment.path("spec").path("template").path("spec").path("containers").get(0).path("image")
                    .asText()).as(overlay.toString()).startsWith("registry.example/phigate:0.1.0");
            List<String> kinds = rendered.stream().map(d -> d.path("kind").asText()).toList();
            assertThat(kinds).as(overlay.toString()).contains("ServiceAccount", "Service", "PodDisruptionBudget",
                    "NetworkPolicy", "ConfigMap", "Deployment");
            if (production) {
                JsonNode monitor = only(rendered, "ServiceMonitor");
                JsonNode endpoint = monitor.path("spec").path("endpoints").get(0);
                assertThat(endpoint.path("path").asText()).isEqualTo("/metrics");
                assertThat(portNames(only(rendered, "Service").path("spec").path("ports")))
                        .contains(endpoint.path("port").asText());
            } else {
                assertThat(kinds).doesNotContain("ServiceMonitor");
            }
        }
    }

    /** What the Deployment must agree on with the config it mounts. */
    private static void checkDeployment(JsonNode deployment, String configText, String configMapName,
                                        GatewayConfig config) {
        JsonNode pod = deployment.path("spec").path("template").path("spec");
        JsonNode container = pod.path("containers").get(0);
        assertThat(container.path("args").toString()).contains("serve").contains("/etc/phigate/config/phigate.yaml");
        assertThat(pod.path("automountServiceAccountToken").asBoolean(true)).isFalse();
        assertThat(pod.path("securityContext").path("runAsNonRoot").asBoolean()).isTrue();
        assertThat(container.path("securityContext").path("readOnlyRootFilesystem").asBoolean()).isTrue();

        // Ports and probes: the names resolve to the ports the config listens on.
        assertThat(containerPort(container, "postgres")).isEqualTo(config.listen().postgres().port());
        assertThat(containerPort(container, "http")).isEqualTo(config.listen().http().port());
        for (String probe : List.of("startupProbe", "livenessProbe")) {
            assertThat(container.path(probe).path("httpGet").path("path").asText()).as(probe).isEqualTo("/livez");
            assertThat(container.path(probe).path("httpGet").path("port").asText()).as(probe).isEqualTo("http");
        }
        assertThat(container.path("readinessProbe").path("httpGet").path("path").asText()).isEqualTo("/readyz");
        assertThat(container.path("readinessProbe").path("httpGet").path("port").asText()).isEqualTo("http");

        // The drain fits in the termination grace period.
        long preStop = container.path("lifecycle").path("preStop").path("sleep").path("seconds").asLong();
        long grace = pod.path("terminationGracePeriodSeconds").asLong();
        assertThat(grace).as("terminationGracePeriodSeconds vs preStop + limits.drain_grace + closing")
                .isGreaterThanOrEqualTo(preStop + config.limits().drainGrace().toSeconds() + CLOSE_SECONDS);

        // Each pod its own audit chain, named after it.
        assertThat(configText).contains("replica_env: POD_NAME");
        JsonNode podName = env(container, "POD_NAME");
        assertThat(podName.path("valueFrom").path("fieldRef").path("fieldPath").asText()).isEqualTo("metadata.name");

        // Memory: the heap inside the limit with room for the rest of the JVM; requests set for scheduling.
        long limit = bytes(container.path("resources").path("limits").path("memory").asText());
        long request = bytes(container.path("resources").path("requests").path("memory").asText());
        assertThat(request).isPositive().isLessThanOrEqualTo(limit);
        assertThat(container.path("resources").path("requests").path("cpu").asText()).isNotEmpty();
        Matcher xmx = Pattern.compile("-Xmx(\\d+[kmgKMG])").matcher(env(container, "JAVA_TOOL_OPTIONS").path("value").asText());
        assertThat(xmx.find()).as("JAVA_TOOL_OPTIONS sets -Xmx").isTrue();
        assertThat(bytes(xmx.group(1).toUpperCase() + "i")).as("heap vs memory limit").isLessThanOrEqualTo(limit * 6 / 10);

        // Every path the config names is under a mounted volume, and the config's own folder is this ConfigMap.
        List<String> mounts = new ArrayList<>();
        container.path("volumeMounts").forEach(m -> mounts.add(m.path("mountPath").asText()));
        Matcher paths = MOUNTED_PATH.matcher(withoutComments(configText));
        while (paths.find()) {
            String path = paths.group();
            assertThat(mounts).as("a mount holding " + path).anySatisfy(m -> assertThat(path).startsWith(m + "/"));
        }
        String configVolume = null;
        for (JsonNode m : container.path("volumeMounts")) {
            if (m.path("mountPath").asText().equals("/etc/phigate/config")) {
                configVolume = m.path("name").asText();
            }
        }
        for (JsonNode v : pod.path("volumes")) {
            if (v.path("name").asText().equals(configVolume)) {
                assertThat(v.path("configMap").path("name").asText()).isEqualTo(configMapName);
            }
        }
    }

    /**
     * Loads the config as {@code phigate serve} would, with the mounted folders moved under a temporary one holding
     * stand-ins for the files the loader checks, and the pod name set.
     */
    private GatewayConfig load(String config, String policy) throws Exception {
        String root = dir.toAbsolutePath().toString();
        String local = config.replace("/etc/phigate/", root + "/etc/phigate/")
                .replace("/var/lib/phigate/", root + "/var/lib/phigate/")
                .replace("replica_env: POD_NAME", "replica: phigate-7d9c5b8f6-x2x9q");
        Matcher paths = MOUNTED_PATH.matcher(withoutComments(config + "\n" + policy));
        while (paths.find()) {
            Path file = Path.of(root + paths.group());
            Files.createDirectories(file.getParent());
            if (Files.exists(file)) {
                continue; // the second overlay names the same files
            }
            if (file.getFileName().toString().endsWith(".key") && file.toString().contains("checkpoint")) {
                CheckpointKeys.generate(file);
            } else {
                Files.writeString(file, file.toString().endsWith(".json") ? "{\"keys\":[]}" : "stand-in\n");
            }
        }
        Files.writeString(Path.of(root + "/etc/phigate/config/policy.yaml"),
                policy.replace("/etc/phigate/", root + "/etc/phigate/"));
        Path file = dir.resolve("phigate.yaml");
        Files.writeString(file, local);
        return ConfigLoader.loadToServe(file);
    }

    /** The YAML without its comments, which name paths in prose (no value here holds a '#'). */
    private static String withoutComments(String yaml) {
        return yaml.replaceAll("(?m)#.*$", "");
    }

    private static List<JsonNode> render(Path overlay) throws Exception {
        Process p = new ProcessBuilder(KUBECTL.toString(), "kustomize", overlay.toString()).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(new String(out, StandardCharsets.UTF_8)).isZero();
        return documents(new String(out, StandardCharsets.UTF_8));
    }

    private static List<JsonNode> documents(Path file) throws IOException {
        return documents(Files.readString(file));
    }

    private static List<JsonNode> documents(String yaml) throws IOException {
        List<JsonNode> docs = new ArrayList<>();
        try (YAMLParser parser = new YAMLFactory().createParser(yaml)) {
            var it = YAML.readValues(parser, JsonNode.class);
            while (it.hasNext()) {
                JsonNode doc = it.next();
                if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
                    docs.add(doc);
                }
            }
        }
        return docs;
    }

    private static JsonNode only(List<JsonNode> docs, String kind) {
        List<JsonNode> found = docs.stream().filter(d -> d.path("kind").asText().equals(kind)).toList();
        assertThat(found).as(kind).hasSize(1);
        return found.getFirst();
    }

    private static List<String> portNames(JsonNode ports) {
        List<String> names = new ArrayList<>();
        ports.forEach(p -> names.add(p.path("name").asText()));
        return names;
    }

    private static int containerPort(JsonNode container, String name) {
        for (JsonNode p : container.path("ports")) {
            if (p.path("name").asText().equals(name)) {
                return p.path("containerPort").asInt();
            }
        }
        throw new AssertionError("no container port named " + name);
    }

    private static JsonNode env(JsonNode container, String name) {
        for (JsonNode e : container.path("env")) {
            if (e.path("name").asText().equals(name)) {
                return e;
            }
        }
        return MissingNode.getInstance();
    }

    /** Kubernetes memory quantities in binary units (Ki, Mi, Gi). */
    private static long bytes(String quantity) {
        Matcher m = Pattern.compile("(\\d+)([KMG])i").matcher(quantity);
        assertThat(m.matches()).as("a binary quantity: " + quantity).isTrue();
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "K" -> n << 10;
            case "M" -> n << 20;
            default -> n << 30;
        };
    }
}
