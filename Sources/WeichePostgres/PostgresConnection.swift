import CLibPQ
import Dispatch
import Foundation
import Synchronization

/// One connection to a PostgreSQL server, through libpq.
///
/// The connection is an actor whose executor is a dedicated thread: each call hops onto that
/// thread, makes libpq's blocking call there, and hops back, so libpq never blocks a thread of
/// Swift's cooperative pool. Calls are served one at a time in arrival order. A connection
/// carries one session: use it from one task at a time (a transaction spans several calls),
/// which ``PostgresConnectionPool`` guarantees.
///
/// Once a call reports ``PostgresError/Code/connectionClosed``, ``isBroken`` is true and every
/// later call fails the same way: open a new connection.
public actor PostgresConnection {
    private nonisolated let executor: PostgresThreadExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// libpq's `PGconn`; `nil` once closed. Touched only on the executor's thread (and in deinit).
    private var handle: OpaquePointer?
    private let broken = Atomic<Bool>(false)

    /// The server's version number, for example `150018` for 15.18.
    public nonisolated let serverVersion: Int
    /// The process id of the server backend serving this connection.
    public nonisolated let backendPID: Int32
    /// Where the connection goes, without the password.
    public nonisolated let redactedTarget: String

    /// The statements this session has prepared, and which to deallocate first when full.
    private var prepared: PreparedStatements

    private init(executor: PostgresThreadExecutor, handle: OpaquePointer, target: String, preparedStatementLimit: Int) {
        self.executor = executor
        self.handle = handle
        self.serverVersion = Int(PQserverVersion(handle))
        self.backendPID = PQbackendPID(handle)
        self.redactedTarget = target
        self.prepared = PreparedStatements(limit: preparedStatementLimit)
    }

    // Runs on the connection's own thread, like every other libpq call.
    isolated deinit {
        if let handle { PQfinish(handle) }
        executor.shutdown()
    }

    /// Whether the connection is known to be unusable (closed, or broken by the server or the
    /// network). A connection that is not broken may still fail on its next call.
    public nonisolated var isBroken: Bool { broken.load(ordering: .acquiring) }

    /// Opens a connection.
    ///
    /// Fails with ``PostgresError/Code/timeout`` if the server has not accepted the connection
    /// within the configuration's `connectTimeout` plus two seconds, whatever libpq is doing (a
    /// slow DNS lookup included), and with `connectionFailed` for every other failure.
    public static func connect(_ configuration: PostgresConfiguration) async throws(PostgresError) -> PostgresConnection {
        let number = connectionCounter.add(1, ordering: .relaxed).newValue
        let executor = PostgresThreadExecutor(name: "weiche-pg-\(number)")
        let target = configuration.redactedDescription
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Handle, PostgresError>, Never>) in
            let pending = Mutex<CheckedContinuation<Result<Handle, PostgresError>, Never>?>(continuation)
            executor.execute {
                let result = blockingConnect(configuration, target: target)
                if let waiting = pending.withLock({ $0.take() }) {
                    waiting.resume(returning: result)
                } else if case .success(let late) = result {
                    PQfinish(late.pointer)  // the caller gave up waiting
                }
            }
            let deadline = DispatchTime.now() + .milliseconds(Int(configuration.connectTimeout.milliseconds) + 2000)
            DispatchQueue.global().asyncAfter(deadline: deadline) {
                pending.withLock({ $0.take() })?.resume(
                    returning: .failure(PostgresError(
                        code: .timeout,
                        message: "could not connect to PostgreSQL at \(target): no answer within \(configuration.connectTimeout)")))
            }
        }
        let handle: Handle
        switch outcome {
        case .success(let opened): handle = opened
        case .failure(let error):
            executor.shutdown()
            throw error
        }
        let connection = PostgresConnection(
            executor: executor, handle: handle.pointer, target: target, preparedStatementLimit: configuration.preparedStatementLimit)
        if let searchPath = configuration.searchPath {
            let path = searchPath.map(PostgresQuery.quoteIdentifier).joined(separator: ", ")
            // Quoted identifiers, run once: not a statement to keep prepared.
            try await connection.execute(unsafeSQL: "SET search_path TO " + (path.isEmpty ? "''" : path))
        }
        return connection
    }

    /// A `PGconn` moving from the thread that opened it to the actor that owns it.
    private struct Handle: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private static let connectionCounter = Atomic<Int>(0)

    private static func blockingConnect(_ configuration: PostgresConfiguration, target: String) -> Result<Handle, PostgresError> {
        let parameters = configuration.connectionParameters
        let connection = withCStringArray(parameters.map(\.0)) { keywords in
            withCStringArray(parameters.map(\.1)) { values in
                PQconnectdbParams(keywords, values, 1)
            }
        }
        guard let connection else {
            return .failure(PostgresError(code: .connectionFailed, message: "libpq could not allocate a connection"))
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let reason = String(cString: PQerrorMessage(connection)).oneLine
            PQfinish(connection)
            return .failure(PostgresError(
                code: .connectionFailed, message: "could not connect to PostgreSQL at \(target): \(reason)"))
        }
        // libpq prints server notices to stderr by default; Weiche's output is its own.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        return .success(Handle(pointer: connection))
    }

    /// Runs one statement and returns its rows. Values travel as binary parameters; results
    /// come back in binary format.
    ///
    /// A statement with parameters is prepared on its first run in this session and executed
    /// by name afterwards (up to the configuration's ``PostgresConfiguration/preparedStatementLimit``
    /// texts per session, the least recently used deallocated first): the server parses it once, and plans
    /// it once it has seen that a generic plan serves as well as one made for each run's
    /// values. Planning was the largest single cost of a claim (Docs/Performance.md).
    @discardableResult
    public func query(_ query: PostgresQuery, file: String = #fileID, line: Int = #line) throws(PostgresError) -> PostgresRows {
        let connection = try openHandle(file: file, line: line)
        let statement = try prepare(query, on: connection, file: file, line: line)
        let result = withArguments(of: query, statement) { name, sql, count, types, values, lengths, formats in
            if let name {
                return PQexecPrepared(connection, name, count, values, lengths, formats, 1)
            }
            return PQexecParams(connection, sql, count, types, values, lengths, formats, 1)
        }
        return try checkPrepared(result, statement, connection: connection, file: file, line: line)
    }

    /// Runs `query`, the last statement of the open transaction, and `COMMIT` in one round trip
    /// (``pipeline(_:file:line:)``), and returns the statement's rows.
    ///
    /// A transaction that ends in its audit append holds the audit chain's head from that
    /// statement until its commit returns; sent together, no round trip to the gateway and back
    /// lies between the two (Docs/Performance.md). Should `query` fail, the server skips the
    /// `COMMIT` and the transaction stays open and failed: the caller rolls it back. Should the
    /// commit fail, the transaction is over.
    @discardableResult
    public func queryThenCommit(_ query: PostgresQuery, file: String = #fileID, line: Int = #line) throws(PostgresError) -> PostgresRows {
        try pipeline([query, "COMMIT"], file: file, line: line)[0]
    }

    /// Runs `queries` in order in one round trip (libpq's pipeline mode) and returns the rows of
    /// each. The server runs them as it would one by one, but after the first failure it skips
    /// the rest: that failure is thrown. Statements before a failure have run; inside a
    /// transaction (an explicit `BEGIN` among them or before), it is left open and failed, for
    /// the caller to roll back.
    public func pipeline(_ queries: [PostgresQuery], file: String = #fileID, line: Int = #line) throws(PostgresError) -> [PostgresRows] {
        let connection = try openHandle(file: file, line: line)
        // Each is prepared first, with a call of its own: no such call is allowed in a pipeline.
        // More than the session keeps would push each other out: those go as text.
        var statements: [PreparedStatement] = []
        statements.reserveCapacity(queries.count)
        for query in queries {
            statements.append(queries.count <= prepared.limit ? try prepare(query, on: connection, file: file, line: line) : PreparedStatement())
        }
        var queued = PQenterPipelineMode(connection) == 1
        for index in queries.indices where queued {
            queued = withArguments(of: queries[index], statements[index]) { name, sql, count, types, values, lengths, formats in
                if let name {
                    return PQsendQueryPrepared(connection, name, count, values, lengths, formats, 1)
                }
                return PQsendQueryParams(connection, sql, count, types, values, lengths, formats, 1)
            } == 1
        }
        queued = queued && PQpipelineSync(connection) == 1
        // Each statement's result is followed by a NULL; the pipeline's end by its sync result.
        var results: [OpaquePointer] = []
        while queued, results.count < queries.count, let result = PQgetResult(connection) {
            results.append(result)
            _ = PQgetResult(connection)
        }
        let sync = results.count == queries.count ? PQgetResult(connection) : nil
        let synced = sync.map { PQresultStatus($0) == PGRES_PIPELINE_SYNC } ?? false
        if let sync { PQclear(sync) }
        guard synced, PQexitPipelineMode(connection) == 1 else {
            results.forEach { PQclear($0) }
            // Out of step with the server: the session cannot be trusted with another statement.
            let error = failure(connection, code: .protocolViolation, file: file, line: line)
            close()
            throw PostgresError(code: .connectionClosed, message: error.message, file: file, line: line)
        }
        var rows: [PostgresRows] = []
        rows.reserveCapacity(results.count)
        for index in results.indices {
            do throws(PostgresError) {
                rows.append(try checkPrepared(results[index], statements[index], connection: connection, file: file, line: line))
            } catch {
                // The rest were skipped (`PGRES_PIPELINE_ABORTED`).
                results[(index + 1)...].forEach { PQclear($0) }
                throw error
            }
        }
        return rows
    }

    /// A statement ready to run: its name if it is prepared in this session (else it is sent
    /// as text with its parameters).
    private struct PreparedStatement {
        var name: String?
        var key: PreparedStatements.Key?
    }

    /// Prepares `query` if it is to be prepared (and is not yet).
    private func prepare(_ query: PostgresQuery, on connection: OpaquePointer, file: String, line: Int) throws(PostgresError) -> PreparedStatement {
        let bindings = query.bindings
        if let encodingError = bindings.encodingError { throw encodingError }
        // Only statements whose parameter types are all known: one with a NULL left for the
        // server to type would keep the type inferred the first time, whatever the table became.
        guard bindings.count > 0, !bindings.types.contains(0) else { return PreparedStatement() }
        let key = PreparedStatements.Key(sql: query.sql, types: bindings.types)
        guard let name = try preparedName(for: key, connection: connection, file: file, line: line) else { return PreparedStatement() }
        return PreparedStatement(name: name, key: key)
    }

    /// Calls `call` with libpq's arguments for running `query`: its name (or `nil` and its
    /// text), its parameters and their binary values.
    private func withArguments<Sent>(
        of query: PostgresQuery, _ statement: PreparedStatement,
        _ call: (
            _ name: String?, _ sql: String, _ count: Int32, _ types: [UInt32], _ values: [UnsafePointer<CChar>?], _ lengths: [Int32],
            _ formats: [Int32]
        ) -> Sent
    ) -> Sent {
        let bindings = query.bindings
        let lengths = bindings.slices.map { $0?.count ?? 0 }
        let formats = [Int32](repeating: 1, count: bindings.count)
        return bindings.bytes.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress ?? UnsafePointer(Self.emptyValue))
            let values: [UnsafePointer<CChar>?] = bindings.slices.map { slice in
                slice.map { (base + $0.start).assumingMemoryBound(to: CChar.self) }
            }
            return call(statement.name, query.sql, Int32(bindings.count), bindings.types, values, lengths, formats)
        }
    }

    /// The rows of a statement's `result`. A prepared statement that failed because the tables
    /// changed shape, or was dropped, is prepared anew next time; the caller sees this one
    /// failure, as after any passing error.
    private func checkPrepared(
        _ result: OpaquePointer?, _ statement: PreparedStatement, connection: OpaquePointer, file: String, line: Int
    ) throws(PostgresError) -> PostgresRows {
        do throws(PostgresError) {
            return try check(result, connection: connection, file: file, line: line)
        } catch {
            if let key = statement.key, PreparedStatements.invalidatingStates.contains(error.sqlState ?? "") { prepared.forget(key) }
            throw error
        }
    }

    /// The name under which `sql` with parameters of `types` is prepared in this session,
    /// preparing it first if it is not; `nil` if statements are not to be prepared.
    private func preparedName(
        for key: PreparedStatements.Key, connection: OpaquePointer, file: String, line: Int
    ) throws(PostgresError) -> String? {
        if let name = prepared.use(key) { return name }
        guard prepared.limit > 0 else { return nil }
        while let evicted = prepared.evictionCandidate {
            do {
                _ = try check(PQexec(connection, "DEALLOCATE " + evicted), connection: connection, file: file, line: line)
            } catch where error.sqlState == "26000" {
                // Already gone (someone ran DEALLOCATE ALL or DISCARD ALL on this session).
            }
            prepared.deallocated(evicted)
        }
        let name = prepared.nextName()
        _ = try check(PQprepare(connection, name, key.sql, Int32(key.types.count), key.types), connection: connection, file: file, line: line)
        prepared.insert(key, name: name)
        return name
    }

    /// Runs SQL text that may hold several statements and no parameters (a migration script).
    /// The caller vouches that no outside value went into `sql`.
    public func execute(unsafeSQL sql: String, file: String = #fileID, line: Int = #line) throws(PostgresError) {
        let connection = try openHandle(file: file, line: line)
        _ = try check(PQexec(connection, sql), connection: connection, file: file, line: line)
    }

    /// Whether the session is inside a transaction block, a failed one included.
    public var isInTransaction: Bool {
        guard let handle else { return false }
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    /// Closes the connection. Later calls fail with ``PostgresError/Code/connectionClosed``.
    public func close() {
        if let handle { PQfinish(handle) }
        handle = nil
        broken.store(true, ordering: .releasing)
    }

    // MARK: - LISTEN/NOTIFY

    /// Subscribes this session to `channel`.
    public func listen(_ channel: String) throws(PostgresError) {
        try query(PostgresQuery(unsafeSQL: "LISTEN " + PostgresQuery.quoteIdentifier(channel)))
    }

    /// Ends the subscription to `channel`.
    public func unlisten(_ channel: String) throws(PostgresError) {
        try query(PostgresQuery(unsafeSQL: "UNLISTEN " + PostgresQuery.quoteIdentifier(channel)))
    }

    /// Sends a notification (delivered when the surrounding transaction commits).
    public func notify(_ channel: String, payload: String = "") throws(PostgresError) {
        try query("SELECT pg_notify(\(channel), \(payload))")
    }

    /// Returns the notifications that have arrived, waiting up to `timeout` for the first.
    /// The connection serves no other call while it waits.
    public func waitForNotifications(timeout: Duration) throws(PostgresError) -> [PostgresNotification] {
        let connection = try openHandle(file: #fileID, line: #line)
        var received = drainNotifications(connection)
        guard received.isEmpty else { return received }
        var descriptor = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, Int32(clamping: timeout.milliseconds))
        if ready > 0 {
            guard PQconsumeInput(connection) == 1 else {
                throw failure(connection, code: .connectionClosed, file: #fileID, line: #line)
            }
            received = drainNotifications(connection)
        }
        return received
    }

    /// The notifications this connection receives after ``listen(_:)``, as an async sequence
    /// that ends when the iterating task is cancelled. `pollInterval` bounds how long a
    /// cancellation takes to be noticed.
    public nonisolated func notifications(pollInterval: Duration = .milliseconds(250)) -> PostgresNotifications {
        PostgresNotifications(connection: self, pollInterval: pollInterval)
    }

    private func drainNotifications(_ connection: OpaquePointer) -> [PostgresNotification] {
        var received: [PostgresNotification] = []
        while let notice = PQnotifies(connection) {
            received.append(PostgresNotification(
                channel: String(cString: notice.pointee.relname),
                payload: String(cString: notice.pointee.extra),
                senderPID: notice.pointee.be_pid))
            PQfreemem(notice)
        }
        return received
    }

    // MARK: - Results and errors

    nonisolated(unsafe) private static let emptyValue: UnsafeMutablePointer<UInt8> = {
        let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        pointer.initialize(to: 0)
        return pointer
    }()

    private func openHandle(file: String, line: Int) throws(PostgresError) -> OpaquePointer {
        guard let handle, !isBroken else {
            throw PostgresError(
                code: .connectionClosed, message: "the connection to \(redactedTarget) is closed",
                file: file, line: line)
        }
        return handle
    }

    private func check(_ result: OpaquePointer?, connection: OpaquePointer, file: String, line: Int) throws(PostgresError) -> PostgresRows {
        guard let result else {
            throw failure(connection, code: .connectionClosed, file: file, line: line)
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return PostgresRows(PostgresResultStorage(result))
        case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR, PGRES_BAD_RESPONSE:
            defer { PQclear(result) }
            var error = Self.serverError(result, file: file, line: line)
            if PQstatus(connection) != CONNECTION_OK {
                broken.store(true, ordering: .releasing)
                error.code = .connectionClosed
            }
            throw error
        default:
            let status = String(cString: PQresStatus(PQresultStatus(result)))
            PQclear(result)
            broken.store(true, ordering: .releasing)  // e.g. left in COPY mode: unusable
            throw PostgresError(
                code: .protocolViolation, message: "unsupported result status \(status) (COPY is not supported)",
                file: file, line: line)
        }
    }

    /// The connection-level error libpq reports, marking the connection broken if it is.
    private func failure(_ connection: OpaquePointer, code: PostgresError.Code, file: String, line: Int) -> PostgresError {
        let reason = String(cString: PQerrorMessage(connection)).oneLine
        if PQstatus(connection) != CONNECTION_OK { broken.store(true, ordering: .releasing) }
        return PostgresError(
            code: isBroken ? .connectionClosed : code,
            message: reason.isEmpty ? "the connection to \(redactedTarget) failed" : reason,
            file: file, line: line)
    }

    private static func serverError(_ result: OpaquePointer, file: String, line: Int) -> PostgresError {
        func field(_ code: UInt8) -> String? {
            PQresultErrorField(result, Int32(code)).map { String(cString: $0) }
        }
        let primary = field(UInt8(ascii: "M")) ?? String(cString: PQresultErrorMessage(result)).oneLine
        var error = PostgresError(
            code: .server, message: primary.isEmpty ? "the server reported an error" : primary,
            sqlState: field(UInt8(ascii: "C")), file: file, line: line)
        error.detail = field(UInt8(ascii: "D"))
        error.hint = field(UInt8(ascii: "H"))
        error.constraintName = field(UInt8(ascii: "n"))
        error.schemaName = field(UInt8(ascii: "s"))
        error.tableName = field(UInt8(ascii: "t"))
        error.columnName = field(UInt8(ascii: "c"))
        return error
    }
}

/// The statements one session has prepared: by SQL text and parameter types. When the limit is
/// reached, the one used least recently is deallocated first (so a pipeline's statements,
/// prepared one after the other, never push each other out).
struct PreparedStatements {
    struct Key: Hashable {
        var sql: String
        var types: [UInt32]
    }

    /// SQLSTATEs after which a prepared statement is not to be used again: its result type
    /// changed (`0A000`, "cached plan must not change result type"), or it no longer exists
    /// (`26000`).
    static let invalidatingStates: Set<String> = ["0A000", "26000"]

    let limit: Int
    private var names: [Key: String] = [:]
    /// Names still prepared on the server, oldest first; forgotten ones stay until deallocated.
    private var order: [String] = []
    /// When each name was last prepared or looked up, by a counter of uses.
    private var lastUse: [String: Int] = [:]
    private var uses = 0
    private var keys: [String: Key] = [:]
    private var counter = 0

    init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// The name `key` is prepared under, if it is; counts as a use.
    mutating func use(_ key: Key) -> String? {
        guard let name = names[key] else { return nil }
        uses += 1
        lastUse[name] = uses
        return name
    }

    /// A statement to deallocate before another can be prepared, if the limit is reached: the
    /// one used least recently.
    var evictionCandidate: String? {
        order.count >= limit ? order.min { lastUse[$0, default: 0] < lastUse[$1, default: 0] } : nil
    }

    mutating func nextName() -> String {
        counter += 1
        return "weiche_\(counter)"
    }

    mutating func insert(_ key: Key, name: String) {
        names[key] = name
        keys[name] = key
        order.append(name)
        uses += 1
        lastUse[name] = uses
    }

    /// Not to be executed again; still counted until deallocated.
    mutating func forget(_ key: Key) {
        if let name = names.removeValue(forKey: key) { keys[name] = nil }
    }

    mutating func deallocated(_ name: String) {
        order.removeAll { $0 == name }
        lastUse[name] = nil
        if let key = keys.removeValue(forKey: name) { names[key] = nil }
    }
}

/// A notification received on a channel the connection listens to.
public struct PostgresNotification: Sendable, Hashable {
    public var channel: String
    public var payload: String
    /// The server process that sent it.
    public var senderPID: Int32
}

/// The notifications a connection receives, as an async sequence that ends on cancellation.
public struct PostgresNotifications: AsyncSequence, Sendable {
    public typealias Element = PostgresNotification
    let connection: PostgresConnection
    let pollInterval: Duration

    public struct AsyncIterator: AsyncIteratorProtocol {
        let connection: PostgresConnection
        let pollInterval: Duration
        var buffered: [PostgresNotification] = []

        public mutating func next() async throws -> PostgresNotification? {
            while buffered.isEmpty {
                if Task.isCancelled { return nil }
                buffered = try await connection.waitForNotifications(timeout: pollInterval)
            }
            return buffered.removeFirst()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(connection: connection, pollInterval: pollInterval)
    }
}

extension Duration {
    /// The duration in whole milliseconds, rounded down.
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}

/// Calls `body` with a NULL-terminated array of C strings.
private func withCStringArray<Result>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> Result) -> Result {
    let duplicated = strings.map { strdup($0) }
    defer { duplicated.forEach { free($0) } }
    return body(duplicated.map { UnsafePointer($0) } + [nil])
}
