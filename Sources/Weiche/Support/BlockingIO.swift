import Dispatch

/// Runs blocking file-system work (fsync, rename, directory scans) off Swift's cooperative
/// threads, on a queue whose threads may block. See `Docs/Decisions/0001`.
enum BlockingIO {
    private static let queue = DispatchQueue(label: "weiche.blocking-io", attributes: .concurrent)

    static func run<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Swift.Result { try work() }) }
        }
    }
}
