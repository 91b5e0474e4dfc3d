import Foundation
import Testing
import WeichePostgres
import WeicheTesting

/// Statements with parameters are prepared once per session and then executed by name.
@Suite("Prepared statements")
struct PreparedStatementTests {
    /// The statements the session has prepared, as the server lists them.
    func preparedOnServer(_ connection: PostgresConnection) async throws -> [String] {
        try await connection.query("SELECT statement FROM pg_prepared_statements ORDER BY prepare_time, name")
            .map { try $0.decode(String.self, at: 0) }
    }

    /// A connection of its own, on a schema of the test's, with `limit` prepared statements.
    func withConnection(limit: Int = 64, _ body: (PostgresConnection) async throws -> Void) async throws {
        try await TestPostgres.withSchema { pool async throws in
            let schema = try await pool.query("SELECT current_schema()").single().decode(String.self, at: 0)
            var configuration = try await TestPostgres.configuration()
            configuration.searchPath = [schema]
            configuration.preparedStatementLimit = limit
            let connection = try await PostgresConnection.connect(configuration)
            do {
                try await body(connection)
            } catch {
                await connection.close()
                throw error
            }
            await connection.close()
        }
    }

    @Test func aStatementRunManyTimesIsPreparedOnce() async throws {
        try await withConnection { connection async throws in
            try await connection.query("CREATE TABLE t (id int PRIMARY KEY, name text)")
            for id in 1...10 {
                try await connection.query("INSERT INTO t VALUES (\(id), \("name \(id)"))")
            }
            let prepared = try await preparedOnServer(connection)
            #expect(prepared == ["INSERT INTO t VALUES ($1, $2)"])
            let names = try await connection.query("SELECT name FROM t WHERE id > \(8) ORDER BY id").map { try $0.decode(String.self, at: 0) }
            #expect(names == ["name 9", "name 10"])
        }
    }

    /// Statements without parameters (BEGIN, COMMIT, DDL) and statements with a NULL whose type
    /// the server would infer (only `PostgresJSON`'s, whose type is chosen per value) are sent as
    /// they are. Any other NULL is typed, and prepared under its type: the same text with a NULL
    /// of another type is prepared apart, so a type inferred once never sticks.
    @Test func statementsWithoutParametersOrWithUntypedNullsAreNotPrepared() async throws {
        try await withConnection { connection async throws in
            try await connection.query("CREATE TABLE j (x jsonb)")
            try await connection.query("INSERT INTO j VALUES (\(PostgresJSON<[String]>?.none))")
            #expect(try await preparedOnServer(connection).isEmpty)
            try await connection.query("CREATE TABLE t (x bigint)")
            try await connection.query("INSERT INTO t VALUES (\(Int?.none))")
            #expect(try await preparedOnServer(connection) == ["INSERT INTO t VALUES ($1)"])
            // The same text with a boolean column: the bigint statement would not fit it.
            try await connection.query("DROP TABLE t")
            try await connection.query("CREATE TABLE t (x boolean)")
            try await connection.query("INSERT INTO t VALUES (\(Bool?.none))")
            var bindings = PostgresBindings()
            bindings.appendNull(.bool)
            try await connection.query(PostgresQuery(unsafeSQL: "INSERT INTO t VALUES ($1)", bindings: bindings))
            #expect(try await preparedOnServer(connection) == ["INSERT INTO t VALUES ($1)", "INSERT INTO t VALUES ($1)"])
            #expect(try await connection.query("SELECT count(*)::bigint FROM t WHERE x IS NULL").single().decode(Int.self, at: 0) == 2)
        }
    }

    @Test func theOldestStatementIsDeallocatedAtTheLimit() async throws {
        try await withConnection(limit: 2) { connection async throws in
            for number in 1...3 {
                try await connection.query(PostgresQuery(unsafeSQL: "SELECT $1::int + \(number)", bindings: { var b = PostgresBindings(); b.append(number); return b }()))
            }
            // The listing itself has no parameters, so it takes no place.
            #expect(try await preparedOnServer(connection) == ["SELECT $1::int + 2", "SELECT $1::int + 3"])
            // The deallocated one is prepared again when it comes back.
            let again = try await connection.query(PostgresQuery(unsafeSQL: "SELECT $1::int + 1", bindings: { var b = PostgresBindings(); b.append(41); return b }()))
            #expect(try again.single().decode(Int.self, at: 0) == 42)
            #expect(try await preparedOnServer(connection) == ["SELECT $1::int + 3", "SELECT $1::int + 1"])
        }
    }

    /// Statements deallocated behind Weiche's back (`DEALLOCATE ALL`): each fails once, is
    /// prepared anew, and making room for new ones later does not trip over the lost names.
    @Test func statementsDeallocatedBehindItsBackArePreparedAgain() async throws {
        try await withConnection(limit: 2) { connection async throws in
            func add(_ number: Int) async throws -> Int {
                var bindings = PostgresBindings()
                bindings.append(number)
                return try await connection.query(PostgresQuery(unsafeSQL: "SELECT $1::int + \(number)", bindings: bindings)).single().decode(Int.self, at: 0)
            }
            #expect(try await add(1) == 2)
            #expect(try await add(2) == 4)
            try await connection.query("DEALLOCATE ALL")
            await #expect(throws: PostgresError.self) { try await add(1) }
            #expect(try await add(1) == 2)
            #expect(try await add(3) == 6)
            #expect(try await add(4) == 8)
            #expect(try await preparedOnServer(connection) == ["SELECT $1::int + 3", "SELECT $1::int + 4"])
        }
    }

    /// A pipeline's statements are all prepared before it is sent. At the limit, the one used
    /// least recently makes room, never one the pipeline is about to run, even if that one was
    /// prepared first.
    @Test func aPipelinesStatementsNeverPushEachOtherOut() async throws {
        try await withConnection(limit: 2) { connection async throws in
            func add(_ number: Int, to value: Int) -> PostgresQuery {
                var bindings = PostgresBindings()
                bindings.append(value)
                return PostgresQuery(unsafeSQL: "SELECT $1::int + \(number)", bindings: bindings)
            }
            try await connection.query(add(1, to: 0))
            try await connection.query(add(2, to: 0))
            // "+ 1" is the oldest; preparing "+ 3" must push out "+ 2", which the pipeline does not run.
            let rows = try await connection.pipeline([add(1, to: 10), add(3, to: 10)])
            #expect(try rows.map { try $0.single().decode(Int.self, at: 0) } == [11, 13])
            #expect(Set(try await preparedOnServer(connection)) == ["SELECT $1::int + 1", "SELECT $1::int + 3"])
            // More statements than the session keeps go as text.
            let many = try await connection.pipeline([add(4, to: 0), add(5, to: 0), add(6, to: 0)])
            #expect(try many.map { try $0.single().decode(Int.self, at: 0) } == [4, 5, 6])
            #expect(Set(try await preparedOnServer(connection)) == ["SELECT $1::int + 1", "SELECT $1::int + 3"])
        }
    }

    @Test func aLimitOfZeroPreparesNothing() async throws {
        try await withConnection(limit: 0) { connection async throws in
            for number in 1...3 {
                #expect(try await connection.query("SELECT \(number)::int").single().decode(Int.self, at: 0) == number)
            }
            #expect(try await preparedOnServer(connection).isEmpty)
        }
    }

    /// A table whose shape changed under a prepared statement (a migration while a gateway
    /// runs): the next run fails once, as PostgreSQL reports it, and the one after prepares
    /// the statement anew and succeeds.
    @Test func aStatementWhoseResultChangedIsPreparedAnewAfterOneFailure() async throws {
        try await withConnection { connection async throws in
            try await connection.query("CREATE TABLE t (id int, a text)")
            try await connection.query("INSERT INTO t VALUES (1, 'one')")
            let select: PostgresQuery = "SELECT * FROM t WHERE id = \(1)"
            #expect(try await connection.query(select).columns.count == 2)
            try await connection.query("ALTER TABLE t ADD COLUMN b text")
            await #expect(throws: PostgresError.self) { try await connection.query(select) }
            #expect(try await connection.query(select).columns.count == 3)
        }
    }
}
