extension Migration {
    /// Payloads are stored as `json`, the text the gateway wrote, instead of `jsonb`
    /// (Decision 0011). The referral as received (`message.referral`) and the content sent to
    /// each recipient (`delivery.content`) are only ever stored whole and read back whole:
    /// no statement looks inside them. As `jsonb`, PostgreSQL 15 parsed each 2–3 KB payload
    /// into a tree, sorted every object's keys, built the binary form, and printed it back to
    /// text whenever a worker claimed a delivery: most of the 30 % of the database's CPU that
    /// reading the statements' parameters took. As `json`, it checks that the text is JSON and
    /// stores it as it came.
    ///
    /// Existing values are converted (their text becomes `jsonb`'s printed form, the same
    /// JSON). Changing the type rewrites both tables and resets the columns' compression,
    /// which migration 8's own statements set to lz4 again.
    static let v10PayloadsAsText = Migration(
        version: 10,
        name: "payloads-as-text",
        sql: """
            ALTER TABLE message ALTER COLUMN referral TYPE json USING referral::json;
            ALTER TABLE delivery ALTER COLUMN content TYPE json USING content::json;
            COMMENT ON COLUMN message.referral IS 'the referral as received, as the gateway stored it (JSON text); NULL once erased';
            COMMENT ON COLUMN delivery.content IS 'the referral minimised for this recipient (JSON text); NULL once erased';

            """ + Migration.v8PayloadCompression.sql,
        notice: "rewrites the message and delivery tables and locks them while it runs (about a minute per million referrals); stop the gateway first")
}
