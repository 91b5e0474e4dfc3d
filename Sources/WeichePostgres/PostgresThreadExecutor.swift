import Dispatch
import Foundation
import Synchronization

/// A serial executor that runs all of its work on one dedicated operating-system thread.
///
/// Each ``PostgresConnection`` is an actor whose executor is one of these. libpq's blocking
/// calls (`PQexecParams`, `PQconnectdbParams`, …) therefore run on the connection's own
/// thread and never occupy a thread of Swift's cooperative pool.
/// See `Docs/Decisions/0001-libpq-on-dedicated-threads.md`.
final class PostgresThreadExecutor: SerialExecutor {
    private enum Work: Sendable {
        case job(UnownedJob)
        case closure(@Sendable () -> Void)
        case stop
    }

    private struct Queue {
        var items: [Work] = []
        var head = 0

        mutating func push(_ work: Work) { items.append(work) }

        mutating func pop() -> Work? {
            guard head < items.count else { return nil }
            let work = items[head]
            head += 1
            if head == items.count {
                items.removeAll(keepingCapacity: true)
                head = 0
            }
            return work
        }
    }

    private let queue = Mutex(Queue())
    private let signal = DispatchSemaphore(value: 0)

    /// Starts the thread. `name` shows in debuggers and `top -H`.
    init(name: String) {
        let thread = Thread { [self] in self.runLoop() }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        push(.job(UnownedJob(job)))
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Runs `body` on the executor's thread, outside any actor.
    func execute(_ body: @escaping @Sendable () -> Void) {
        push(.closure(body))
    }

    /// Ends the thread once all work enqueued before this call has run.
    func shutdown() {
        push(.stop)
    }

    private func push(_ work: Work) {
        queue.withLock { $0.push(work) }
        signal.signal()
    }

    private func runLoop() {
        while true {
            signal.wait()
            guard let work = queue.withLock({ $0.pop() }) else { continue }
            switch work {
            case .job(let job):
                job.runSynchronously(on: asUnownedSerialExecutor())
            case .closure(let body):
                body()
            case .stop:
                return
            }
        }
    }
}
