import Foundation
import Synchronization
import Testing
import WeichePostgres
import WeicheTesting

@Suite("Transactions, retries, the pool and notifications")
struct TransactionAndPoolTests {
    struct Planned: Error {}

    @Test func commitOnReturnRollbackOnThrow() async throws {
        try await TestPostgres.withSchema { pool async throws in
            try await pool.query("CREATE TABLE t (x int)")
            try await pool.withTransaction { try await $0.query("INSERT INTO t VALUES (1)") }
            await #expect(throws: Planned.self) {
                try await pool.withTransaction { connection async throws in
                    try await connection.query("INSERT INTO t VALUES (2)")
                    throw Planned()
                }
            }
            let values = try await pool.query("SELECT x FROM t ORDER BY x").map { try $0.decode(Int.self, at: 0) }
            #expect(values == [1])
        }
    }

    /// Not waiting for the flush is this transaction's setting alone: the connection goes
    /// back to the pool with synchronous commits, and the change is committed and visible.
    @Test func aTransactionThatDoesNotWaitForTheFlushChangesOnlyItself() async throws {
        try await TestPostgres.withSchema(maxConnections: 1) { pool async throws in
            try await pool.query("CREATE TABLE t (x int)")
            // The test cluster may not wait for flushes at all; make this session wait.
            try await pool.query("SET synchronous_commit = on")
            let inside = try await pool.withTransaction(waitingForFlush: false) { connection async throws in
                try await connection.query("INSERT INTO t VALUES (1)")
                return try await connection.query("SHOW synchronous_commit").single().decode(String.self, at: 0)
            }
            #expect(inside == "off")
            let after = try await pool.withConnection { connection in
                try await connection.query("SHOW synchronous_commit").single().decode(String.self, at: 0)
            }
            #expect(after == "on")
            #expect(try await pool.query("SELECT count(*)::int FROM t").single().decode(Int.self, at: 0) == 1)
        }
    }

    /// Settings travel as SQL constants with the BEGIN: quotes and backslashes arrive as given,
    /// and a setting the server refuses fails the transaction before its body runs.
    @Test func transactionSettingsArriveExactlyAndABadOneFailsCleanly() async throws {
        try await TestPostgres.withSchema(maxConnections: 1) { pool async throws in
            let name = #"it's a \ test"#
            let inside = try await pool.withTransaction(settings: [(name: "application_name", value: name)]) { connection async throws in
                try await connection.query("SELECT current_setting('application_name')").single().decode(String.self, at: 0)
            }
            #expect(inside == name)
            let ran = Mutex(false)
            await #expect(throws: PostgresError.self) {
                try await pool.withTransaction(settings: [(name: "no_such_setting_x", value: "1")]) { _ in ran.withLock { $0 = true } }
            }
            #expect(!ran.withLock { $0 })
            // The connection is usable afterwards, outside any transaction.
            #expect(try await pool.query("SELECT 1::int").single().decode(Int.self, at: 0) == 1)
        }
    }

    /// The last statement and the COMMIT go in one round trip (pipeline mode): its rows come
    /// back, the change commits, and a prepared statement runs there as anywhere.
    @Test func theLastStatementAndTheCommitGoTogether() async throws {
        try await TestPostgres.withSchema(maxConnections: 1) { pool async throws in
            try await pool.query("CREATE TABLE t (x int)")
            for value in [1, 2] {  // The second time, the statement is already prepared.
                let returned = try await pool.withConnection { connection in
                    try await connection.execute(unsafeSQL: "BEGIN")
                    try await connection.query("INSERT INTO t VALUES (0)")
                    let rows = try await connection.queryThenCommit("INSERT INTO t VALUES (\(value)) RETURNING x * 10")
                    return (try rows.single().decode(Int.self, at: 0), await connection.isInTransaction)
                }
                #expect(returned == (value * 10, false))
            }
            let result = try await pool.withTransactionEndingInStatement { connection in
                try await connection.query("INSERT INTO t VALUES (3)")
                return ("body's result", "INSERT INTO t VALUES (\(4))")
            }
            #expect(result == "body's result")
            let values = try await pool.query("SELECT x FROM t ORDER BY x").map { try $0.decode(Int.self, at: 0) }
            #expect(values == [0, 0, 1, 2, 3, 4])
        }
    }

    /// A failing last statement leaves the transaction failed, not committed: it is rolled
    /// back and the session is usable. A failing COMMIT (a deferred key) ends it as well.
    @Test func aFailingLastStatementOrCommitCommitsNothingAndLeavesTheSessionUsable() async throws {
        try await TestPostgres.withSchema(maxConnections: 1) { pool async throws in
            try await pool.query("CREATE TABLE t (x int UNIQUE DEFERRABLE INITIALLY DEFERRED)")
            let failing: [(String, PostgresQuery, String)] = [
                ("last statement", "INSERT INTO t VALUES (\(1) / 0)", "22012"),
                ("commit", "INSERT INTO t VALUES (\(7))", "23505"),
            ]
            for (what, last, sqlState) in failing {
                let error = await #expect(throws: PostgresError.self, "\(what)") {
                    try await pool.withTransactionEndingInStatement { connection in
                        try await connection.query("INSERT INTO t VALUES (7)")
                        return ((), last)
                    }
                }
                #expect(error?.sqlState == sqlState, "\(what)")
                let state = try await pool.withConnection { connection in
                    (await connection.isInTransaction, connection.isBroken)
                }
                #expect(state == (false, false), "\(what)")
                #expect(try await pool.query("SELECT count(*)::int FROM t").single().decode(Int.self, at: 0) == 0, "\(what)")
            }
        }
    }

    /// A transaction in one round trip: the statements' rows come back (not the BEGIN's, the
    /// settings' or the COMMIT's), its settings hold inside it alone, and a failure anywhere
    /// commits nothing and leaves the session usable, outside any transaction.
    @Test func aTransactionInOneRoundTripCommitsAllOrNothing() async throws {
        try await TestPostgres.withSchema(maxConnections: 1) { pool async throws in
            try await pool.query("CREATE TABLE t (x int)")
            let rows = try await pool.transaction(
                ["INSERT INTO t VALUES (\(1)), (\(2)) RETURNING x::text", "SELECT current_setting('application_name')"],
                settings: [(name: "application_name", value: "in one round trip")])
            #expect(try rows.map { try $0.map { try $0.decode(String.self, at: 0) } } == [["1", "2"], ["in one round trip"]])
            let outside = try await pool.query("SELECT current_setting('application_name')").single().decode(String.self, at: 0)
            #expect(outside != "in one round trip")
            let failing: [(String, [PostgresQuery], [(name: String, value: String)], String)] = [
                ("a statement", ["INSERT INTO t VALUES (\(3))", "INSERT INTO t VALUES (\(4) / 0)", "INSERT INTO t VALUES (\(5))"], [], "22012"),
                ("a setting", ["INSERT INTO t VALUES (\(6))"], [(name: "no_such_setting_x", value: "1")], "42704"),
            ]
            for (what, statements, settings, sqlState) in failing {
                let error = await #expect(throws: PostgresError.self, "\(what)") {
                    try await pool.transaction(statements, settings: settings)
                }
                #expect(error?.sqlState == sqlState, "\(what)")
                let state = try await pool.withConnection { connection in
                    (await connection.isInTransaction, connection.isBroken)
                }
                #expect(state == (false, false), "\(what)")
            }
            let values = try await pool.query("SELECT x FROM t ORDER BY x").map { try $0.decode(Int.self, at: 0) }
            #expect(values == [1, 2])
        }
    }

    @Test func retryHelperRerunsSerializationFailuresOnly() async throws {
        let attempts = Mutex(0)
        let value = try await withTransactionRetry(maxAttempts: 5) {
            let attempt = attempts.withLock { $0 += 1; return $0 }
            if attempt < 3 { throw PostgresError(code: .server, message: "conflict", sqlState: attempt == 1 ? "40001" : "40P01") }
            return attempt
        }
        #expect(value == 3)

        attempts.withLock { $0 = 0 }
        await #expect(throws: PostgresError.self) {
            try await withTransactionRetry(maxAttempts: 5) {
                attempts.withLock { $0 += 1 }
                throw PostgresError(code: .server, message: "unique", sqlState: "23505")
            }
        }
        #expect(attempts.withLock { $0 } == 1)
    }

    @Test func realSerializationConflictsAreRetriedToSuccess() async throws {
        try await TestPostgres.withSchema(maxConnections: 8) { pool async throws in
            try await pool.query("CREATE TABLE counter (n int)")
            try await pool.query("INSERT INTO counter VALUES (0)")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await pool.withTransaction(.serializable, retryingConflicts: true, maxAttempts: 50) { connection async throws in
                            let n = try await connection.query("SELECT n FROM counter").single().decode(Int.self, at: 0)
                            try await connection.query("UPDATE counter SET n = \(n + 1)")
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await pool.query("SELECT n FROM counter").single().decode(Int.self, at: 0) == 8)
        }
    }

    @Test func fiftyConcurrentQueriesThroughFourConnections() async throws {
        try await TestPostgres.withSchema(maxConnections: 4) { pool async throws in
            let pids = try await withThrowingTaskGroup(of: Int32.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        try await pool.query("SELECT pg_backend_pid(), pg_sleep(0.02)").single().decode(Int32.self, at: 0)
                    }
                }
                return try await group.reduce(into: Set<Int32>()) { $0.insert($1) }
            }
            #expect(pids.count <= 4)
            #expect(pids.count >= 2, "queries ran on more than one connection at once")
            #expect(pool.openConnections <= 4)
        }
    }

    /// Ends the backend `pid` from another session and waits until it is gone.
    func terminate(_ pid: Int32) async throws {
        let admin = try await PostgresConnection.connect(try await TestPostgres.configuration())
        try await admin.query("SELECT pg_terminate_backend(\(pid))")
        for _ in 0..<100 {
            let alive = try await admin.query("SELECT count(*) FROM pg_stat_activity WHERE pid = \(pid)")
            if try alive.single().decode(Int.self, at: 0) == 0 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        await admin.close()
    }

    /// A connection whose backend was terminated fails its next call, one statement or a
    /// pipeline, as closed; the pool replaces it.
    @Test(arguments: ["one statement", "a pipeline"])
    func terminatedBackendIsReplacedByAFreshConnection(call: String) async throws {
        try await TestPostgres.withSchema(maxConnections: 1) { pool async throws in
            let first = try await pool.query("SELECT pg_backend_pid()").single().decode(Int32.self, at: 0)
            try await terminate(first)
            let error = await #expect(throws: PostgresError.self) {
                if call == "a pipeline" {
                    try await pool.transaction(["SELECT 1", "SELECT 2"])
                } else {
                    try await pool.query("SELECT 1")
                }
            }
            #expect(error?.code == .connectionClosed)
            let second = try await pool.query("SELECT pg_backend_pid()").single().decode(Int32.self, at: 0)
            #expect(second != first)
            #expect(pool.openConnections == 1)
        }
    }

    @Test func waitingForAConnectionCanBeCancelled() async throws {
        try await TestPostgres.withSchema(maxConnections: 1) { pool async throws in
            try await pool.withConnection { _ in
                let waiter = Task { try await pool.query("SELECT 1") }
                try await Task.sleep(for: .milliseconds(50))
                waiter.cancel()
                await #expect(throws: CancellationError.self) { try await waiter.value }
            }
            #expect(try await pool.query("SELECT 2").single().decode(Int.self, at: 0) == 2)
        }
    }

    @Test func manyWaitersSomeCancelledAllOthersServed() async throws {
        try await TestPostgres.withSchema(maxConnections: 2) { pool async throws in
            let outcomes = await withTaskGroup(of: Bool?.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let work = Task { try await pool.query("SELECT \(index)").single().decode(Int.self, at: 0) }
                        if index % 3 == 0 { work.cancel() }
                        do {
                            return try await work.value == index
                        } catch is CancellationError {
                            return nil
                        } catch {
                            return false
                        }
                    }
                }
                return await group.reduce(into: [Bool?]()) { $0.append($1) }
            }
            #expect(!outcomes.contains(false), "every call either answered correctly or was cancelled")
            #expect(outcomes.filter { $0 == true }.count >= 133, "every uncancelled call was served")
            #expect(pool.openConnections <= 2)
            #expect(try await pool.query("SELECT 1").single().decode(Int.self, at: 0) == 1)
        }
    }

    @Test func closedPoolRefusesCalls() async throws {
        let pool = PostgresConnectionPool(configuration: try await TestPostgres.configuration(), maxConnections: 2)
        try await pool.query("SELECT 1")
        await pool.close()
        let error = await #expect(throws: PostgresError.self) { try await pool.query("SELECT 1") }
        #expect(error?.code == .poolClosed)
        #expect(pool.openConnections == 0)
    }

    @Test func listenAndNotify() async throws {
        let configuration = try await TestPostgres.configuration()
        let listener = try await PostgresConnection.connect(configuration)
        let sender = try await PostgresConnection.connect(configuration)
        let channel = "weiche_test_\(UUID().uuidString.prefix(8))"
        try await listener.listen(channel)
        try await sender.notify(channel, payload: "wake: Übergabe")
        try await sender.notify(channel, payload: "second")
        var received: [String] = []
        for try await notification in listener.notifications(pollInterval: .milliseconds(50)) {
            #expect(notification.channel == channel)
            #expect(notification.senderPID == sender.backendPID)
            received.append(notification.payload)
            if received.count == 2 { break }
        }
        #expect(received == ["wake: Übergabe", "second"])
        await listener.close()
        await sender.close()
    }
}
