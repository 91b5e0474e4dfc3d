import Foundation
import Testing
import WeichePostgres
import WeicheTesting

@Suite("Encoding and decoding every supported type")
struct TypeRoundTripTests {
    /// Sends `value` as a parameter, stores it in a column of `sqlType`, and reads it back.
    private func roundTrip<Value: PostgresEncodable & PostgresDecodable>(
        _ value: Value?, as sqlType: String, on pool: PostgresConnectionPool
    ) async throws -> Value? {
        try await pool.withConnection { connection async throws in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE TEMP TABLE IF NOT EXISTS v (x \(sqlType))"))
            try await connection.query("TRUNCATE v")
            try await connection.query("INSERT INTO v (x) VALUES (\(value))")
            let rows = try await connection.query("SELECT x FROM v")
            try await connection.query("DROP TABLE v")
            return try rows.single().decode(Value?.self, at: 0)
        }
    }

    @Test func integersFloatsAndBooleans() async throws {
        try await TestPostgres.withSchema { pool async throws in
            #expect(try await roundTrip(Int.max, as: "bigint", on: pool) == Int.max)
            #expect(try await roundTrip(Int.min, as: "bigint", on: pool) == Int.min)
            #expect(try await roundTrip(Int64(-42), as: "bigint", on: pool) == -42)
            #expect(try await roundTrip(Int32.min, as: "integer", on: pool) == Int32.min)
            #expect(try await roundTrip(Int16(-7), as: "smallint", on: pool) == -7)
            #expect(try await roundTrip(3.141_592_653_589_793, as: "double precision", on: pool) == 3.141_592_653_589_793)
            #expect(try await roundTrip(-0.0, as: "double precision", on: pool) == 0)
            #expect(try await roundTrip(true, as: "boolean", on: pool) == true)
            #expect(try await roundTrip(false, as: "boolean", on: pool) == false)
        }
    }

    @Test func nullForEveryType() async throws {
        try await TestPostgres.withSchema { pool async throws in
            #expect(try await roundTrip(Int?.none, as: "bigint", on: pool) == nil)
            #expect(try await roundTrip(Int32?.none, as: "integer", on: pool) == nil)
            #expect(try await roundTrip(Double?.none, as: "double precision", on: pool) == nil)
            #expect(try await roundTrip(Bool?.none, as: "boolean", on: pool) == nil)
            #expect(try await roundTrip(String?.none, as: "text", on: pool) == nil)
            #expect(try await roundTrip([UInt8]?.none, as: "bytea", on: pool) == nil)
            #expect(try await roundTrip(UUID?.none, as: "uuid", on: pool) == nil)
            #expect(try await roundTrip(Date?.none, as: "timestamptz", on: pool) == nil)
            #expect(try await roundTrip(PostgresJSON<[String]>?.none, as: "jsonb", on: pool) == nil)
        }
    }

    /// A NULL is sent with its Swift type's PostgreSQL type, so that a statement where nothing
    /// else gives the parameter a type still runs (untyped, `$1 IS NULL` failed with "could not
    /// determine data type of parameter $1").
    @Test func nullsAreSentWithTheirType() async throws {
        try await TestPostgres.withSchema { pool async throws in
            func typeOfNull<Value: PostgresEncodable>(_ value: Value?) async throws -> String {
                let row = try await pool.query("SELECT pg_typeof(\(value))::text, \(value) IS NULL").single()
                #expect(try row.decode(Bool.self, at: 1))
                return try row.decode(String.self, at: 0)
            }
            #expect(try await typeOfNull(Int?.none) == "bigint")
            #expect(try await typeOfNull(Int64?.none) == "bigint")
            #expect(try await typeOfNull(Int32?.none) == "integer")
            #expect(try await typeOfNull(Int16?.none) == "smallint")
            #expect(try await typeOfNull(Double?.none) == "double precision")
            #expect(try await typeOfNull(Bool?.none) == "boolean")
            #expect(try await typeOfNull(String?.none) == "text")
            #expect(try await typeOfNull([UInt8]?.none) == "bytea")
            #expect(try await typeOfNull(Data?.none) == "bytea")
            #expect(try await typeOfNull(UUID?.none) == "uuid")
            #expect(try await typeOfNull(Date?.none) == "timestamp with time zone")
            #expect(try await typeOfNull(PostgresArray<String>?.none) == "text[]")
            #expect(try await typeOfNull(PostgresRawJSON?.none) == "jsonb")
        }
    }

    @Test(arguments: ["", "plain", "Größe Straße Ärger Öl Übel ß", "emoji 🚂🔀👩‍👧 and 漢字", "quote ' \" \\ and ; --", "long"])
    func textKeepsEveryCharacter(_ sample: String) async throws {
        let text = sample == "long" ? String(repeating: "Weiche ", count: 20_000) : sample
        try await TestPostgres.withSchema { pool async throws in
            #expect(try await roundTrip(text, as: "text", on: pool) == text)
            #expect(try await roundTrip(text, as: "varchar", on: pool) == text)
        }
    }

    @Test func emptyStringIsNotNull() async throws {
        try await TestPostgres.withSchema { pool async throws in
            let rows = try await pool.query("SELECT \("") IS NULL, length(\(""))")
            let (isNull, length) = try rows.single().decode((Bool, Int).self)
            #expect(!isNull)
            #expect(length == 0)
        }
    }

    @Test func tenMegabytesOfBytea() async throws {
        // 10 MiB: a random 64 KiB block, repeated, with every byte value present.
        let block = (0..<65_536).map { _ in UInt8.random(in: 0...255) }
        // Appended block by block: joining a flattened sequence is element by element, several
        // seconds of a debug build's CPU that other tests (some of them timed) wait for.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(160 * block.count)
        for _ in 0..<160 { bytes.append(contentsOf: block) }
        try await TestPostgres.withSchema { pool async throws in
            let back = try await roundTrip(bytes, as: "bytea", on: pool)
            #expect(back == bytes)
            let asData = try await roundTrip(Data(bytes.prefix(1000)), as: "bytea", on: pool)
            #expect(asData == Data(bytes.prefix(1000)))
            let empty = try await roundTrip([UInt8](), as: "bytea", on: pool)
            #expect(empty == [])
        }
    }

    @Test func uuids() async throws {
        try await TestPostgres.withSchema { pool async throws in
            let id = UUID()
            #expect(try await roundTrip(id, as: "uuid", on: pool) == id)
            let text = try await pool.query("SELECT \(id)::text").single().decode(String.self, at: 0)
            #expect(text == id.uuidString.lowercased())
        }
    }

    @Test func timestampsKeepMicrosecondsInEveryTimeZone() async throws {
        // 2024-03-31 00:59:59.123456 UTC: one second before Central Europe changes to summer time.
        let instant = Date(timeIntervalSince1970: 1_711_846_799.123_456)
        try await TestPostgres.withSchema { pool async throws in
            for zone in ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kathmandu", "Pacific/Chatham"] {
                try await pool.withConnection { connection async throws in
                    try await connection.query("SELECT set_config('TimeZone', \(zone), false)")
                    let rows = try await connection.query("""
                        SELECT \(instant)::timestamptz,
                               extract(microseconds FROM \(instant)::timestamptz)::bigint % 1000000,
                               '2024-03-31 03:00:00+02'::timestamptz
                        """)
                    let (back, micros, literal) = try rows.single().decode((Date, Int, Date).self)
                    #expect(abs(back.timeIntervalSince(instant)) < 0.000_000_5, "in \(zone)")
                    #expect(micros == 59_123_456 % 1_000_000, "in \(zone)")
                    #expect(literal == Date(timeIntervalSince1970: 1_711_846_800), "in \(zone)")
                }
            }
            let future = try await roundTrip(Date.distantFuture, as: "timestamptz", on: pool)
            #expect(future == .distantFuture)
        }
    }

    struct Envelope: Codable, Sendable, Equatable {
        var name: String
        var count: Int
        var tags: [String]
        var nested: [String: Double]?
    }

    @Test func jsonAndJsonbIntoCodable() async throws {
        let value = Envelope(name: "Jugendamt – Übergang 🚸", count: 3, tags: ["a", "ß"], nested: ["x": 1.5])
        try await TestPostgres.withSchema { pool async throws in
            let jsonb = try await roundTrip(PostgresJSON(value), as: "jsonb", on: pool)
            #expect(jsonb?.value == value)
            let json = try await roundTrip(PostgresJSON(value, as: .json), as: "json", on: pool)
            #expect(json?.value == value)
            let text = try await pool.query("SELECT \(PostgresJSON(value)) ->> 'name'").single().decode(String.self, at: 0)
            #expect(text == value.name)
        }
    }

    /// Documents sent as one `json[]` parameter come back with their exact text (a `json`
    /// value keeps its spacing and member order); what is not JSON is refused by the server.
    @Test func rawJSONDocumentsKeepTheirTextAndAreChecked() async throws {
        let documents = [#"{"b": 1,"a":[true, null]}"#, #""Größe \" 🚂""#, "[]", "  {}  ", String(repeating: #"{"x":"#, count: 50) + "0" + String(repeating: "}", count: 50)]
        try await TestPostgres.withSchema { pool async throws in
            var bindings = PostgresBindings()
            bindings.append(PostgresArray(documents.map { PostgresJSONDocument(Array($0.utf8)) }))
            let back = try await pool.query(PostgresQuery(unsafeSQL: "SELECT d::text FROM unnest($1::json[]) WITH ORDINALITY AS u(d, n) ORDER BY n", bindings: bindings))
                .map { try $0.decode(String.self, at: 0) }
            #expect(back == documents)
            let empty = try await pool.query("SELECT cardinality(\(PostgresArray<PostgresJSONDocument>([]))::json[])").single().decode(Int?.self, at: 0)
            #expect(empty == 0)
            for broken in [#"{"a":"#, "{'a': 1}", "", #"{"a": 1} x"#] {
                let error = await #expect(throws: PostgresError.self) {
                    try await pool.query("SELECT cardinality(\(PostgresArray([PostgresJSONDocument(Array("[]".utf8)), PostgresJSONDocument(Array(broken.utf8))]))::json[])")
                }
                #expect(error?.sqlState == "22P02", "\(broken): \(String(describing: error))")
            }
        }
    }

    struct Stamped: Codable, Sendable, Equatable {
        var at: Date
    }

    @Test func jsonDatesKeepMicroseconds() async throws {
        let instants = [
            Date(timeIntervalSince1970: 1_711_846_799.123_456),
            Date(timeIntervalSince1970: 0),
            Date(timeIntervalSince1970: -1.5),
        ]
        try await TestPostgres.withSchema { pool async throws in
            for instant in instants {
                let back = try await roundTrip(PostgresJSON(Stamped(at: instant)), as: "jsonb", on: pool)
                #expect(abs(try #require(back).value.at.timeIntervalSince(instant)) < 0.000_000_5, "\(instant)")
            }
            let text = try await pool.query("SELECT \(PostgresJSON(Stamped(at: instants[0]))) ->> 'at'").single().decode(String.self, at: 0)
            #expect(text == "2024-03-31T00:59:59.123456Z")
        }
    }

    @Test func decodingMismatchNamesTheColumn() async throws {
        try await TestPostgres.withSchema { pool async throws in
            let row = try await pool.query("SELECT 1::integer AS amount, NULL::text AS note").single()
            let mismatch = #expect(throws: PostgresError.self) { try row.decode(String.self, column: "amount") }
            #expect(mismatch?.code == .decoding)
            #expect(mismatch?.description.contains("\"amount\"") == true)
            #expect(mismatch?.description.contains("int4") == true)
            let null = #expect(throws: PostgresError.self) { try row.decode(String.self, column: "note") }
            #expect(null?.description.contains("\"note\"") == true)
            #expect(null?.description.contains("NULL") == true)
            #expect(try row.decode(String?.self, column: "note") == nil)
            #expect(throws: PostgresError.self) { try row.decode((Int, String?, Int).self) }
            #expect(throws: PostgresError.self) { try row.decode(Int.self, column: "missing") }
        }
    }

    @Test func arraysAsParameters() async throws {
        try await TestPostgres.withSchema { pool async throws in
            let ids = [UUID(), UUID()]
            let rows = try await pool.query("SELECT count(*) FROM unnest(\(PostgresArray(ids))) AS u(id) WHERE id = ANY(\(PostgresArray(ids)))")
            #expect(try rows.single().decode(Int.self, at: 0) == 2)
            let names = try await pool.query("SELECT array_to_string(\(PostgresArray(["ä", "b;c"])), '|')")
            #expect(try names.single().decode(String.self, at: 0) == "ä|b;c")
        }
    }

    /// NULL elements keep their places; times keep their microseconds; `jsonb[]` elements are
    /// parsed by the server (and refused when they are not JSON).
    @Test func arraysWithNullsTimesAndJsonb() async throws {
        try await TestPostgres.withSchema { pool async throws in
            let texts: [String?] = [nil, "ä", nil, ""]
            let back = try await pool.query("""
                SELECT coalesce(t, '<null>'), array_position(\(PostgresArray(texts)), NULL) FROM unnest(\(PostgresArray(texts))) WITH ORDINALITY AS u(t, n) ORDER BY n
                """).map { try $0.decode((String, Int).self) }
            #expect(back.map(\.0) == ["<null>", "ä", "<null>", ""])
            #expect(back.allSatisfy { $0.1 == 1 })
            let ids: [UUID?] = [UUID(), nil]
            let nulls = try await pool.query("SELECT count(*) FILTER (WHERE u IS NULL), count(*) FROM unnest(\(PostgresArray(ids))) AS u")
                .single().decode((Int, Int).self)
            #expect(nulls == (1, 2))
            let none = try await pool.query("SELECT array_position(\(PostgresArray(["a", "b"])), NULL)").single().decode(Int?.self, at: 0)
            #expect(none == nil)

            let instants = [Date(timeIntervalSince1970: 1_711_846_799.123_456), Date(timeIntervalSince1970: -1.5)]
            let times = try await pool.query("""
                SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM unnest(\(PostgresArray(instants))) WITH ORDINALITY AS u(t, n) ORDER BY n
                """).map { try $0.decode(String.self, at: 0) }
            #expect(times == ["2024-03-31 00:59:59.123456", "1969-12-31 23:59:58.500000"])

            let documents = [#"{"b": "2", "a": "ä"}"#, "{}"].map { PostgresRawJSON(Array($0.utf8)) }
            let jsonb = try await pool.query("SELECT d::text FROM unnest(\(PostgresArray(documents))) WITH ORDINALITY AS u(d, n) ORDER BY n")
                .map { try $0.decode(String.self, at: 0) }
            #expect(jsonb == [#"{"a": "ä", "b": "2"}"#, "{}"], "parsed into jsonb: members in jsonb's order")
            let error = await #expect(throws: PostgresError.self) {
                try await pool.query("SELECT cardinality(\(PostgresArray([PostgresRawJSON(Array("{".utf8))])))")
            }
            #expect(error?.sqlState == "22P02", "\(String(describing: error))")
        }
    }
}
