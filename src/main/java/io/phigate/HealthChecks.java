package io.phigate;

import io.phigate.audit.AuditStore;
import io.phigate.config.GatewayConfig;
import io.phigate.config.HostPort;
import io.phigate.config.UpstreamConfig;
import io.phigate.http.Readiness;
import io.phigate.mask.SecretRef;
import io.phigate.policy.Policy;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The checks behind {@code /readyz}, from what the gateway was started with: the audit store takes writes, every
 * upstream accepts a TCP connection, and every key the gateway holds can still be read where the config says it is
 * (a Secret deleted or a mount gone would stop the next start; readiness says so now). Reasons name a store, an
 * address or a key reference, never a value.
 */
final class HealthChecks {
    /** How long one probe of one part may take; a probe answers within about this. */
    static final Duration PROBE_TIMEOUT = Duration.ofSeconds(1);

    private HealthChecks() {
    }

    static Map<String, Readiness.Check> of(GatewayConfig config, Policy policy, AuditStore store,
                                           AuditFileGuard guard) {
        Map<String, Readiness.Check> checks = new LinkedHashMap<>();
        checks.put("audit", () -> {
            String lost = guard == null ? null : guard.lost();
            return lost != null ? lost : store.writeProblem(PROBE_TIMEOUT);
        });
        Map<String, HostPort> upstreams = new LinkedHashMap<>();
        for (UpstreamConfig u : config.upstreams().values()) {
            upstreams.put(u.name(), u.address());
        }
        if (config.documents() != null) {
            config.documents().upstreams().forEach((name, address) -> upstreams.put("documents." + name, address));
        }
        checks.put("upstreams", () -> unreachable(upstreams));
        List<SecretRef> keys = new ArrayList<>();
        if (policy.masking().key() != null) {
            keys.add(policy.masking().key());
        }
        if (config.audit().encryption() != null) {
            keys.add(config.audit().encryption().key());
            keys.addAll(config.audit().encryption().previous().values());
        }
        if (config.console() != null) {
            config.console().cookieKeys().forEach(k -> keys.add(k.secret()));
        }
        checks.put("keys", () -> unreadable(keys));
        return checks;
    }

    /** The upstreams that refuse or do not answer a TCP connection within the probe timeout, tried in parallel. */
    private static String unreachable(Map<String, HostPort> upstreams) {
        List<String> down = java.util.Collections.synchronizedList(new ArrayList<>());
        try (ExecutorService probes = Executors.newVirtualThreadPerTaskExecutor()) {
            upstreams.forEach((name, address) -> probes.submit(() -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(address.host(), address.port()), (int) PROBE_TIMEOUT.toMillis());
                } catch (IOException e) {
                    down.add(name + " (" + address.host() + ":" + address.port() + ")");
                }
            }));
        } // close() waits for every probe, each bounded by the timeout
        return down.isEmpty() ? null : "cannot reach " + String.join(", ", down.stream().sorted().toList());
    }

    private static String unreadable(List<SecretRef> keys) {
        List<String> missing = new ArrayList<>();
        for (SecretRef key : keys) {
            try {
                if (key.read().isEmpty()) {
                    missing.add(key + " is empty");
                }
            } catch (IOException e) {
                missing.add(key + " cannot be read");
            }
        }
        return missing.isEmpty() ? null : String.join("; ", missing);
    }
}
