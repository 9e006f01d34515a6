package io.phigate.audit;

import io.phigate.config.AuditConfig;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Placeholder until implemented. */
public final class SqliteAuditStore implements AuditSink {
    public SqliteAuditStore(AuditConfig config) {
    }

    @Override
    public CompletableFuture<Void> append(List<AuditEvent> events) {
        return CompletableFuture.failedFuture(new AuditUnavailableException("not implemented"));
    }

    @Override
    public void appendDurably(List<AuditEvent> events) throws AuditUnavailableException {
        throw new AuditUnavailableException("not implemented");
    }

    @Override
    public void close() {
    }
}
