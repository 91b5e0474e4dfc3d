extension Migration {
    /// A delivery keeps the terms its content is made under instead of a second copy of the
    /// payload (Decision 0012): the route's data categories and wording when the policy
    /// decided. With the message's referral they give the content exactly; the gateway makes
    /// it when it claims the delivery. Deliveries stored before keep their `content` and are
    /// read from it; a delivery with `content` NULL and no terms carries a receipt, or its
    /// payload was erased.
    ///
    /// The delivery row, which every claim and completion rewrites, is now a few hundred bytes
    /// instead of two or three kilobytes.
    static let v11DeliveryTerms = Migration(
        version: 11,
        name: "delivery-terms",
        sql: """
            ALTER TABLE delivery
                ADD COLUMN categories text[],
                ADD COLUMN legal_basis text,
                ADD COLUMN purpose text,
                ADD COLUMN notice text;
            COMMENT ON COLUMN delivery.content IS 'the referral minimised for this recipient (JSON text), for deliveries stored before migration 11; NULL once erased';
            COMMENT ON COLUMN delivery.categories IS 'the data categories the recipient may receive: with the message''s referral and the wording below, the content this delivery sends';
            COMMENT ON COLUMN delivery.legal_basis IS 'the route''s legal basis when the policy decided, which the content states';
            COMMENT ON COLUMN delivery.purpose IS 'the route''s purpose when the policy decided, which the content states';
            COMMENT ON COLUMN delivery.notice IS 'the route''s notice (purpose binding) when the policy decided, if any';
            """)
}
