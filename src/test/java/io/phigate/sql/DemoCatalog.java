package io.phigate.sql;

/**
 * An in-memory catalog shaped like the demo database (DemoDatabase's patients, encounters and medications) plus
 * the things lineage must see through or refuse: views over patients, a view over a view, a view calling a user
 * function, two views defined in terms of each other, a table outside the search path, and a user function that
 * shadows a built-in.
 */
final class DemoCatalog {
    static final int PATIENTS = 16_401;
    static final int ENCOUNTERS = 16_402;

    private DemoCatalog() {
    }

    static PgCatalog get() {
        return PgCatalog.builder()
                .searchPath("public")
                .table(PATIENTS, "public", "patients", "id", "mrn", "first_name", "last_name", "birth_date", "sex",
                        "ssn", "phone", "email", "street", "city", "state", "zip", "created_at")
                .table(ENCOUNTERS, "public", "encounters", "id", "patient_id", "admitted_at", "department",
                        "diagnosis_code", "notes")
                .table(16_403, "public", "medications", "id", "patient_id", "drug_name", "dose", "frequency",
                        "prescribed_at")
                .table(16_404, "research", "cohort", "patient_id", "note")
                .view(16_410, "public", "patient_directory",
                        " SELECT patients.id, (patients.first_name || ' '::text) || patients.last_name AS name,"
                                + " patients.ssn AS ident FROM patients;", "id", "name", "ident")
                .view(16_411, "public", "directory_ids", "SELECT patient_directory.ident FROM patient_directory",
                        "ident")
                .view(16_412, "public", "risky", "SELECT id, public.risk_score(id) AS score FROM patients",
                        "id", "score")
                .view(16_413, "public", "cyc_a", "SELECT x FROM cyc_b", "x")
                .view(16_414, "public", "cyc_b", "SELECT x FROM cyc_a", "x")
                .phiTag(new ColumnRef("public", "patients", "ssn"), "ssn")
                .function("public", "risk_score")
                .function("public", "md5")
                .builtins("lower", "upper", "concat_ws", "concat", "format", "substr", "substring", "row_to_json",
                        "to_jsonb", "to_json", "json_agg", "jsonb_agg", "string_agg", "array_agg", "unnest",
                        "generate_series", "count", "sum", "max", "min", "avg", "row_number", "rank", "lag", "now",
                        "jsonb_build_object", "json_build_object", "length", "btrim", "left", "right", "replace",
                        "md5", "jsonb_each", "json_each_text", "date_part", "age", "array_to_string", "query_to_xml",
                        "pg_read_file", "lo_get", "current_setting", "pg_notify", "jsonb_to_record",
                        "regexp_replace", "translate", "encode", "convert_to", "array_length", "pg_sleep", "ltrim")
                .build();
    }
}
