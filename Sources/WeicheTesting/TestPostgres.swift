import Foundation
import Weiche
import WeichePostgres

/// A PostgreSQL server for tests, shared by all tests of one test process.
///
/// With `WEICHE_TEST_DATABASE_URL` set, that server is used. Otherwise the first test that asks
/// starts a throwaway cluster (with durability off, for speed) in a new directory under the
/// system's temporary directory; a watchdog process stops and removes it as soon as the test
/// process has exited, however it exits.
///
/// Tests isolate themselves with ``withSchema(migrated:_:)``: each gets a schema of its own,
/// so suites can run in parallel against one server.
public enum TestPostgres {
    /// The configuration of the shared server, starting it on first use.
    public static func configuration() async throws -> PostgresConfiguration {
        try await server.configuration()
    }

    /// Runs `body` with a pool whose `search_path` is a new, empty schema, dropped afterwards.
    /// With `migrated`, Weiche's migrations are applied to it first.
    public static func withSchema<Result>(
        migrated: Bool = false,
        maxConnections: Int = 4,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnectionPool) async throws -> Result
    ) async throws -> Result {
        let base = try await configuration()
        let schema = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let admin = PostgresConnectionPool(configuration: base, maxConnections: 1)
        try await admin.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA " + schema))
        var scoped = base
        scoped.searchPath = [schema]
        let pool = PostgresConnectionPool(configuration: scoped, maxConnections: maxConnections)
        do {
            if migrated { _ = try await Migrator().migrate(on: pool) }
            let result = try await body(pool)
            await pool.close()
            try await admin.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"))
            await admin.close()
            return result
        } catch {
            await pool.close()
            _ = try? await admin.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"))
            await admin.close()
            throw error
        }
    }

    private static let server = Server()

    private actor Server {
        private var starting: Task<PostgresConfiguration, any Error>?

        func configuration() async throws -> PostgresConfiguration {
            if let starting { return try await starting.value }
            let task = Task { try await Self.start() }
            starting = task
            return try await task.value
        }

        private static func start() async throws -> PostgresConfiguration {
            if let url = ProcessInfo.processInfo.environment["WEICHE_TEST_DATABASE_URL"], !url.isEmpty {
                return try PostgresConfiguration(connectionString: url)
            }
            let home = FileManager.default.temporaryDirectory
                .appendingPathComponent("weiche-test-\(getpid())-\(UUID().uuidString.prefix(8))", isDirectory: true)
            // Every test runs at once, each with a pool of its own and some with `weiche`
            // processes: the suite peaks at about 180 connections, too close to 200.
            let cluster = EmbeddedPostgres(home: home, settings: [
                "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                "max_connections": "400", "shared_buffers": "64MB",
            ])
            try await startWatchdog(for: cluster)
            return try await cluster.start()
        }

        /// A shell loop that outlives this process, then stops the cluster and deletes it.
        private static func startWatchdog(for cluster: EmbeddedPostgres) async throws {
            let binaries = try await PostgresBinaries.locate()
            let asServer = geteuid() == 0 ? "runuser -u postgres -- " : ""
            let script = """
                while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done
                \(asServer)'\(binaries.pgCtl)' stop -D '\(cluster.dataDirectory.path)' -m immediate >/dev/null 2>&1
                rm -rf '\(cluster.home.path)' '\(cluster.socketDirectory.path)'
                """
            try Subprocess.startDetached(["/bin/sh", "-c", script])
        }
    }
}
