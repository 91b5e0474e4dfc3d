extension Migration {
    /// The two hot statements whose plans depended on the planner's statistics get plans that
    /// do not. Both were found with the statements prepared (generic plans) on a new
    /// installation, whose tables autovacuum analyzes at most once a minute.
    ///
    /// **The completion** looked up its deliveries through the index of leased deliveries
    /// (`WHERE state = 'delivering'`), whose predicate its own `d.state = 'delivering'`
    /// matches: expecting one leased row, PostgreSQL read every entry of that index (every
    /// delivery leased since the last vacuum) into a hash, for every batch. The index for
    /// expired leases now covers the rows that have a lease (`lease_expires_at IS NOT NULL`,
    /// the same rows), which the claim's `lease_expires_at <= $1` implies and the completion's
    /// conditions do not: the completion finds its rows by primary key.
    ///
    /// **`audit_append`** reads its entries once, and finds each entry's message by its
    /// primary key. Entries, canonical encoding and hashes are those of migrations 4 and 7.
    /// Migration 7 joined the entries to `message`. Until `message` was analyzed (a new
    /// installation; autovacuum analyzes at most once a minute) and once the append ran as a
    /// prepared statement with a generic plan, PostgreSQL answered that join by reading the
    /// whole table into a hash, for every append: an append cost more the more messages there
    /// were. The lookup is now a subquery per entry, which PostgreSQL cannot turn into a join,
    /// so it is an index probe. And migration 7 evaluated `audit_entries` twice (for the
    /// encodings, then for the `INSERT`); the rows are now kept in an array in between.
    static let v9StatisticsIndependentPlans = Migration(
        version: 9,
        name: "statistics-independent-plans",
        sql: #"""
            DROP INDEX delivery_leased_idx;
            CREATE INDEX delivery_lease_expiry_idx ON delivery (lease_expires_at) WHERE lease_expires_at IS NOT NULL;

            CREATE OR REPLACE FUNCTION audit_entries(entries jsonb) RETURNS TABLE (
                ord bigint, at timestamptz, actor text, kind text, message_id uuid, agencies text[], subject text, details jsonb
            )
                LANGUAGE sql STABLE
            BEGIN ATOMIC
                SELECT e.ord, (e.value ->> 'at')::timestamptz, e.value ->> 'actor', e.value ->> 'kind', (e.value ->> 'message')::uuid,
                       CASE
                           WHEN m.sender IS NULL AND e.value ->> 'agency' IS NULL THEN '{}'::text[]
                           WHEN m.sender IS NULL THEN ARRAY[e.value ->> 'agency']
                           WHEN e.value ->> 'agency' IS NULL OR e.value ->> 'agency' = m.sender THEN ARRAY[m.sender]
                           ELSE ARRAY[m.sender, e.value ->> 'agency']
                       END,
                       coalesce(e.value ->> 'subject', m.subject),
                       coalesce(e.value -> 'details', '{}'::jsonb)
                FROM jsonb_array_elements(entries) WITH ORDINALITY AS e(value, ord)
                -- LIMIT keeps the subquery a subquery: one index probe per entry, never a join over the table.
                LEFT JOIN LATERAL (
                    SELECT m.sender, m.subject FROM message m WHERE m.id = (e.value ->> 'message')::uuid LIMIT 1
                ) m ON true
                ORDER BY e.ord;
            END;

            -- One entry of an append, between reading it and inserting it.
            CREATE TYPE audit_entry AS (
                ord bigint, at timestamptz, actor text, kind text, message_id uuid, agencies text[], subject text, details jsonb
            );

            CREATE OR REPLACE FUNCTION audit_append(entries jsonb) RETURNS bigint
                LANGUAGE plpgsql SECURITY DEFINER
            AS $append$
            DECLARE
                head_seq bigint;
                head_hash bytea;
                batch audit_entry[];
                canonical bytea[];
                encoded bytea;
                hashes bytea[] := '{}';
            BEGIN
                IF entries IS NULL OR jsonb_typeof(entries) <> 'array' OR jsonb_array_length(entries) = 0 THEN
                    RETURN NULL;
                END IF;
                IF EXISTS (SELECT FROM jsonb_array_elements(entries) e(value)
                           WHERE e.value ->> 'at' IS NULL OR e.value ->> 'actor' IS NULL OR e.value ->> 'kind' IS NULL) THEN
                    RAISE EXCEPTION 'an audit entry needs at, actor and kind';
                END IF;
                SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_head h FOR UPDATE;
                SELECT array_agg(ROW(e.ord, e.at, e.actor, e.kind, e.message_id, e.agencies, e.subject, e.details)::audit_entry ORDER BY e.ord)
                INTO batch FROM audit_entries(entries) e;
                SELECT array_agg(audit_canonical(head_seq + r.ord, r.at, r.actor, r.kind, r.message_id, r.agencies, r.subject, r.details)
                                 ORDER BY r.ord)
                INTO canonical FROM unnest(batch) r;
                FOREACH encoded IN ARRAY canonical LOOP
                    head_hash := sha256(head_hash || encoded);
                    hashes := hashes || head_hash;
                END LOOP;
                INSERT INTO audit_log (seq, at, actor, kind, message_id, agencies, subject, details, hash)
                SELECT head_seq + r.ord, r.at, r.actor, r.kind, r.message_id, r.agencies, r.subject, r.details, h.hash
                FROM unnest(batch) r JOIN unnest(hashes) WITH ORDINALITY AS h(hash, ord) ON h.ord = r.ord;
                head_seq := head_seq + cardinality(canonical);
                UPDATE audit_head SET seq = head_seq, hash = head_hash;
                RETURN head_seq;
            END
            $append$;
            """#)
}
