import Synchronization

/// A bounded set of connections shared by many tasks.
///
/// At most `maxConnections` connections are open; a task that finds all of them in use waits
/// (in arrival order) until one is returned, or until it is cancelled. Connections open lazily.
/// A connection that broke during a call (server restart, `pg_terminate_backend`) is
/// discarded when it is returned: the call that met the break reports the error, and later
/// calls get a fresh connection.
public final class PostgresConnectionPool: Sendable {
    /// How the pool connects.
    public let configuration: PostgresConfiguration
    /// The most connections open at once.
    public let maxConnections: Int

    private struct Waiter {
        let id: Int
        let continuation: CheckedContinuation<Lease, any Error>
    }

    /// What a waiting task is given: a connection, or the right to open one.
    private enum Lease: Sendable {
        case connection(PostgresConnection)
        case permitToConnect
    }

    private struct State {
        var idle: [PostgresConnection] = []
        var open = 0
        var waiters: [Waiter] = []
        var nextWaiterID = 0
        /// Waiters that have not yet decided whether to queue, and those of them cancelled.
        var undecidedWaiters: Set<Int> = []
        var cancelledWaiters: Set<Int> = []
        var isClosed = false
    }

    private let state = Mutex(State())

    /// Creates a pool; no connection is opened until the first call needs one.
    public init(configuration: PostgresConfiguration, maxConnections: Int = 4) {
        precondition(maxConnections > 0, "a pool needs at least one connection")
        self.configuration = configuration
        self.maxConnections = maxConnections
    }

    /// Runs `body` with a connection that no other task uses meanwhile.
    public func withConnection<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let connection = try await lease()
        do {
            let result = try await body(connection)
            release(connection)
            return result
        } catch {
            release(connection)
            throw error
        }
    }

    /// Runs one statement on a pooled connection.
    @discardableResult
    public func query(_ query: PostgresQuery, file: String = #fileID, line: Int = #line) async throws -> PostgresRows {
        try await withConnection { try await $0.query(query, file: file, line: line) }
    }

    /// Runs `body` in a transaction on a pooled connection (see
    /// ``PostgresConnection/withTransaction(_:isolation:_:)``). With `retryingConflicts`, a
    /// serialization failure or deadlock reruns the whole transaction, up to `maxAttempts` times.
    @discardableResult
    public func withTransaction<Result>(
        _ level: PostgresIsolationLevel = .readCommitted,
        retryingConflicts: Bool = false,
        maxAttempts: Int = 5,
        waitingForFlush: Bool = true,
        settings: [(name: String, value: String)] = [],
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await withTransactionEndingInStatement(
            level, retryingConflicts: retryingConflicts, maxAttempts: maxAttempts, waitingForFlush: waitingForFlush, settings: settings
        ) { connection in
            (try await body(connection), nil)
        }
    }

    /// Runs `body` in a transaction on a pooled connection, then the last statement it returns
    /// together with the `COMMIT` in one round trip (see
    /// ``PostgresConnection/withTransactionEndingInStatement(_:waitingForFlush:settings:isolation:_:)``).
    @discardableResult
    public func withTransactionEndingInStatement<Result>(
        _ level: PostgresIsolationLevel = .readCommitted,
        retryingConflicts: Bool = false,
        maxAttempts: Int = 5,
        waitingForFlush: Bool = true,
        settings: [(name: String, value: String)] = [],
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> (result: Result, last: PostgresQuery?)
    ) async throws -> Result {
        let attempts = retryingConflicts ? maxAttempts : 1
        return try await withTransactionRetry(maxAttempts: attempts) {
            try await withConnection { connection in
                try await connection.withTransactionEndingInStatement(level, waitingForFlush: waitingForFlush, settings: settings, body)
            }
        }
    }

    /// Runs `statements` as one transaction in one round trip on a pooled connection (see
    /// ``PostgresConnection/transaction(_:level:waitingForFlush:settings:file:line:)``).
    @discardableResult
    public func transaction(
        _ statements: [PostgresQuery], level: PostgresIsolationLevel = .readCommitted, waitingForFlush: Bool = true,
        settings: [(name: String, value: String)] = [],
        file: String = #fileID, line: Int = #line
    ) async throws -> [PostgresRows] {
        try await withConnection { connection in
            try await connection.transaction(
                statements, level: level, waitingForFlush: waitingForFlush, settings: settings, file: file, line: line)
        }
    }

    /// Closes idle connections and fails waiting and later calls with `poolClosed`.
    /// Connections in use are closed when they are returned.
    public func close() async {
        let (idle, waiters) = state.withLock { state in
            state.isClosed = true
            defer {
                state.open -= state.idle.count
                state.idle = []
                state.waiters = []
            }
            return (state.idle, state.waiters)
        }
        for waiter in waiters { waiter.continuation.resume(throwing: Self.closedError) }
        for connection in idle { await connection.close() }
    }

    /// The number of open connections, idle or in use.
    public var openConnections: Int { state.withLock { $0.open } }

    private static let closedError = PostgresError(code: .poolClosed, message: "the connection pool is closed")

    private func lease() async throws -> PostgresConnection {
        enum Decision { case use(PostgresConnection), connect, wait, closed }
        let decision: Decision = state.withLock { state in
            if state.isClosed { return .closed }
            if let connection = state.idle.popLast() { return .use(connection) }
            if state.open < maxConnections {
                state.open += 1
                return .connect
            }
            return .wait
        }
        switch decision {
        case .use(let connection): return connection
        case .connect: return try await openConnection()
        case .closed: throw Self.closedError
        case .wait:
            switch try await waitForTurn() {
            case .connection(let connection): return connection
            case .permitToConnect: return try await openConnection()
            }
        }
    }

    /// Opens a connection for a slot already counted in `open`; gives the slot up on failure.
    private func openConnection() async throws -> PostgresConnection {
        do {
            return try await PostgresConnection.connect(configuration)
        } catch {
            giveUpSlot()
            throw error
        }
    }

    private func waitForTurn() async throws -> Lease {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            state.undecidedWaiters.insert(state.nextWaiterID)
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                enum Decision { case admitted(Lease), queued, cancelled, closed }
                // Decided under the lock, so that the continuation is resumed exactly once:
                // either here, or by whoever takes the waiter out of the queue.
                let decision: Decision = state.withLock { state in
                    state.undecidedWaiters.remove(id)
                    if state.cancelledWaiters.remove(id) != nil { return .cancelled }
                    if state.isClosed { return .closed }
                    if let connection = state.idle.popLast() { return .admitted(.connection(connection)) }
                    if state.open < maxConnections {
                        state.open += 1
                        return .admitted(.permitToConnect)
                    }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return .queued
                }
                switch decision {
                case .admitted(let lease): continuation.resume(returning: lease)
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .closed: continuation.resume(throwing: Self.closedError)
                case .queued: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else {
                    // Not queued yet: the waiter sees this when it decides. (Already served:
                    // nothing to do; the caller holds a connection and will return it.)
                    if state.undecidedWaiters.contains(id) { state.cancelledWaiters.insert(id) }
                    return nil
                }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    private func release(_ connection: PostgresConnection) {
        let keep = !connection.isBroken
        let handOff: (Waiter, Lease)? = state.withLock { state in
            if state.isClosed || !keep {
                state.open -= 1
                guard !state.isClosed, !state.waiters.isEmpty else { return nil }
                state.open += 1
                return (state.waiters.removeFirst(), .permitToConnect)
            }
            guard !state.waiters.isEmpty else {
                state.idle.append(connection)
                return nil
            }
            return (state.waiters.removeFirst(), .connection(connection))
        }
        if let (waiter, lease) = handOff { waiter.continuation.resume(returning: lease) }
        // A discarded connection closes itself when its last reference goes.
    }

    private func giveUpSlot() {
        let waiter: Waiter? = state.withLock { state in
            state.open -= 1
            guard !state.isClosed, !state.waiters.isEmpty else { return nil }
            state.open += 1
            return state.waiters.removeFirst()
        }
        waiter?.continuation.resume(returning: .permitToConnect)
    }
}
