package io.phigate.audit;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Where audit events go. Implementations batch writes from many sessions into one durable commit (group
 * commit). The write-ahead rule lives in the callers: a statement is forwarded only after the future of its
 * {@link AuditEvent.StatementRequested} completed normally.
 */
public interface AuditSink extends AutoCloseable {

    /**
     * Queues the events, in order. The future completes once all of them are durable, or exceptionally with
     * {@link AuditUnavailableException} if the store cannot take them (full queue, write failure).
     */
    CompletableFuture<Void> append(List<AuditEvent> events);

    /**
     * Queues the events like {@link #append} for a caller that will not look at the outcome (a statement's
     * completion): the store logs and counts a refusal itself, and no future is made for nobody to wait on.
     */
    default void appendUnobserved(List<AuditEvent> events) {
        append(events);
    }

    /**
     * Queues the events as {@link #appendDurably} does (a waited-for group, flushed at once) without waiting. The
     * future may be the writer's own, completed on the writer thread: its callbacks must be tiny and never block
     * (an event loop's is a queue offer and a selector wake-up, decision 0097). Its waiter bounds the wait itself.
     */
    default CompletableFuture<Void> appendAwaited(List<AuditEvent> events) {
        return append(events);
    }

    /** Waits until the events are durable, or throws; the wait is bounded by the store's write timeout. */
    void appendDurably(List<AuditEvent> events) throws AuditUnavailableException;

    /**
     * Waits until records acknowledged so far can be read from the store, at most {@code timeout}; false if they
     * could not. A store whose durable point is the store itself is always readable.
     */
    default boolean awaitStored(java.time.Duration timeout) {
        return true;
    }

    /** Flushes what is queued and releases the store. */
    @Override
    void close();
}
