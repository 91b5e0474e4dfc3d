import Foundation
import Testing
import WeichePostgres
import WeicheTesting

@Suite("Errors from the server and from connecting")
struct ErrorTests {
    @Test func uniqueViolationCarriesSQLStateAndConstraintButNoValues() async throws {
        try await TestPostgres.withSchema { pool async throws in
            try await pool.query("CREATE TABLE person (email text CONSTRAINT person_email_key UNIQUE)")
            let secret = "maria.muster@example.org"
            try await pool.query("INSERT INTO person VALUES (\(secret))")
            let error = await #expect(throws: PostgresError.self) {
                try await pool.query("INSERT INTO person VALUES (\(secret))")
            }
            #expect(error?.code == .server)
            #expect(error?.sqlState == "23505")
            #expect(error?.constraintName == "person_email_key")
            #expect(error?.tableName == "person")
            #expect(error?.detail?.contains(secret) == true, "the detail keeps the server's words for code")
            #expect(error?.description.contains(secret) == false, "but the description never shows the value")
            #expect(error?.description.contains("23505") == true)
        }
    }

    @Test func syntaxErrorIs42601() async throws {
        try await TestPostgres.withSchema { pool async throws in
            let error = await #expect(throws: PostgresError.self) { try await pool.query("SELEC 1") }
            #expect(error?.sqlState == "42601")
            // The connection is still usable afterwards.
            #expect(try await pool.query("SELECT 1").single().decode(Int.self, at: 0) == 1)
        }
    }

    @Test func injectionLookingValueIsStoredVerbatim() async throws {
        try await TestPostgres.withSchema { pool async throws in
            try await pool.query("CREATE TABLE note (body text)")
            let hostile = "'); DROP TABLE note; --\\' $1 \" OR 1=1"
            try await pool.query("INSERT INTO note VALUES (\(hostile))")
            let rows = try await pool.query("SELECT body FROM note WHERE body = \(hostile)")
            #expect(try rows.single().decode(String.self, at: 0) == hostile)
        }
    }

    @Test func interpolatedIdentifiersAreQuoted() async throws {
        try await TestPostgres.withSchema { pool async throws in
            let odd = "table\"; DROP SCHEMA x; --"
            try await pool.query("CREATE TABLE \(identifier: odd) (x int)")
            let rows = try await pool.query("SELECT count(*) FROM \(identifier: odd)")
            #expect(try rows.single().decode(Int.self, at: 0) == 0)
        }
    }

    @Test func refusedConnectionFailsQuicklyWithoutThePassword() async throws {
        let configuration = try PostgresConfiguration(
            connectionString: "postgresql://weiche:s3cret-Passw0rd@127.0.0.1:1/weiche", connectTimeout: .seconds(2))
        let start = ContinuousClock.now
        let error = await #expect(throws: PostgresError.self) { try await PostgresConnection.connect(configuration) }
        #expect(ContinuousClock.now - start < .seconds(10), "the acceptance bound; normally milliseconds")
        #expect(error?.code == .connectionFailed)
        #expect(error?.description.contains("s3cret") == false)
        #expect(error?.description.contains("127.0.0.1") == true)
        #expect(configuration.redactedDescription.contains("s3cret") == false)
    }

    @Test func malformedConnectionStringIsRefusedWithoutEchoingIt() {
        let error = #expect(throws: PostgresError.self) {
            try PostgresConfiguration(connectionString: "host=x password=hunter2 garbage")
        }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.description.contains("hunter2") == false)
        #expect(error?.description.contains("garbage") == false)
    }
}
