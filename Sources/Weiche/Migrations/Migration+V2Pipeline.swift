extension Migration {
    /// The durable pipeline: messages as received, one delivery per allowed recipient, every
    /// delivery attempt, and the pipeline's events.
    static let v2Pipeline = Migration(
        version: 2,
        name: "pipeline",
        sql: """
            CREATE TABLE message (
                id uuid PRIMARY KEY,
                sender text NOT NULL,
                sender_message_id text NOT NULL,
                type text NOT NULL,
                sent_at timestamptz NOT NULL,
                received_at timestamptz NOT NULL,
                legal_basis text NOT NULL,
                purpose text NOT NULL,
                consent_reference text,
                in_reply_to text,
                content_sha256 text NOT NULL,
                referral jsonb,
                erased_at timestamptz,
                CONSTRAINT message_sender_message_key UNIQUE (sender, sender_message_id)
            );
            COMMENT ON COLUMN message.referral IS 'the canonical referral as received; NULL once erased';
            COMMENT ON COLUMN message.content_sha256 IS 'identifies the content, to tell a repeat from a conflicting reuse of sender_message_id';

            CREATE TABLE delivery (
                id uuid PRIMARY KEY,
                message_id uuid NOT NULL REFERENCES message (id),
                recipient text NOT NULL,
                state text NOT NULL CHECK (state IN ('pending', 'delivering', 'delivered', 'failed')),
                attempts integer NOT NULL DEFAULT 0,
                due_at timestamptz NOT NULL,
                lease_owner text,
                lease_expires_at timestamptz,
                last_error text,
                content jsonb,
                created_at timestamptz NOT NULL,
                finished_at timestamptz,
                CONSTRAINT delivery_message_recipient_key UNIQUE (message_id, recipient)
            );
            COMMENT ON COLUMN delivery.content IS 'the referral minimised for this recipient; NULL once erased';
            CREATE INDEX delivery_pending_due_idx ON delivery (due_at) WHERE state = 'pending';
            CREATE INDEX delivery_leased_idx ON delivery (lease_expires_at) WHERE state = 'delivering';

            CREATE TABLE delivery_attempt (
                delivery_id uuid NOT NULL REFERENCES delivery (id),
                attempt integer NOT NULL,
                worker text NOT NULL,
                started_at timestamptz NOT NULL,
                finished_at timestamptz NOT NULL,
                outcome text NOT NULL CHECK (outcome IN ('delivered', 'retryable', 'permanent')),
                error text,
                PRIMARY KEY (delivery_id, attempt)
            );

            CREATE TABLE pipeline_event (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                at timestamptz NOT NULL,
                actor text NOT NULL,
                kind text NOT NULL,
                message_id uuid,
                agency text,
                details jsonb NOT NULL DEFAULT '{}'
            );
            CREATE INDEX pipeline_event_message_idx ON pipeline_event (message_id);
            COMMENT ON TABLE pipeline_event IS 'what happened to each message; metadata only, never payloads';
            """)
}
