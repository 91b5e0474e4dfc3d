import Foundation
import WeicheCore
import WeichePostgres

/// Weiche's private PostgreSQL cluster: used when `WEICHE_DATABASE_URL` is not set, so that a
/// new user needs no database setup.
///
/// The cluster lives under `<home>/postgres` (home is `WEICHE_HOME`, or `.weiche` in the working
/// directory), listens on a Unix socket only (never on TCP), and accepts local connections
/// without a password; the socket's directory is readable by the server's user alone. It
/// keeps running after the command that started it exits, so that later commands reuse it,
/// until `weiche db stop`. PostgreSQL refuses to run as root: when Weiche runs as root, it runs
/// the server as the `postgres` user.
public struct EmbeddedPostgres: Sendable {
    /// The directory that holds the cluster and Weiche's other local state.
    public let home: URL
    /// Extra server settings (`name = value`) written into the cluster's configuration when it
    /// is created, over ``defaultSettings``; tests turn durability off with them.
    public var settings: [String: String]

    /// Settings every new embedded cluster gets. Full-page images in the WAL (every page's first
    /// change after a checkpoint) are compressed, and checkpoints come less often in bursts of
    /// writes: inserts into large indexes (the sender's message ids are random) wrote a page
    /// image for almost every insert, which made the gateway slower the more history it kept
    /// (Docs/Performance.md). `on` is pglz, which every PostgreSQL build has; where the server
    /// has lz4, the cluster uses that instead (faster).
    public static let defaultSettings: [String: String] = ["wal_compression": "on", "max_wal_size": "4GB"]

    /// The database Weiche uses inside the cluster, and the superuser it connects as.
    public static let databaseName = "weiche"
    public static let userName = "weiche"
    static let port = 5432

    public init(home: URL, settings: [String: String] = [:]) {
        self.home = home.standardizedFileURL
        self.settings = settings
    }

    /// The cluster under `WEICHE_HOME`, or under `.weiche` in the working directory.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> EmbeddedPostgres {
        let home = environment["WEICHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ".weiche"
        return EmbeddedPostgres(home: URL(fileURLWithPath: home, isDirectory: true))
    }

    public var clusterDirectory: URL { home.appendingPathComponent("postgres", isDirectory: true) }
    public var dataDirectory: URL { clusterDirectory.appendingPathComponent("data", isDirectory: true) }
    public var logFile: URL { clusterDirectory.appendingPathComponent("server.log") }

    /// Where the server's socket is: inside the cluster directory, or, when that path would be
    /// too long for a Unix socket (108 bytes), a directory under `/tmp` named after it.
    public var socketDirectory: URL {
        let local = clusterDirectory.appendingPathComponent("run", isDirectory: true)
        if local.path.utf8.count + "/.s.PGSQL.\(Self.port)".utf8.count < 100 { return local }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: a short, stable name, not security
        for byte in clusterDirectory.path.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return URL(fileURLWithPath: "/tmp/weiche-\(String(hash, radix: 16))", isDirectory: true)
    }

    /// The libpq connection string for the cluster's Weiche database.
    public var connectionString: String {
        "host='\(socketDirectory.path)' port=\(Self.port) dbname=\(Self.databaseName) user=\(Self.userName)"
    }

    /// What state the cluster is in.
    public enum State: Sendable, Equatable {
        /// No cluster has been created under the home directory yet.
        case notCreated
        case stopped
        /// Running, with the server's process id.
        case running(pid: Int32)
    }

    /// The cluster's state, read from its data directory and the running processes.
    public func state() async throws -> State {
        try await state(binaries: nil)
    }

    /// The state, with the server programs already located (`nil`: locate them if needed).
    private func state(binaries known: PostgresBinaries?) async throws -> State {
        guard FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent("PG_VERSION").path) else {
            return .notCreated
        }
        let binaries: PostgresBinaries
        if let known { binaries = known } else { binaries = try await PostgresBinaries.locate() }
        let outcome = try await run(binaries.pgCtl, ["status", "-D", dataDirectory.path])
        guard outcome.succeeded,
            let pidText = try? String(contentsOf: dataDirectory.appendingPathComponent("postmaster.pid"), encoding: .utf8),
            let pid = pidText.split(separator: "\n").first.flatMap({ Int32($0) })
        else { return .stopped }
        return .running(pid: pid)
    }

    /// Creates the cluster if there is none, starts it if it is stopped, and returns how to
    /// connect to it. Safe to call from several processes at once: one creates and starts, the
    /// others wait for it and reuse the running server.
    ///
    /// - Parameter announceCreation: called, with the cluster directory, just before a new
    ///   cluster is created (which takes a few seconds), so a caller can say so.
    public func start(announceCreation: (URL) -> Void = { _ in }) async throws -> PostgresConfiguration {
        try await prepareDirectories()
        try await withFileLock(clusterDirectory.appendingPathComponent("lock")) {
            let binaries = try await PostgresBinaries.locate()
            switch try await state(binaries: binaries) {
            case .running: break
            case .notCreated:
                announceCreation(clusterDirectory)
                try await create(binaries)
                try await launch(binaries)
            case .stopped:
                try await addMissingDefaults(binaries)
                try await launch(binaries)
            }
            try await createDatabaseIfNeeded()
        }
        return try PostgresConfiguration(connectionString: connectionString)
    }

    /// Stops the cluster: clients are disconnected and open transactions rolled back;
    /// everything committed stays.
    /// Returns `false` if it was not running.
    @discardableResult
    public func stop() async throws -> Bool {
        let binaries = try await PostgresBinaries.locate()
        guard case .running = try await state(binaries: binaries) else { return false }
        let outcome = try await run(binaries.pgCtl, ["stop", "-D", dataDirectory.path, "-m", "fast", "-w", "-t", "60"])
        guard outcome.succeeded else {
            throw WeicheError(.system, "could not stop the embedded PostgreSQL: \(outcome.output.oneLine) (log: \(logFile.path))")
        }
        return true
    }

    // MARK: - Creating and starting

    private func create(_ binaries: PostgresBinaries) async throws {
        let outcome = try await run(binaries.initdb, [
            "-D", dataDirectory.path, "-U", Self.userName, "-A", "trust", "-E", "UTF8", "--locale=C",
            "--no-instructions",
        ])
        guard outcome.succeeded else {
            throw WeicheError(.databaseUnavailable, "initdb failed to create the embedded cluster in \(dataDirectory.path): \(outcome.output.oneLine)")
        }
        var configuration = """

            # Written by Weiche: Unix socket only, readable by the server's user alone.
            listen_addresses = ''
            port = \(Self.port)
            unix_socket_directories = '\(socketDirectory.path.replacingOccurrences(of: "'", with: "''"))'
            unix_socket_permissions = 0700

            """
        for (name, value) in try await defaults(binaries).merging(settings, uniquingKeysWith: { _, given in given }).sorted(by: { $0.key < $1.key }) {
            configuration += Self.settingLine(name, value)
        }
        try appendToConfiguration(configuration)
    }

    /// ``defaultSettings`` for this server: lz4 compression where it has lz4.
    private func defaults(_ binaries: PostgresBinaries) async throws -> [String: String] {
        var defaults = Self.defaultSettings
        // `postgres -C` reads the configuration and prints the setting: it refuses lz4 where
        // the server was built without it.
        let probe = try? await run(binaries.directory + "/postgres", ["-D", dataDirectory.path, "-c", "wal_compression=lz4", "-C", "wal_compression"])
        if probe?.succeeded == true { defaults["wal_compression"] = "lz4" }
        return defaults
    }

    /// Gives a cluster created by an earlier Weiche the ``defaultSettings`` it was created
    /// without, before it starts: each one still at PostgreSQL's own default, as the server
    /// reads its configuration (`postgres -C`, which includes `ALTER SYSTEM`'s). A setting
    /// changed from PostgreSQL's default, by Weiche or an operator, is left as it is.
    private func addMissingDefaults(_ binaries: PostgresBinaries) async throws {
        var block = ""
        for (name, value) in try await defaults(binaries).sorted(by: { $0.key < $1.key }) {
            guard let builtIn = Self.postgresDefaults[name] else { continue }
            let current = try? await run(binaries.directory + "/postgres", ["-D", dataDirectory.path, "-C", name])
            guard let current, current.succeeded, current.output.trimmingCharacters(in: .whitespacesAndNewlines) == builtIn else { continue }
            block += Self.settingLine(name, value)
        }
        guard !block.isEmpty else { return }
        try appendToConfiguration("\n# Added by Weiche: settings for its write load that this cluster was created without.\n" + block)
    }

    /// PostgreSQL's own values of ``defaultSettings``, as `postgres -C` prints them.
    static let postgresDefaults = ["wal_compression": "off", "max_wal_size": "1GB"]

    /// `name = 'value'` and a line break, as `postgresql.conf` reads it.
    static func settingLine(_ name: String, _ value: String) -> String {
        "\(name) = '\(value.replacingOccurrences(of: "'", with: "''"))'\n"
    }

    private func appendToConfiguration(_ text: String) throws {
        let file = dataDirectory.appendingPathComponent("postgresql.conf")
        do {
            let handle = try FileHandle(forWritingTo: file)
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(text.utf8))
        } catch {
            throw WeicheError(.system, "could not write \(file.path): \(error.localizedDescription)")
        }
    }

    private func launch(_ binaries: PostgresBinaries) async throws {
        try makeDirectory(socketDirectory, forServer: true)
        let outcome = try await run(binaries.pgCtl, [
            "start", "-D", dataDirectory.path, "-l", logFile.path, "-w", "-t", "60",
        ])
        guard outcome.succeeded else {
            throw WeicheError(
                .databaseUnavailable,
                "the embedded PostgreSQL did not start: \(outcome.output.oneLine). See its log: \(logFile.path)")
        }
    }

    private func createDatabaseIfNeeded() async throws {
        var administration = try PostgresConfiguration(
            connectionString: "host='\(socketDirectory.path)' port=\(Self.port) dbname=postgres user=\(Self.userName)")
        administration.applicationName = "weiche-embedded"
        let connection = try await PostgresConnection.connect(administration)
        do {
            let exists = try await connection.query("SELECT 1 FROM pg_database WHERE datname = \(Self.databaseName)")
            if exists.isEmpty {
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE " + Self.databaseName))
            }
        } catch let error where error.sqlState == "42P04" {
            // Another process created it first.
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
    }

    // MARK: - Files and users

    /// Whether PostgreSQL runs as another user than this process (the `postgres` user, as root).
    var serverUser: String? { geteuid() == 0 ? "postgres" : nil }

    private func run(_ executable: String, _ arguments: [String]) async throws -> Subprocess.Outcome {
        do {
            return try await Subprocess.run(executable, arguments, as: serverUser)
        } catch {
            throw WeicheError(.system, "could not run \(executable): \(error)")
        }
    }

    private func prepareDirectories() async throws {
        try makeDirectory(home, forServer: false)
        try makeDirectory(clusterDirectory, forServer: true)
        guard let user = serverUser else { return }
        let probe = try await run("/usr/bin/test", ["-w", clusterDirectory.path])
        guard probe.succeeded else {
            throw WeicheError(
                .databaseUnavailable,
                "PostgreSQL refuses to run as root, so Weiche runs it as the '\(user)' user, who cannot reach \(clusterDirectory.path). "
                    + "Set WEICHE_HOME to a directory that user can reach (for example /var/lib/weiche), or set WEICHE_DATABASE_URL")
        }
    }

    private func makeDirectory(_ url: URL, forServer: Bool) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            if forServer {
                var attributes: [FileAttributeKey: Any] = [.posixPermissions: 0o700]
                if let user = serverUser {
                    guard let account = getpwnam(user) else {
                        throw WeicheError(
                            .databaseUnavailable,
                            "PostgreSQL refuses to run as root and there is no '\(user)' user to run it as: create that user, run Weiche as another user, or set WEICHE_DATABASE_URL")
                    }
                    attributes[.ownerAccountID] = account.pointee.pw_uid
                    attributes[.groupOwnerAccountID] = account.pointee.pw_gid
                }
                try FileManager.default.setAttributes(attributes, ofItemAtPath: url.path)
            }
        } catch let error as WeicheError {
            throw error
        } catch {
            throw WeicheError(.system, "could not create \(url.path): \(error.localizedDescription)")
        }
    }
}


/// Holds an exclusive `flock` on `file` while `body` runs: serializes the processes that start
/// the same cluster. The lock is released when the descriptor is closed, by exit at the latest.
private func withFileLock<Result>(_ file: URL, _ body: () async throws -> Result) async throws -> Result {
    let descriptor = open(file.path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else {
        throw WeicheError(.system, "could not open the lock file \(file.path): \(String(cString: strerror(errno)))")
    }
    defer { close(descriptor) }
    while flock(descriptor, LOCK_EX) != 0 {
        guard errno == EINTR else {
            throw WeicheError(.system, "could not lock \(file.path): \(String(cString: strerror(errno)))")
        }
    }
    return try await body()
}
