package io.phigate.policy;

import io.phigate.mask.OperatorSpec;
import io.phigate.mask.PhiType;
import io.phigate.sql.Operation;
import java.time.DayOfWeek;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What an identity may do once mapped to this role.
 *
 * @param upstreams     upstream names it may reach ({@code *} for all)
 * @param allow         the tables and operations it may use; a statement touching anything else is refused
 * @param unmasked      PHI types it sees unmasked
 * @param masking       its own operator per PHI type, overriding the policy defaults
 * @param justification whether each session must state why it needs the data
 * @param rowLimit      most rows a statement may return to it (0: no limit)
 * @param windows       when it may connect or run statements (empty: any time)
 * @param group         for ephemeral credentials: the database group role its session user joins (null: the
 *                      upstream's default group)
 * @param lookup        PHI types it sees masked but may look up by equality with a constant or parameter in a
 *                      WHERE ({@link PredicateRule}); empty: none
 */
public record Role(String name, Match match, List<String> upstreams, List<Allow> allow, Set<PhiType> unmasked,
                   Map<PhiType, OperatorSpec> masking, Justification justification, long rowLimit,
                   List<TimeWindow> windows, String group, Set<PhiType> lookup) {

    /** A role that may look nothing up by PHI. */
    public Role(String name, Match match, List<String> upstreams, List<Allow> allow, Set<PhiType> unmasked,
                Map<PhiType, OperatorSpec> masking, Justification justification, long rowLimit,
                List<TimeWindow> windows, String group) {
        this(name, match, upstreams, allow, unmasked, masking, justification, rowLimit, windows, group, Set.of());
    }

    public enum Justification { REQUIRED, OPTIONAL }

    public boolean mayReach(String upstream) {
        return upstreams.contains("*") || upstreams.contains(upstream);
    }

    /** One allow rule: table patterns ({@code schema.table}, {@code *} wildcards) and the operations on them. */
    public record Allow(List<String> tables, Set<Operation> operations) {
    }

    /** Days and a time-of-day range in a zone, e.g. weekdays 07:00–19:00 Europe/Berlin. */
    public record TimeWindow(Set<DayOfWeek> days, LocalTime from, LocalTime to, ZoneId zone) {
        public boolean contains(java.time.Instant when) {
            java.time.ZonedDateTime t = when.atZone(zone);
            if (!days.contains(t.getDayOfWeek())) {
                return false;
            }
            LocalTime time = t.toLocalTime();
            return from.isBefore(to) ? !time.isBefore(from) && time.isBefore(to)
                    : !time.isBefore(from) || time.isBefore(to); // a window that crosses midnight
        }
    }
}
