import Foundation
import WeicheCore

/// Where PostgreSQL's server programs (`initdb`, `pg_ctl`, `postgres`) are.
public struct PostgresBinaries: Sendable {
    /// The directory holding them.
    public let directory: String

    public var initdb: String { directory + "/initdb" }
    public var pgCtl: String { directory + "/pg_ctl" }

    /// Finds the server programs: `WEICHE_POSTGRES_BIN`, then `pg_config --bindir`, then the
    /// newest `/usr/lib/postgresql/*/bin`, then `/usr/local/pgsql/bin`.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> PostgresBinaries {
        var candidates: [String] = []
        if let explicit = environment["WEICHE_POSTGRES_BIN"], !explicit.isEmpty { candidates.append(explicit) }
        if let bindir = await pgConfigBindir() { candidates.append(bindir) }
        candidates += debianServerDirectories()
        candidates.append("/usr/local/pgsql/bin")
        for directory in candidates where isServerDirectory(directory) {
            return PostgresBinaries(directory: directory)
        }
        throw WeicheError(
            .databaseUnavailable,
            "no PostgreSQL server programs found (looked for initdb and pg_ctl in \(candidates.joined(separator: ", "))). "
                + "Install them (Debian/Ubuntu: apt-get install postgresql), set WEICHE_POSTGRES_BIN to their directory, "
                + "or set WEICHE_DATABASE_URL to use an existing server")
    }

    private static func isServerDirectory(_ directory: String) -> Bool {
        let files = FileManager.default
        return files.isExecutableFile(atPath: directory + "/initdb") && files.isExecutableFile(atPath: directory + "/pg_ctl")
            && files.isExecutableFile(atPath: directory + "/postgres")
    }

    private static func pgConfigBindir() async -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        guard let pgConfig = path.map({ "\($0)/pg_config" }).first(where: FileManager.default.isExecutableFile(atPath:)),
            let outcome = try? await Subprocess.run(pgConfig, ["--bindir"]), outcome.succeeded
        else { return nil }
        return outcome.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Debian's `/usr/lib/postgresql/<major>/bin`, newest major version first.
    private static func debianServerDirectories() -> [String] {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return versions.compactMap(Int.init).sorted(by: >).map { "\(root)/\($0)/bin" }
    }
}
