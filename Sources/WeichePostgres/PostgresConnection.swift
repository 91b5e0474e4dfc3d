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

    private init(executor: PostgresThreadExecutor, handle: OpaquePointer, target: String) {
        self.executor = executor
        self.handle = handle
        self.serverVersion = Int(PQserverVersion(handle))
        self.backendPID = PQbackendPID(handle)
        self.redactedTarget = target
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
        let connection = PostgresConnection(executor: executor, handle: handle.pointer, target: target)
        if let searchPath = configuration.searchPath {
            let path = searchPath.map(PostgresQuery.quoteIdentifier).joined(separator: ", ")
            try await connection.query("SELECT set_config('search_path', \(path), false)")
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
    @discardableResult
    public func query(_ query: PostgresQuery, file: String = #fileID, line: Int = #line) throws(PostgresError) -> PostgresRows {
        let connection = try openHandle(file: file, line: line)
        let bindings = query.bindings
        if let encodingError = bindings.encodingError { throw encodingError }
        let count = Int32(bindings.count)
        let lengths = bindings.slices.map { $0?.count ?? 0 }
        let formats = [Int32](repeating: 1, count: bindings.count)
        let result = bindings.bytes.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress ?? UnsafePointer(Self.emptyValue))
            let values: [UnsafePointer<CChar>?] = bindings.slices.map { slice in
                slice.map { (base + $0.start).assumingMemoryBound(to: CChar.self) }
            }
            return PQexecParams(connection, query.sql, count, bindings.types, values, lengths, formats, 1)
        }
        return try check(result, connection: connection, file: file, line: line)
    }

    /// Runs SQL text that may hold several statements and no parameters (a migration script).
    /// The caller vouches that no outside value went into `sql`.
    public func execute(unsafeSQL sql: String, file: String = #fileID, line: Int = #line) throws(PostgresError) {
        let connection = try openHandle(file: file, line: line)
        _ = try check(PQexec(connection, sql), connection: connection, file: file, line: line)
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
