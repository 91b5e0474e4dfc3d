import Foundation
import WeichePostgres

/// Where a phase's CPU went: the gateway (this process), the database server, and how busy the
/// machine's cores were. With all three, a run shows what limits it: on a machine whose cores
/// are all busy, referrals per second follow the CPU a referral costs the gateway and the
/// database together (Docs/Performance.md).
struct CPUSample {
    /// This process: user and system time.
    var process: Duration
    /// The children this process has waited for (pgbench, for the reference).
    var children: Duration
    /// The database server's processes, if the server runs on this machine.
    var server: Duration?
    /// All cores: time busy and time in all, from `/proc/stat`.
    var machine: (busy: Double, total: Double)?

    /// Per referral, from `start` to this sample.
    func since(_ start: CPUSample, referrals: Int) -> CPUShare {
        let count = Double(max(referrals, 1))
        func micros(_ duration: Duration) -> Double { duration.seconds * 1_000_000 / count }
        var busy: Double?
        if let now = machine, let then = start.machine, now.total > then.total {
            busy = (now.busy - then.busy) / (now.total - then.total)
        }
        return CPUShare(
            gateway: micros(process - start.process), client: micros(children - start.children),
            database: server.flatMap { now in start.server.map { micros(now - $0) } }, machineBusy: busy)
    }
}

/// CPU per referral in one phase, in microseconds.
struct CPUShare {
    var gateway: Double
    /// Programs this process ran and waited for: pgbench in a reference phase.
    var client: Double
    var database: Double?
    /// The share of all cores' time that was busy (0 to 1), anything on the machine counted.
    var machineBusy: Double?
}

/// Samples the CPU of this process, its children, the database server and the machine.
struct CPUMeter {
    /// The server's main process (postmaster), when the server runs on this machine.
    let postmaster: Int32?

    /// Finds the server's main process as the parent of this session's backend: found only for
    /// a server on this machine, whose processes this user can read (for the embedded one, and
    /// a local server as root); otherwise the database's CPU is not reported.
    static func locate(_ configuration: PostgresConfiguration) async -> CPUMeter {
        let pool = PostgresConnectionPool(configuration: configuration, maxConnections: 1)
        let backend = try? await pool.query("SELECT pg_backend_pid()").single().decode(Int32.self, at: 0)
        // Read while the session, and so its backend process, still exists.
        let stat = backend.flatMap(ProcStat.read)
        await pool.close()
        guard let stat, stat.command == "postgres", let parent = ProcStat.read(stat.parent), parent.command == "postgres"
        else { return CPUMeter(postmaster: nil) }
        return CPUMeter(postmaster: stat.parent)
    }

    func sample() -> CPUSample {
        CPUSample(
            process: Self.usage(RUSAGE_SELF), children: Self.usage(RUSAGE_CHILDREN),
            server: postmaster.flatMap(Self.server), machine: Self.machine())
    }

    private static func usage(_ who: __rusage_who) -> Duration {
        var usage = rusage()
        getrusage(who.rawValue, &usage)
        func duration(_ time: timeval) -> Duration { .seconds(Int64(time.tv_sec)) + .microseconds(Int64(time.tv_usec)) }
        return duration(usage.ru_utime) + duration(usage.ru_stime)
    }

    /// The postmaster's own time, its children's that it has waited for (backends that ended),
    /// and that of each child still running. A child that ends between the two readings is
    /// counted once either way, as PostgreSQL waits for it at once.
    private static func server(_ postmaster: Int32) -> Duration? {
        guard let main = ProcStat.read(postmaster), main.command == "postgres" else { return nil }
        var ticks = main.ownTicks + main.childrenTicks
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry), pid != postmaster, let stat = ProcStat.read(pid), stat.parent == postmaster else { continue }
            ticks += stat.ownTicks
        }
        return .microseconds(ticks * 1_000_000 / ProcStat.ticksPerSecond)
    }

    /// The first line of `/proc/stat`: all cores' time in clock ticks; idle and waiting for
    /// input or output count as not busy.
    private static func machine() -> (busy: Double, total: Double)? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = text.split(separator: "\n").first, line.hasPrefix("cpu ")
        else { return nil }
        let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard values.count >= 5 else { return nil }
        // user nice system idle iowait irq softirq steal (guest time is already in user).
        let total = values.prefix(8).reduce(0, +)
        return (total - values[3] - values[4], total)
    }
}

/// The fields of `/proc/<pid>/stat` the meter reads.
struct ProcStat {
    var command: String
    var parent: Int32
    /// User and system time, in clock ticks.
    var ownTicks: Int64
    /// User and system time of the children it has waited for, in clock ticks.
    var childrenTicks: Int64

    static let ticksPerSecond = Int64(max(sysconf(Int32(_SC_CLK_TCK)), 1))

    static func read(_ pid: Int32) -> ProcStat? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
        return parse(String(decoding: data, as: UTF8.self))
    }

    /// `pid (command) state ppid …`: the command may hold spaces and parentheses, so the
    /// fields after it are found from its last `)`.
    static func parse(_ text: String) -> ProcStat? {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"), open < close else { return nil }
        let command = String(text[text.index(after: open)..<close])
        let fields = text[text.index(after: close)...].split(separator: " ")
        // From the state (field 3): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
        guard fields.count >= 15, let parent = Int32(fields[1]),
            let user = Int64(fields[11]), let system = Int64(fields[12]), let childUser = Int64(fields[13]), let childSystem = Int64(fields[14])
        else { return nil }
        return ProcStat(command: command, parent: parent, ownTicks: user + system, childrenTicks: childUser + childSystem)
    }
}
