/// A transaction isolation level.
public enum PostgresIsolationLevel: String, Sendable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
}

extension PostgresConnection {
    /// Runs `body` inside a transaction: commits when it returns, rolls back when it throws
    /// (and rethrows). A failing COMMIT (for example a serialization failure) is thrown.
    ///
    /// `body` runs in the caller's isolation; pass the connection it receives to every query
    /// that belongs to the transaction.
    ///
    /// With `waitingForFlush: false` the commit returns before its WAL is flushed to disk
    /// (`synchronous_commit = off` for this transaction only): a crash in the next moment may
    /// undo it, though never partly and never out of order with later commits. Only for
    /// changes whose loss is harmless because they will be redone.
    ///
    /// `settings` are server settings for this transaction alone (`SET LOCAL`), sent with the
    /// `BEGIN` in one round trip.
    @discardableResult
    public func withTransaction<Result>(
        _ level: PostgresIsolationLevel = .readCommitted,
        waitingForFlush: Bool = true,
        settings: [(name: String, value: String)] = [],
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await withTransactionEndingInStatement(level, waitingForFlush: waitingForFlush, settings: settings) { connection in
            (try await body(connection), nil)
        }
    }

    /// Runs `body` inside a transaction, as ``withTransaction(_:waitingForFlush:settings:isolation:_:)``
    /// does, and then the last statement `body` returns, if any, together with the `COMMIT` in
    /// one round trip (``queryThenCommit(_:file:line:)``). For a statement whose locks every
    /// other transaction waits for, such as the audit log's append.
    @discardableResult
    public func withTransactionEndingInStatement<Result>(
        _ level: PostgresIsolationLevel = .readCommitted,
        waitingForFlush: Bool = true,
        settings: [(name: String, value: String)] = [],
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> (result: Result, last: PostgresQuery?)
    ) async throws -> Result {
        // One round trip: BEGIN and the settings as one simple query.
        let begin = Self.beginStatements(level, waitingForFlush: waitingForFlush, settings: settings).joined(separator: "; ")
        do {
            try await execute(unsafeSQL: begin)
            let (result, last) = try await body(self)
            if let last {
                try await queryThenCommit(last)
            } else {
                try await query("COMMIT")
            }
            return result
        } catch {
            await rollBackAfterFailure()
            throw error
        }
    }
}

extension PostgresConnection {
    /// Runs `statements` as one transaction in one round trip (``pipeline(_:file:line:)``), with
    /// the `BEGIN`, the settings and the `COMMIT`, and returns each statement's rows. For a
    /// transaction whose statements do not depend on each other's results. Should one fail,
    /// nothing is committed: the transaction is rolled back and the failure thrown.
    @discardableResult
    public func transaction(
        _ statements: [PostgresQuery], level: PostgresIsolationLevel = .readCommitted, waitingForFlush: Bool = true,
        settings: [(name: String, value: String)] = [],
        file: String = #fileID, line: Int = #line
    ) async throws -> [PostgresRows] {
        let begin = Self.beginStatements(level, waitingForFlush: waitingForFlush, settings: settings)
        do {
            let rows = try pipeline(begin.map { PostgresQuery(unsafeSQL: $0) } + statements + ["COMMIT"], file: file, line: line)
            return Array(rows[begin.count..<(begin.count + statements.count)])
        } catch {
            rollBackAfterFailure()
            throw error
        }
    }

    /// After a failure in a transaction: rolls back what is still open. A failed `COMMIT`
    /// leaves nothing to roll back; a broken connection cannot.
    func rollBackAfterFailure() {
        if !isBroken, isInTransaction { _ = try? query("ROLLBACK") }
    }

    /// `BEGIN` at `level`, and a `SET LOCAL` for each setting (and for not waiting for the flush).
    static func beginStatements(
        _ level: PostgresIsolationLevel, waitingForFlush: Bool, settings: [(name: String, value: String)]
    ) -> [String] {
        let local = (waitingForFlush ? [] : [(name: "synchronous_commit", value: "off")]) + settings
        return ["BEGIN ISOLATION LEVEL " + level.rawValue] + local.map {
            "SET LOCAL " + PostgresQuery.quoteIdentifier($0.name) + " TO " + PostgresQuery.quoteLiteral($0.value)
        }
    }
}

/// Runs `operation` and reruns it, after a short random pause, when it fails with a
/// serialization failure (SQLSTATE 40001) or a deadlock (40P01): the conflicts PostgreSQL
/// expects an application to retry. `operation` must run a whole transaction each time.
/// Other errors, and the last conflict after `maxAttempts`, are thrown.
public func withTransactionRetry<Result>(
    maxAttempts: Int = 5,
    isolation: isolated (any Actor)? = #isolation,
    _ operation: () async throws -> Result
) async throws -> Result {
    var attempt = 1
    while true {
        do {
            return try await operation()
        } catch let error as PostgresError where error.isTransactionConflict && attempt < maxAttempts {
            // Full jitter keeps conflicting transactions from meeting again in lockstep.
            let ceiling = min(200, 5 << attempt)
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...ceiling)))
            attempt += 1
        }
    }
}
