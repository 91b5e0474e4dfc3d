import Foundation

/// Runs a helper program (PostgreSQL's `initdb`, `pg_ctl`, …) and collects its output.
struct Subprocess {
    struct Outcome {
        var status: Int32
        var output: String
        var succeeded: Bool { status == 0 }
    }

    /// Runs `executable` with `arguments`, as `user` when given (through `runuser`, which only
    /// root may do), and waits for it. Standard output and error are collected together.
    static func run(_ executable: String, _ arguments: [String], as user: String? = nil) throws -> Outcome {
        let process = Process()
        if let user {
            process.executableURL = URL(fileURLWithPath: runuserPath)
            process.arguments = ["-u", user, "--", executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    static var runuserPath: String {
        ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        } ?? "runuser"
    }
}
