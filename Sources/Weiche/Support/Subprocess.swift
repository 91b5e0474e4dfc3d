import Foundation

/// Runs helper programs (PostgreSQL's `initdb`, `pg_ctl`, …) with `posix_spawn` and `waitpid`.
///
/// Foundation's `Process` is not used: on Linux its `waitUntilExit` was seen to wait forever for
/// a child that had already exited, when another child had been started from the same process.
public enum Subprocess {
    /// How a program ended, with its standard output and error together.
    public struct Outcome: Sendable {
        public var status: Int32
        public var output: String
        public var succeeded: Bool { status == 0 }
    }

    /// Runs `executable` with `arguments`, as `user` when given (through `runuser`, which only
    /// root may do), waits for it, and collects what it prints. The waiting happens on a thread
    /// of its own, never on one of Swift's cooperative threads.
    public static func run(_ executable: String, _ arguments: [String], as user: String? = nil) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try runBlocking(executable, arguments, as: user) })
            }
            thread.name = "weiche-subprocess"
            thread.start()
        }
    }

    /// Like ``run(_:_:as:)``, blocking the calling thread: only for code that runs on a thread
    /// of its own or before any task starts (a test's `.enabled(if:)` condition).
    public static func runBlocking(_ executable: String, _ arguments: [String], as user: String? = nil) throws -> Outcome {
        let argv = user.map { [runuserPath, "-u", $0, "--", executable] } ?? [executable]
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw systemError("pipe") }
        // Only the child's standard output and error may hold the pipe open.
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        let pid: pid_t
        do {
            pid = try spawn(argv + arguments, standardOutput: fds[1])
        } catch {
            close(fds[0])
            close(fds[1])
            throw error
        }
        close(fds[1])
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fds[0], &buffer, buffer.count)
            if count > 0 {
                output.append(contentsOf: buffer[0..<count])
            } else if count == 0 || errno != EINTR {
                break
            }
        }
        close(fds[0])
        return Outcome(status: try wait(for: pid), output: String(decoding: output, as: UTF8.self))
    }

    /// Starts `arguments` in the background, detached from this process's input and output,
    /// and does not wait for it.
    public static func startDetached(_ arguments: [String]) throws {
        let devNull = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { close(devNull) }
        _ = try spawn(arguments, standardOutput: devNull)
    }

    private static func spawn(_ arguments: [String], standardOutput: Int32) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, standardOutput, 1)
        posix_spawn_file_actions_adddup2(&actions, standardOutput, 2)
        // The child starts with no signal blocked and every signal at its default: the calling
        // thread's mask (runtime threads block some) and ignored signals (a command that
        // handles SIGINT itself) must not leak into helper programs, which rely on SIGALRM,
        // SIGINT and SIGTERM.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let cArguments = arguments.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, cArguments, environ)
        guard result == 0 else {
            throw WeicheSubprocessError(message: "could not start \(arguments[0]): \(String(cString: strerror(result)))")
        }
        return pid
    }

    private static func wait(for pid: pid_t) throws -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw systemError("waitpid") }
        }
        // WIFEXITED / WEXITSTATUS, which Swift does not import as macros.
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }

    private static func systemError(_ call: String) -> WeicheSubprocessError {
        WeicheSubprocessError(message: "\(call) failed: \(String(cString: strerror(errno)))")
    }

    static var runuserPath: String {
        ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        } ?? "/usr/sbin/runuser"
    }
}

/// A helper program could not be started or waited for.
public struct WeicheSubprocessError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
