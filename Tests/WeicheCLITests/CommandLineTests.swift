import Foundation
import Testing
import Weiche
import WeichePostgres
import WeicheTesting

@Suite("The weiche command line, run as a user runs it")
struct CommandLineTests {
  @Test(arguments: [
    ["--help"], ["help"], ["migrate", "--help"], ["db", "--help"], ["db", "status", "--help"],
    ["db", "start", "--help"], ["db", "stop", "--help"], ["help", "migrate"],
  ])
  func everyCommandHasHelp(_ arguments: [String]) async throws {
    let result = try await WeicheBinary.run(arguments)
    #expect(result.status == 0)
    #expect(result.output.contains("USAGE: weiche"))
  }

  /// Every command `weiche --help` lists answers `--help` with its usage and examples.
  @Test func everyListedCommandHasHelpWithExamples() async throws {
    let overview = try await WeicheBinary.run(["--help"])
    let section = overview.output.components(separatedBy: "COMMANDS:\n").last?.components(separatedBy: "\n\n").first ?? ""
    let commands = section.split(separator: "\n").map { line in
      line.trimmingCharacters(in: .whitespaces).components(separatedBy: "  ").first!.split(separator: " ").map(String.init)
    }
    #expect(commands.count >= 11, "\(commands)")
    #expect(commands.contains(["demo"]) && commands.contains(["config", "example"]))
    for command in commands {
      let help = try await WeicheBinary.run(command + ["--help"])
      #expect(help.status == 0, "\(command)")
      #expect(help.output.contains("USAGE: weiche \(command.joined(separator: " "))"), "\(command)")
      #expect(help.output.contains("EXAMPLES:"), "\(command) has examples")
    }
  }

  @Test(arguments: [
    ["frobnicate"], ["migrate", "--bogus"], ["db", "status", "extra"], ["db", "nope"],
  ])
  func usageErrorsExitTwoWithOneLine(_ arguments: [String]) async throws {
    let result = try await WeicheBinary.run(arguments)
    #expect(result.status == 2)
    #expect(result.lines.count == 1)
    #expect(result.output.hasPrefix("weiche"))
  }

  @Test(arguments: [["migrate"], ["db", "status"]])
  func unreachableServerFailsFastWithOneLineAndNoSecret(_ arguments: [String]) async throws {
    for url in [
      "postgresql://weiche:TopSecret99@127.0.0.1:1/weiche",
      "postgresql://weiche:TopSecret99@db.example.invalid/weiche",
      "host=/nonexistent/socket/dir dbname=weiche password=TopSecret99",
    ] {
      let start = Date()
      let result = try await WeicheBinary.run(arguments, environment: ["WEICHE_DATABASE_URL": url])
      #expect(Date().timeIntervalSince(start) < 10)
      #expect(result.status == 3, "exit code for \(url)")
      #expect(!result.output.contains("TopSecret99"))
      #expect(!result.output.contains("Fatal error"), "no crash or stack trace")
      #expect(result.lines.count == 1, "one line: \(result.output)")
    }
  }

  @Test func silentServerTimesOutWithinTenSeconds() async throws {
    // A TCP listener that never accepts: the kernel completes the handshake, then nothing
    // answers libpq's startup message. Only the connect timeout can end the wait.
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(listener) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    try withUnsafeMutablePointer(to: &address) { pointer in
      try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
        guard bind(listener, raw, length) == 0, listen(listener, 8) == 0,
          getsockname(listener, raw, &length) == 0
        else { throw CocoaError(.fileWriteUnknown) }
      }
    }
    let port = UInt16(bigEndian: address.sin_port)
    let start = Date()
    let result = try await WeicheBinary.run(
      ["migrate"],
      environment: ["WEICHE_DATABASE_URL": "postgresql://weiche@127.0.0.1:\(port)/weiche"])
    let elapsed = Date().timeIntervalSince(start)
    #expect(elapsed < 10)
    #expect(elapsed > 3, "the connect timeout (5 s) ended it, not a refusal")
    #expect(result.status == 3)
    #expect(result.lines.count == 1, "one line: \(result.output)")
  }

  @Test func migrateTwiceAndStatusAgainstAServer() async throws {
    let configuration = try await TestPostgres.configuration()
    try await TestPostgres.withSchema { pool async throws in
      let schema = try await pool.query("SELECT current_schema()::text").single().decode(
        String.self, at: 0)
      // libpq's `options` puts the test's schema first on the search_path.
      let url = configuration.connectionString + " options='-c search_path=\(schema)'"
      let first = try await WeicheBinary.run(["migrate"], environment: ["WEICHE_DATABASE_URL": url])
      #expect(first.status == 0, "\(first.output)")
      #expect(first.output.contains("Applied migration 1"))
      #expect(first.output.contains("Applying migration 10: payloads-as-text — rewrites the message and delivery tables"),
              "a migration that locks tables says so before it runs")
      let second = try await WeicheBinary.run(
        ["migrate"], environment: ["WEICHE_DATABASE_URL": url])
      #expect(second.status == 0)
      #expect(second.output.contains("up to date"))
      let status = try await WeicheBinary.run(
        ["db", "status", "--json"], environment: ["WEICHE_DATABASE_URL": url])
      #expect(status.status == 0)
      let report =
        try JSONSerialization.jsonObject(with: Data(status.output.utf8)) as? [String: Any]
      #expect(report?["running"] as? Bool == true)
      #expect(report?["schemaVersion"] as? Int == report?["schemaVersionExpected"] as? Int)
      #expect(report?["kind"] as? String == "external")
    }
  }

  /// A cluster created without Weiche's settings for its write load (by an earlier Weiche)
  /// gets them when it next starts; a setting an operator changed stays as it is, and nothing
  /// is added twice.
  @Test func anEarlierClusterGetsTheWriteSettingsWhenItNextStarts() async throws {
    try await WeicheBinary.withTemporaryHome { home in
      let environment = ["WEICHE_HOME": home.path]
      #expect(try await WeicheBinary.run(["migrate"], environment: environment).status == 0)
      #expect(try await WeicheBinary.run(["db", "stop"], environment: environment).status == 0)
      let file = home.appendingPathComponent("postgres/data/postgresql.conf")
      let written = try String(contentsOf: file, encoding: .utf8)
      // As an earlier Weiche left it, with an operator's own max_wal_size.
      let earlier = written.split(separator: "\n", omittingEmptySubsequences: false)
        .filter { !$0.hasPrefix("wal_compression") && !$0.hasPrefix("max_wal_size = '4GB'") }
        .joined(separator: "\n") + "\nmax_wal_size = '2GB'\n"
      try Data(earlier.utf8).write(to: file)  // in place: the server's user keeps the file

      func settings() async throws -> (compression: String, walSize: String) {
        let configuration = try PostgresConfiguration(connectionString: EmbeddedPostgres(home: home).connectionString)
        let pool = PostgresConnectionPool(configuration: configuration, maxConnections: 1)
        defer { Task { await pool.close() } }
        let compression = try await pool.query("SHOW wal_compression").single().decode(String.self, at: 0)
        let walSize = try await pool.query("SHOW max_wal_size").single().decode(String.self, at: 0)
        return (compression, walSize)
      }
      #expect(try await WeicheBinary.run(["migrate"], environment: environment).status == 0)
      var now = try await settings()
      #expect(now.compression == "lz4" || now.compression == "pglz", "got \(now.compression)")
      #expect(now.walSize == "2GB", "the operator's value stands")
      #expect(try await WeicheBinary.run(["db", "stop"], environment: environment).status == 0)
      #expect(try await WeicheBinary.run(["migrate"], environment: environment).status == 0)
      now = try await settings()
      #expect(now.compression == "lz4" || now.compression == "pglz")
      let conf = try String(contentsOf: file, encoding: .utf8)
      #expect(conf.components(separatedBy: "# Added by Weiche").count == 2, "added once")
      #expect(!conf.contains("max_wal_size = '4GB'"))
    }
  }

  @Test func embeddedDefaultStartsReusesAndStops() async throws {
    try await WeicheBinary.withTemporaryHome { home in
      let environment = ["WEICHE_HOME": home.path]
      let notYet = try await WeicheBinary.run(["db", "status"], environment: environment)
      #expect(notYet.status == 3)
      #expect(notYet.output.contains("not created yet"))

      let first = try await WeicheBinary.run(["migrate"], environment: environment)
      #expect(first.status == 0, "\(first.output)")
      #expect(first.output.contains("Applied migration 1"))
      #expect(first.output.contains("Applying migration 10: payloads-as-text — rewrites the message and delivery tables"),
              "a migration that locks tables says so before it runs")
      // The new cluster carries Weiche's settings for its write load.
      let conf = try String(contentsOf: home.appendingPathComponent("postgres/data/postgresql.conf"), encoding: .utf8)
      #expect((conf.contains("wal_compression = 'lz4'") || conf.contains("wal_compression = 'on'")) && conf.contains("max_wal_size = '4GB'"))
      let second = try await WeicheBinary.run(["migrate"], environment: environment)
      #expect(second.status == 0, "\(second.output)")
      #expect(second.output.contains("up to date"))

      let running = try await WeicheBinary.run(["db", "status"], environment: environment)
      #expect(running.status == 0)
      #expect(running.output.contains("embedded PostgreSQL"))
      #expect(running.output.contains("State:     running"))
      #expect(running.output.contains("(up to date)"))

      let stopped = try await WeicheBinary.run(["db", "stop"], environment: environment)
      #expect(stopped.status == 0)
      let after = try await WeicheBinary.run(["db", "status"], environment: environment)
      #expect(after.status == 3)
      #expect(after.output.contains("stopped"))

      let restarted = try await WeicheBinary.run(["db", "start"], environment: environment)
      #expect(restarted.status == 0, "\(restarted.output)")
      #expect(try await WeicheBinary.run(["db", "status"], environment: environment).status == 0)
    }
  }

  @Test func twoProcessesStartingTheEmbeddedClusterShareIt() async throws {
    try await WeicheBinary.withTemporaryHome { home in
      let results = try await withThrowingTaskGroup(of: WeicheBinary.Result.self) { group in
        for _ in 0..<3 {
          group.addTask {
            try await WeicheBinary.run(["migrate"], environment: ["WEICHE_HOME": home.path])
          }
        }
        return try await group.reduce(into: []) { $0.append($1) }
      }
      #expect(results.allSatisfy { $0.status == 0 }, "\(results.map(\.output))")
      #expect(results.filter { $0.output.contains("Applied migration 1") }.count == 1)
      #expect(results.filter { $0.output.contains("up to date") }.count == 2)
    }
  }

  @Test func databaseCommandsRefuseAnExternalServer() async throws {
    let result = try await WeicheBinary.run(
      ["db", "stop"], environment: ["WEICHE_DATABASE_URL": "postgresql://x@127.0.0.1:1/x"])
    #expect(result.status == 2)
    #expect(result.output.contains("WEICHE_DATABASE_URL is set"))
  }
}
