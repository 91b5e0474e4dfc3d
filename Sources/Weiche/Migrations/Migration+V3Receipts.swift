extension Migration {
    /// Receipts: a delivery may carry a recipient's receipt back to the referral's sender.
    static let v3Receipts = Migration(
        version: 3,
        name: "receipts",
        sql: """
            ALTER TABLE delivery
                ADD COLUMN kind text NOT NULL DEFAULT 'referral' CHECK (kind IN ('referral', 'receipt')),
                ADD COLUMN receipt_from text,
                ADD COLUMN receipt jsonb;
            ALTER TABLE delivery DROP CONSTRAINT delivery_message_recipient_key;
            CREATE UNIQUE INDEX delivery_referral_key ON delivery (message_id, recipient) WHERE kind = 'referral';
            CREATE UNIQUE INDEX delivery_receipt_key ON delivery (message_id, recipient, receipt_from) WHERE kind = 'receipt';
            COMMENT ON COLUMN delivery.receipt IS 'for kind receipt: the receipt to deliver to the referral''s sender';
            """)
}
