import Foundation
import Weiche

/// Runs the built `weiche` executable as a user would, and collects what it prints.
enum WeicheBinary {
    struct Result {
        var status: Int32
        var output: String
        var lines: [String] { output.split(separator: "\n").map(String.init) }
    }

    /// The `weiche` executable next to the test bundle in the build directory.
    static var path: String {
        let bundle = Bundle.main.bundleURL.deletingLastPathComponent()
        let besideBundle = bundle.appendingPathComponent("weiche").path
        if FileManager.default.isExecutableFile(atPath: besideBundle) { return besideBundle }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("weiche").path
    }

    /// Runs `weiche` with `arguments` under `env` (added to a clean environment).
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> Result {
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        env.merge(environment) { $1 }
        let assignments = env.map { "\($0.key)=\($0.value)" }
        let outcome = try await Subprocess.run("/usr/bin/env", ["-i"] + assignments + [path] + arguments)
        return Result(status: outcome.status, output: outcome.output)
    }

    /// Runs `body` with a new `WEICHE_HOME`; stops its embedded PostgreSQL and deletes it after.
    static func withTemporaryHome(_ body: (URL) async throws -> Void) async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("weiche-cli-\(UUID().uuidString.prefix(8))")
        do {
            try await body(home)
        } catch {
            _ = try? await run(["db", "stop"], environment: ["WEICHE_HOME": home.path])
            try? FileManager.default.removeItem(at: home)
            throw error
        }
        _ = try await run(["db", "stop"], environment: ["WEICHE_HOME": home.path])
        try FileManager.default.removeItem(at: home)
    }
}
