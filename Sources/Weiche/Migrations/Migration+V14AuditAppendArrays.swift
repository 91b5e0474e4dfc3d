extension Migration {
    /// `audit_append` takes its entries as one typed array per field, and does everything that
    /// does not need the chain's head before it takes it (Decision 0013).
    ///
    /// - **Typed arrays** (`timestamptz[]`, `text[]`, `uuid[]`, `jsonb[]`) instead of one JSON
    ///   document: PostgreSQL no longer parses the entries' JSON and picks their fields out of it.
    /// - **The head is taken last.** The lookups of the entries' messages and the canonical
    ///   encodings (all of it but the sequence number) are done first; under the head's lock,
    ///   which is held until the transaction commits and which every appender waits for, only
    ///   the sequence numbers are encoded, hashed and inserted. Migrations 7 and 9 took the
    ///   lock first.
    /// - **The same entries, encodings and hashes.** `audit_canonical` is now the sequence
    ///   number's part (`audit_canonical_head`) followed by the rest (`audit_canonical_body`),
    ///   which are its former expression split in two: logs written before and after verify alike.
    /// - `audit_append(jsonb)` stays, for scripts and the auditors' `audit_record_query`: it
    ///   reads the document into the arrays and calls the new function. `audit_entries(jsonb)`,
    ///   which only the old function used, is dropped.
    /// - **Both appends run with a fixed `search_path`.** Migration 4 set one; migrations 7 and
    ///   9 replaced the function and with it that setting, so the function, which runs with
    ///   its owner's rights, resolved table names through the caller's search path. Both now
    ///   resolve them in Weiche's schema, then `pg_temp`, as migration 4 intended.
    ///
    /// Measured on its own (300 entries an append, one session): about 26 µs an entry against
    /// 30 µs, not counting the JSON the old function also had to parse (Docs/Performance.md).
    static let v14AuditAppendArrays = Migration(
        version: 14,
        name: "audit-append-arrays",
        sql: #"""
            -- The canonical encoding in two parts: the sequence number, known only under the
            -- head's lock, and everything else, which can be encoded before it.
            CREATE FUNCTION audit_canonical_head(seq bigint) RETURNS bytea
                LANGUAGE sql STABLE PARALLEL SAFE
                RETURN convert_to('weiche-audit/1;' || audit_field(seq::text), 'UTF8');

            CREATE FUNCTION audit_canonical_body(
                at timestamptz, actor text, kind text, message_id uuid, agencies text[], subject text, details jsonb
            ) RETURNS bytea
                LANGUAGE sql STABLE PARALLEL SAFE
                RETURN convert_to(audit_field(((extract(epoch FROM at) * 1000000)::bigint)::text)
                    || audit_field(actor)
                    || audit_field(kind)
                    || audit_field(coalesce(message_id::text, ''))
                    || audit_field(array_to_string(agencies, ','))
                    || audit_field(coalesce(subject, ''))
                    || audit_field(details::text), 'UTF8');

            CREATE OR REPLACE FUNCTION audit_canonical(
                seq bigint, at timestamptz, actor text, kind text, message_id uuid, agencies text[], subject text, details jsonb
            ) RETURNS bytea
                LANGUAGE sql STABLE PARALLEL SAFE
                RETURN audit_canonical_head(seq) || audit_canonical_body(at, actor, kind, message_id, agencies, subject, details);

            -- The only way into the log. Entry i is (ats[i], actors[i], kinds[i], messages[i],
            -- agencies[i], subjects[i], details[i]); the message's sender and subject are added
            -- from the message itself. Appends at the head, in order, under the head's row lock
            -- (held until the caller's transaction ends: the chain never forks or leaves a gap).
            CREATE FUNCTION audit_append(
                ats timestamptz[], actors text[], kinds text[], messages uuid[], agencies text[], subjects text[], details jsonb[]
            ) RETURNS bigint
                LANGUAGE plpgsql SECURITY DEFINER
            AS $append$
            DECLARE
                n integer := coalesce(cardinality(kinds), 0);
                batch audit_entry[];
                bodies bytea[];
                body bytea;
                position integer := 0;
                head_seq bigint;
                head_hash bytea;
                hashes bytea[] := '{}';
            BEGIN
                IF n = 0 THEN
                    RETURN NULL;
                END IF;
                IF coalesce(cardinality(ats), 0) <> n OR coalesce(cardinality(actors), 0) <> n
                   OR coalesce(cardinality(messages), 0) <> n OR coalesce(cardinality(agencies), 0) <> n
                   OR coalesce(cardinality(subjects), 0) <> n OR coalesce(cardinality(details), 0) <> n THEN
                    RAISE EXCEPTION 'an audit append needs one element per entry in each of its seven arrays';
                END IF;
                IF array_position(ats, NULL) IS NOT NULL OR array_position(actors, NULL) IS NOT NULL
                   OR array_position(kinds, NULL) IS NOT NULL THEN
                    RAISE EXCEPTION 'an audit entry needs at, actor and kind';
                END IF;
                -- LIMIT keeps the lookup a subquery: one index probe per entry, never a join over the table.
                SELECT array_agg(ROW(e.ord, e.at, e.actor, e.kind, e.message_id,
                                     CASE
                                         WHEN m.sender IS NULL AND e.agency IS NULL THEN '{}'::text[]
                                         WHEN m.sender IS NULL THEN ARRAY[e.agency]
                                         WHEN e.agency IS NULL OR e.agency = m.sender THEN ARRAY[m.sender]
                                         ELSE ARRAY[m.sender, e.agency]
                                     END,
                                     coalesce(e.subject, m.subject), coalesce(e.details, '{}'::jsonb))::audit_entry ORDER BY e.ord)
                INTO batch
                FROM unnest(ats, actors, kinds, messages, agencies, subjects, details)
                         WITH ORDINALITY AS e(at, actor, kind, message_id, agency, subject, details, ord)
                LEFT JOIN LATERAL (SELECT m.sender, m.subject FROM message m WHERE m.id = e.message_id LIMIT 1) m ON true;
                SELECT array_agg(audit_canonical_body(r.at, r.actor, r.kind, r.message_id, r.agencies, r.subject, r.details)
                                 ORDER BY r.ord)
                INTO bodies FROM unnest(batch) r;

                SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_head h FOR UPDATE;
                -- In order, never by subscript: finding the i-th of variable-length elements
                -- walks the array from its start, which made a large append quadratic.
                FOREACH body IN ARRAY bodies LOOP
                    position := position + 1;
                    head_hash := sha256(head_hash || audit_canonical_head(head_seq + position) || body);
                    hashes := hashes || head_hash;
                END LOOP;
                INSERT INTO audit_log (seq, at, actor, kind, message_id, agencies, subject, details, hash)
                SELECT head_seq + r.ord, r.at, r.actor, r.kind, r.message_id, r.agencies, r.subject, r.details, h.hash
                FROM unnest(batch) r JOIN unnest(hashes) WITH ORDINALITY AS h(hash, ord) ON h.ord = r.ord;
                head_seq := head_seq + n;
                UPDATE audit_head SET seq = head_seq, hash = head_hash;
                RETURN head_seq;
            END
            $append$;

            -- Each entry: {at, actor, kind, message?, agency?, subject?, details?}.
            CREATE OR REPLACE FUNCTION audit_append(entries jsonb) RETURNS bigint
                LANGUAGE plpgsql SECURITY DEFINER
            AS $append$
            DECLARE
                head_seq bigint;
            BEGIN
                IF entries IS NULL OR jsonb_typeof(entries) <> 'array' OR jsonb_array_length(entries) = 0 THEN
                    RETURN NULL;
                END IF;
                SELECT audit_append(
                    array_agg((e.value ->> 'at')::timestamptz ORDER BY e.ord), array_agg(e.value ->> 'actor' ORDER BY e.ord),
                    array_agg(e.value ->> 'kind' ORDER BY e.ord), array_agg((e.value ->> 'message')::uuid ORDER BY e.ord),
                    array_agg(e.value ->> 'agency' ORDER BY e.ord), array_agg(e.value ->> 'subject' ORDER BY e.ord),
                    array_agg(e.value -> 'details' ORDER BY e.ord))
                INTO head_seq
                FROM jsonb_array_elements(entries) WITH ORDINALITY AS e(value, ord);
                RETURN head_seq;
            END
            $append$;

            DROP FUNCTION audit_entries(jsonb);

            DO $grants$
            DECLARE
                gateway text := (SELECT name FROM database_role WHERE purpose = 'gateway');
                schema text := current_schema();
            BEGIN
                EXECUTE format('ALTER FUNCTION audit_append(jsonb) SET search_path = %I, pg_temp', schema);
                EXECUTE format('ALTER FUNCTION audit_append(timestamptz[], text[], text[], uuid[], text[], text[], jsonb[]) '
                               'SET search_path = %I, pg_temp', schema);
                REVOKE ALL ON FUNCTION audit_append(timestamptz[], text[], text[], uuid[], text[], text[], jsonb[]) FROM PUBLIC;
                EXECUTE format('GRANT EXECUTE ON FUNCTION audit_append(timestamptz[], text[], text[], uuid[], text[], text[], jsonb[]) TO %I',
                               gateway);
            END
            $grants$;
            """#)
}
