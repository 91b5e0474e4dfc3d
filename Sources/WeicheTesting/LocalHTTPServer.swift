import Foundation
import Synchronization

/// A minimal HTTP/1.1 server on 127.0.0.1 for tests of HTTP transports: answers each request
/// with the next scripted status (then `otherwise`), optionally after a delay, and records what
/// it received. One request per connection. Never listens beyond loopback.
public final class LocalHTTPServer: Sendable {
    /// A request as received.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        /// Header names in lowercase.
        public var headers: [String: String]
        public var body: [UInt8]
    }

    private struct State {
        var script: [Int]
        var otherwise: Int
        var delay: Duration
        var requests: [Request] = []
    }

    /// The port it listens on.
    public let port: UInt16
    private let listener: Int32
    private let state: Mutex<State>

    public init(script: [Int] = [], otherwise: Int = 200, delay: Duration = .zero) throws {
        state = Mutex(State(script: script, otherwise: otherwise, delay: delay))
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(listener, raw, length) == 0 && listen(listener, 64) == 0 && getsockname(listener, raw, &length) == 0
            }
        }
        guard listener >= 0, bound else {
            close(listener)
            throw CocoaError(.fileWriteUnknown)
        }
        self.listener = listener
        self.port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in self.serve() }
        thread.name = "weiche-test-http"
        thread.start()
    }

    /// The server's base URL.
    public var url: URL { URL(string: "http://127.0.0.1:\(port)/")! }

    /// Every request so far.
    public var requests: [Request] { state.withLock { $0.requests } }

    /// From now on answers with `status` (after what remains of the script).
    public func answerFromNowOn(_ status: Int, delay: Duration = .zero) {
        state.withLock {
            $0.otherwise = status
            $0.delay = delay
        }
    }

    /// Stops listening: new connections are refused from now on.
    ///
    /// Only the serving thread closes the socket, once `accept` fails on it. Were it closed
    /// here, the thread could come back from a request to `accept` on the same descriptor
    /// number after another server (a test running in parallel) had been given it, and answer
    /// that server's requests with this one's statuses.
    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func serve() {
        defer { close(listener) }
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            handle(connection)
            close(connection)
        }
    }

    private func handle(_ connection: Int32) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var headerEnd: Int?
        var contentLength = 0
        while true {
            let count = read(connection, &buffer, buffer.count)
            if count <= 0 { return }
            received += buffer[0..<count]
            if headerEnd == nil, let end = received.firstRange(of: Array("\r\n\r\n".utf8))?.upperBound {
                headerEnd = end
                let head = String(decoding: received[..<end], as: UTF8.self)
                for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    contentLength = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            if let headerEnd, received.count >= headerEnd + contentLength { break }
        }
        let end = headerEnd!
        let lines = String(decoding: received[..<end], as: UTF8.self).split(separator: "\r\n")
        let requestLine = lines.first?.split(separator: " ") ?? []
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let request = Request(
            method: requestLine.first.map(String.init) ?? "", path: requestLine.dropFirst().first.map(String.init) ?? "",
            headers: headers, body: Array(received[end..<(end + contentLength)]))
        let (status, delay) = state.withLock { state in
            state.requests.append(request)
            return (state.script.isEmpty ? state.otherwise : state.script.removeFirst(), state.delay)
        }
        if delay > .zero { Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18) }
        let response = "HTTP/1.1 \(status) Status\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        _ = Array(response.utf8).withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
    }
}
