extension Migration {
    /// The tamper-evident audit log: a hash chain appended only through `audit_append`, the
    /// gateway's and the auditor's database roles, and the pipeline's earlier events moved into
    /// the chain. See Docs/Audit.md.
    ///
    /// Role names come from the settings `weiche.gateway_role` and `weiche.auditor_role`, which
    /// the migrator sets (default `weiche_gateway`, `weiche_auditor`).
    static let v4Audit = Migration(
        version: 4,
        name: "audit",
        sql: #"""
            CREATE TABLE database_role (
                purpose text PRIMARY KEY CHECK (purpose IN ('gateway', 'auditor')),
                name text NOT NULL
            );
            INSERT INTO database_role VALUES
                ('gateway', coalesce(nullif(current_setting('weiche.gateway_role', true), ''), 'weiche_gateway')),
                ('auditor', coalesce(nullif(current_setting('weiche.auditor_role', true), ''), 'weiche_auditor'));
            COMMENT ON TABLE database_role IS 'the database roles this schema grants to: the gateway (writes the pipeline, appends to the audit log) and auditors (read metadata)';

            DO $roles$
            DECLARE
                role record;
            BEGIN
                FOR role IN SELECT name FROM database_role LOOP
                    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role.name) THEN
                        BEGIN
                            EXECUTE format('CREATE ROLE %I NOLOGIN', role.name);
                        EXCEPTION
                            WHEN duplicate_object OR unique_violation THEN NULL;
                            WHEN insufficient_privilege THEN
                                RAISE EXCEPTION 'Weiche needs the database role % and may not create it', role.name
                                    USING HINT = format('ask a database administrator to run CREATE ROLE %I NOLOGIN, then run weiche migrate again', role.name);
                        END;
                    END IF;
                END LOOP;
            END
            $roles$;

            ALTER TABLE message ADD COLUMN subject text;
            COMMENT ON COLUMN message.subject IS 'HMAC-SHA-256 of the person''s stable identifier (hex); the key is never stored in the database';

            CREATE TABLE audit_log (
                seq bigint PRIMARY KEY CHECK (seq > 0),
                at timestamptz NOT NULL,
                actor text NOT NULL,
                kind text NOT NULL,
                message_id uuid,
                agencies text[] NOT NULL DEFAULT '{}',
                subject text,
                details jsonb NOT NULL DEFAULT '{}',
                hash bytea NOT NULL CHECK (octet_length(hash) = 32)
            );
            CREATE INDEX audit_log_message_idx ON audit_log (message_id) WHERE message_id IS NOT NULL;
            CREATE INDEX audit_log_subject_idx ON audit_log (subject) WHERE subject IS NOT NULL;
            CREATE INDEX audit_log_at_idx ON audit_log (at);
            COMMENT ON TABLE audit_log IS 'append-only, hash-chained record of every event; metadata only, people by keyed hash';
            COMMENT ON COLUMN audit_log.hash IS 'sha256(previous entry''s hash || audit_canonical(entry)); the first entry chains from 32 zero bytes';

            CREATE TABLE audit_head (
                singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                seq bigint NOT NULL,
                hash bytea NOT NULL
            );
            INSERT INTO audit_head VALUES (true, 0, decode(repeat('00', 32), 'hex'));
            COMMENT ON TABLE audit_head IS 'the last entry of audit_log (sequence number and hash); appenders lock it, so the chain never forks';

            -- One field of the canonical encoding: its length in UTF-8 bytes, a colon, the text, a semicolon.
            CREATE FUNCTION audit_field(value text) RETURNS text
                LANGUAGE sql STABLE PARALLEL SAFE
                RETURN octet_length(convert_to(value, 'UTF8'))::text || ':' || value || ';';

            -- The canonical encoding of an entry, as hashed. Weiche's verifier computes the same bytes on its own.
            CREATE FUNCTION audit_canonical(
                seq bigint, at timestamptz, actor text, kind text, message_id uuid, agencies text[], subject text, details jsonb
            ) RETURNS bytea
                LANGUAGE sql STABLE PARALLEL SAFE
                RETURN convert_to('weiche-audit/1;'
                    || audit_field(seq::text)
                    || audit_field(((extract(epoch FROM at) * 1000000)::bigint)::text)
                    || audit_field(actor)
                    || audit_field(kind)
                    || audit_field(coalesce(message_id::text, ''))
                    || audit_field(array_to_string(agencies, ','))
                    || audit_field(coalesce(subject, ''))
                    || audit_field(details::text), 'UTF8');

            -- The only way into the log: appends a batch of entries at the head, in order, under
            -- the head's row lock (held until the caller's transaction ends, so appends never fork
            -- the chain or leave a gap). Each entry: {at, actor, kind, message?, agency?, subject?, details?}.
            -- The message's sender and subject are added from the message itself.
            CREATE FUNCTION audit_append(entries jsonb) RETURNS bigint
                LANGUAGE plpgsql SECURITY DEFINER
            AS $append$
            DECLARE
                head_seq bigint;
                head_hash bytea;
                entry jsonb;
                entry_at timestamptz;
                entry_message uuid;
                entry_agencies text[];
                entry_subject text;
                entry_details jsonb;
                sender text;
                message_subject text;
            BEGIN
                IF entries IS NULL OR jsonb_typeof(entries) <> 'array' OR jsonb_array_length(entries) = 0 THEN
                    RETURN NULL;
                END IF;
                SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_head h FOR UPDATE;
                FOR entry IN SELECT value FROM jsonb_array_elements(entries) LOOP
                    head_seq := head_seq + 1;
                    entry_at := (entry ->> 'at')::timestamptz;
                    entry_message := (entry ->> 'message')::uuid;
                    entry_details := coalesce(entry -> 'details', '{}'::jsonb);
                    sender := NULL;
                    message_subject := NULL;
                    IF entry_message IS NOT NULL THEN
                        SELECT m.sender, m.subject INTO sender, message_subject FROM message m WHERE m.id = entry_message;
                    END IF;
                    entry_agencies := '{}';
                    IF sender IS NOT NULL THEN
                        entry_agencies := entry_agencies || sender;
                    END IF;
                    IF entry ->> 'agency' IS NOT NULL AND NOT (entry ->> 'agency' = ANY (entry_agencies)) THEN
                        entry_agencies := entry_agencies || (entry ->> 'agency');
                    END IF;
                    entry_subject := coalesce(entry ->> 'subject', message_subject);
                    IF entry_at IS NULL OR entry ->> 'actor' IS NULL OR entry ->> 'kind' IS NULL THEN
                        RAISE EXCEPTION 'an audit entry needs at, actor and kind';
                    END IF;
                    head_hash := sha256(head_hash || audit_canonical(
                        head_seq, entry_at, entry ->> 'actor', entry ->> 'kind', entry_message, entry_agencies, entry_subject, entry_details));
                    INSERT INTO audit_log (seq, at, actor, kind, message_id, agencies, subject, details, hash)
                    VALUES (head_seq, entry_at, entry ->> 'actor', entry ->> 'kind', entry_message, entry_agencies, entry_subject,
                            entry_details, head_hash);
                END LOOP;
                UPDATE audit_head SET seq = head_seq, hash = head_hash;
                RETURN head_seq;
            END
            $append$;

            -- An auditor's query of personal data, logged with the database user who ran it.
            CREATE FUNCTION audit_record_query(actor text, details jsonb) RETURNS bigint
                LANGUAGE sql SECURITY DEFINER
                RETURN audit_append(jsonb_build_array(jsonb_build_object(
                    'at', clock_timestamp(), 'actor', actor, 'kind', 'audit-query',
                    'details', coalesce(details, '{}'::jsonb) || jsonb_build_object('databaseUser', session_user::text))));

            CREATE FUNCTION audit_refuse_change() RETURNS trigger
                LANGUAGE plpgsql
            AS $refuse$
            BEGIN
                RAISE EXCEPTION 'the audit log is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
                    USING ERRCODE = 'insufficient_privilege';
            END
            $refuse$;
            CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
                FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
            CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
                FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
            CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
                FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
            CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
                FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

            -- What auditors see of messages and deliveries: metadata, never payloads.
            CREATE VIEW message_metadata AS
                SELECT id, sender, sender_message_id, type, sent_at, received_at, legal_basis, purpose,
                       consent_reference IS NOT NULL AS has_consent_reference, in_reply_to, subject, erased_at
                FROM message;
            CREATE VIEW delivery_metadata AS
                SELECT id, message_id, kind, recipient, receipt_from, state, attempts, due_at, created_at, finished_at, last_error
                FROM delivery;

            -- The pipeline's earlier events become the chain's first entries, in their order.
            SELECT audit_append(coalesce(
                (SELECT jsonb_agg(jsonb_build_object(
                    'at', at, 'actor', actor, 'kind', kind, 'message', message_id, 'agency', agency, 'details', details) ORDER BY id)
                 FROM pipeline_event),
                '[]'::jsonb));
            DROP TABLE pipeline_event;

            DO $grants$
            DECLARE
                gateway text := (SELECT name FROM database_role WHERE purpose = 'gateway');
                auditor text := (SELECT name FROM database_role WHERE purpose = 'auditor');
                schema text := current_schema();
            BEGIN
                EXECUTE format('ALTER FUNCTION audit_append(jsonb) SET search_path = %I, pg_temp', schema);
                EXECUTE format('ALTER FUNCTION audit_record_query(text, jsonb) SET search_path = %I, pg_temp', schema);
                REVOKE ALL ON FUNCTION audit_append(jsonb), audit_record_query(text, jsonb) FROM PUBLIC;
                REVOKE ALL ON audit_log, audit_head FROM PUBLIC;
                EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I, %I', schema, gateway, auditor);
                EXECUTE format('GRANT SELECT ON installation, schema_migrations, database_role TO %I, %I', gateway, auditor);
                EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON message, delivery, delivery_attempt TO %I', gateway);
                EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_log, audit_head FROM %I', gateway);
                EXECUTE format('GRANT SELECT ON audit_log, audit_head, message_metadata, delivery_metadata TO %I, %I', gateway, auditor);
                EXECUTE format('GRANT EXECUTE ON FUNCTION audit_append(jsonb) TO %I', gateway);
                EXECUTE format('GRANT EXECUTE ON FUNCTION audit_record_query(text, jsonb) TO %I, %I', gateway, auditor);
            END
            $grants$;
            """#)
}
