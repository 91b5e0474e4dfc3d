extension Migration {
    /// `audit_append` without a statement per entry. The entries, with their message's sender
    /// and subject, are read in one query; the chain is computed over their canonical
    /// encodings in one loop of two expressions; all rows go in with one `INSERT`. The entries,
    /// their encoding and their hashes are exactly those of migration 4: logs written before and
    /// after verify alike (`weiche audit verify` recomputes every hash on its own).
    ///
    /// Migration 4 ran a lookup, a hash and an `INSERT` per entry, about 48 µs an entry, which
    /// made it the largest cost of a referral (Docs/Performance.md).
    static let v7SetBasedAudit = Migration(
        version: 7,
        name: "set-based-audit-append",
        sql: #"""
            -- The entries of an append as rows, in their order, with the fields the chain covers.
            -- `agencies` is the message's sender, then the entry's agency if it is another.
            CREATE FUNCTION audit_entries(entries jsonb) RETURNS TABLE (
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
                LEFT JOIN message m ON m.id = (e.value ->> 'message')::uuid
                ORDER BY e.ord;
            END;

            CREATE OR REPLACE FUNCTION audit_append(entries jsonb) RETURNS bigint
                LANGUAGE plpgsql SECURITY DEFINER
            AS $append$
            DECLARE
                head_seq bigint;
                head_hash bytea;
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
                SELECT array_agg(audit_canonical(head_seq + e.ord, e.at, e.actor, e.kind, e.message_id, e.agencies, e.subject, e.details)
                                 ORDER BY e.ord)
                INTO canonical FROM audit_entries(entries) e;
                FOREACH encoded IN ARRAY canonical LOOP
                    head_hash := sha256(head_hash || encoded);
                    hashes := hashes || head_hash;
                END LOOP;
                INSERT INTO audit_log (seq, at, actor, kind, message_id, agencies, subject, details, hash)
                SELECT head_seq + e.ord, e.at, e.actor, e.kind, e.message_id, e.agencies, e.subject, e.details, h.hash
                FROM audit_entries(entries) e JOIN unnest(hashes) WITH ORDINALITY AS h(hash, ord) ON h.ord = e.ord;
                head_seq := head_seq + cardinality(canonical);
                UPDATE audit_head SET seq = head_seq, hash = head_hash;
                RETURN head_seq;
            END
            $append$;

            REVOKE ALL ON FUNCTION audit_entries(jsonb) FROM PUBLIC;
            """#)
}
