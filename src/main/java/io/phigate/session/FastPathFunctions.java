package io.phigate.session;

import java.util.Map;

/**
 * The functions an analysed session may call through the fast-path FunctionCall message, which names a function
 * by OID and carries no SQL (decision 0063): the large-object calls pgjdbc's {@code LargeObjectManager} makes, and
 * nothing else. Every other OID (set_config, pg_read_file, dblink_exec, query_to_xml ...) may be called from a
 * SELECT, where the analyser reads the call. The OIDs are fixed in PostgreSQL's {@code pg_proc.dat} (checked
 * against the live server's pg_proc by {@code FastPathFunctionCallTest}); a built-in's OID never names another
 * function, and a user function's OID is always above 16383, so none of these can be redefined.
 */
public final class FastPathFunctions {
    /** OID to name, as pg_proc holds them (all in pg_catalog). */
    static final Map<Integer, String> LARGE_OBJECTS = Map.ofEntries(
            Map.entry(715, "lo_create"), Map.entry(952, "lo_open"), Map.entry(953, "lo_close"),
            Map.entry(954, "loread"), Map.entry(955, "lowrite"), Map.entry(956, "lo_lseek"),
            Map.entry(957, "lo_creat"), Map.entry(958, "lo_tell"), Map.entry(964, "lo_unlink"),
            Map.entry(1004, "lo_truncate"), Map.entry(3170, "lo_lseek64"), Map.entry(3171, "lo_tell64"),
            Map.entry(3172, "lo_truncate64"));

    private FastPathFunctions() {
    }

    /** The allowed function's qualified name ({@code pg_catalog.lo_open}), or null when {@code oid} is not allowed. */
    public static String allowed(int oid) {
        String name = LARGE_OBJECTS.get(oid);
        return name == null ? null : "pg_catalog." + name;
    }
}
