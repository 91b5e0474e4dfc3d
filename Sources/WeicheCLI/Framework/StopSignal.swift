import Dispatch
import Foundation
import Synchronization

/// Turns SIGTERM and SIGINT into a flag long-running commands (serve, replay) check between batches.
final class StopSignal {
    private final class Flag: Sendable {
        let raised = Atomic<Bool>(false)
    }

    private let flag = Flag()
    private let sources: [any DispatchSourceSignal]

    init() {
        let flag = self.flag
        sources = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { flag.raised.store(true, ordering: .releasing) }
            source.resume()
            return source
        }
    }

    var requested: Bool { flag.raised.load(ordering: .acquiring) }
}
