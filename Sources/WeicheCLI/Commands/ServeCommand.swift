import Dispatch
import Foundation
import Synchronization
import Weiche

/// `weiche serve`: runs the gateway until SIGTERM or SIGINT.
struct ServeCommand: Command {
    static let path = ["serve"]
    static let abstract = "Run the gateway: ingest from the agencies' channels and deliver."
    static let help = """
        USAGE: weiche serve [--config PATH] [--once] [--worker NAME] [--interval SECONDS]

        Takes referrals from every agency's inbound channel, routes them, delivers them as soon
        as they are stored, and delivers whatever else is due (retries, receipts, replays,
        referrals stored by 'weiche submit'), until SIGTERM or SIGINT (Ctrl-C). On a signal it finishes the batch in hand and
        stops; a delivery interrupted harder than that is taken over by another gateway after
        its lease. Several 'weiche serve' processes may share one database.

        OPTIONS:
          --config PATH        The configuration (default: $WEICHE_CONFIG).
          --once               Process everything due now, print a summary, and exit.
          --worker NAME        This process's name in leases and attempts (default: host:pid).
          --interval SECONDS   How long to wait when there is nothing to do (default 1).

        EXAMPLES:
          weiche serve --config /etc/weiche/weiche.json
          weiche serve --config weiche.json --once
        """

    var configPath: String?
    var once: Bool
    var worker: String
    var interval: Double

    init(arguments: inout Arguments) throws(UsageError) {
        configPath = try arguments.option("--config")
        once = arguments.flag("--once")
        worker = try arguments.option("--worker") ?? "\(ProcessInfo.processInfo.hostName):\(getpid())"
        let intervalText = try arguments.option("--interval") ?? "1"
        guard let interval = Double(intervalText), interval > 0, interval <= 3600 else {
            throw UsageError("--interval takes seconds between 0 and 3600, not '\(intervalText)'")
        }
        self.interval = interval
        try arguments.finish()
    }

    func run(_ context: CommandContext) async throws {
        let configuration = try context.configuration(path: configPath)
        let (gateway, pool) = try await context.gateway(configuration: configuration, worker: worker)
        do {
            try await gateway.recordConfigurationApplied()
            if once {
                let report = try await gateway.runOnce()
                context.print(Self.summary(report))
            } else {
                try await serve(gateway, context: context)
            }
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
    }

    private func serve(_ gateway: Gateway, context: CommandContext) async throws {
        let stop = StopSignal()
        context.note("weiche serve: running as \(worker) with configuration \(gateway.configuration.sha256.prefix(12))…; SIGTERM or Ctrl-C stops")
        var total = Gateway.Report()
        var failures = 0
        while !stop.requested {
            var report = Gateway.Report()
            let read: Int
            let claimed: Int
            do {
                read = try await gateway.ingestAvailable(limit: 100, delivering: true, into: &report)
                claimed = try await gateway.deliverDue(limit: 100, into: &report)
                failures = 0
            } catch {
                // A passing outage (database restart, network) must not end the gateway: nothing
                // is lost — uncommitted items stay in their channels, claims expire — so wait and
                // try again, longer each time, up to half a minute.
                failures += 1
                let pause = min(30.0, Double(1 << min(failures - 1, 5)))
                context.note("weiche serve: \(CommandLineTool.describe(error).0); trying again in \(Int(pause)) s")
                try await wait(seconds: pause, unless: stop)
                continue
            }
            total.add(report)
            if read == 0 && claimed == 0 {
                try await wait(seconds: interval, unless: stop)
            }
        }
        context.note("weiche serve: stopped. \(Self.summary(total))")
    }

    /// Sleeps up to `seconds`, noticing a stop request within a tenth of a second.
    private func wait(seconds: Double, unless stop: StopSignal) async throws {
        var waited = 0.0
        while waited < seconds && !stop.requested {
            try await Task.sleep(for: .milliseconds(100))
            waited += 0.1
        }
    }

    static func summary(_ report: Gateway.Report) -> String {
        "\(report.itemsRead) items read, \(report.referralsStored) referrals stored, \(report.duplicates) repeats, "
            + "\(report.rejections) rejected or refused; \(report.delivered) delivered, "
            + "\(report.retriesScheduled) to retry, \(report.failed) failed"
    }
}

extension Gateway.Report {
    mutating func add(_ other: Gateway.Report) {
        itemsRead += other.itemsRead
        referralsStored += other.referralsStored
        duplicates += other.duplicates
        rejections += other.rejections
        delivered += other.delivered
        retriesScheduled += other.retriesScheduled
        failed += other.failed
    }
}
