extension Migration {
    /// Payloads (a referral is 2–3 KB of JSON) are compressed when their row passes about 2 KB.
    /// PostgreSQL's default method, pglz, was the server's largest single cost in the benchmark;
    /// lz4 compresses several times faster. Rows written before keep their pglz values (both
    /// read alike). Servers built without lz4 keep pglz.
    static let v8PayloadCompression = Migration(
        version: 8,
        name: "payload-compression",
        sql: """
            DO $compression$
            BEGIN
                ALTER TABLE message ALTER COLUMN referral SET COMPRESSION lz4;
                ALTER TABLE delivery ALTER COLUMN content SET COMPRESSION lz4;
            EXCEPTION
                WHEN feature_not_supported OR invalid_parameter_value THEN
                    RAISE NOTICE 'this server has no lz4 compression; payloads stay compressed with pglz';
            END
            $compression$;
            """)
}
