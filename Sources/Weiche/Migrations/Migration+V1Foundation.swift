extension Migration {
    /// The installation itself: one row that names this Weiche database.
    static let v1Foundation = Migration(
        version: 1,
        name: "foundation",
        sql: """
            CREATE TABLE installation (
                singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                id uuid NOT NULL DEFAULT gen_random_uuid(),
                created_at timestamptz NOT NULL DEFAULT now()
            );
            INSERT INTO installation DEFAULT VALUES;
            COMMENT ON TABLE installation IS 'Weiche: the one row that identifies this installation';
            """)
}
