extension Migration {
    /// Replays: a delivery sent again is a new delivery linked to the one it replays; the
    /// original row and its attempts stay as they were.
    static let v5Replay = Migration(
        version: 5,
        name: "replay",
        sql: """
            ALTER TABLE delivery
                ADD COLUMN replay_of uuid REFERENCES delivery (id),
                ADD COLUMN replayed_by text,
                ADD COLUMN replay_reason text;
            DROP INDEX delivery_referral_key;
            DROP INDEX delivery_receipt_key;
            CREATE UNIQUE INDEX delivery_referral_key ON delivery (message_id, recipient) WHERE kind = 'referral' AND replay_of IS NULL;
            CREATE UNIQUE INDEX delivery_receipt_key ON delivery (message_id, recipient, receipt_from) WHERE kind = 'receipt' AND replay_of IS NULL;
            CREATE UNIQUE INDEX delivery_replay_key ON delivery (replay_of) WHERE replay_of IS NOT NULL;
            CREATE INDEX delivery_failed_idx ON delivery (recipient) WHERE state = 'failed';
            COMMENT ON COLUMN delivery.replay_of IS 'the delivery this one sends again; at most one replay per delivery, so a replay is never made twice';
            CREATE OR REPLACE VIEW delivery_metadata AS
                SELECT id, message_id, kind, recipient, receipt_from, state, attempts, due_at, created_at, finished_at, last_error,
                       replay_of, replayed_by, replay_reason
                FROM delivery;
            """)
}
