import Foundation
import Testing
import Weiche
import WeicheCore
import WeicheTesting

@Suite("HTTP outbound transport")
struct HTTPTransportTests {
    private let document = OutboundDocument(bytes: Array(#"{"name":"Größe"}"#.utf8), fileName: "m.json", contentType: "application/json")

    @Test func postsWithTheMessageIdAsIdempotencyKey() async throws {
        let server = try LocalHTTPServer()
        defer { server.stop() }
        let id = UUID()
        let outcome = await HTTPOutboundTransport(url: server.url.appendingPathComponent("inbox")).deliver(document, messageID: id)
        #expect(outcome == .delivered)
        let request = try #require(server.requests.first)
        #expect(request.method == "POST")
        #expect(request.path == "/inbox")
        #expect(request.headers["idempotency-key"] == id.uuidString.lowercased())
        #expect(request.headers["x-weiche-file-name"] == "m.json")
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.body == document.bytes)
    }

    @Test(arguments: [
        (200, "delivered"), (201, "delivered"), (204, "delivered"),
        (408, "retryable"), (429, "retryable"), (500, "retryable"), (503, "retryable"),
        (400, "permanent"), (401, "permanent"), (404, "permanent"), (409, "permanent"), (422, "permanent"),
    ])
    func statusCodesAreClassified(status: Int, expected: String) async throws {
        let server = try LocalHTTPServer(otherwise: status)
        defer { server.stop() }
        let outcome = await HTTPOutboundTransport(url: server.url).deliver(document, messageID: UUID())
        switch (outcome, expected) {
        case (.delivered, "delivered"): break
        case (.retryableFailure(let reason), "retryable"), (.permanentFailure(let reason), "permanent"):
            #expect(reason.contains("HTTP \(status)"))
            #expect(!reason.contains("Größe"), "no payload in the reason")
        default: Issue.record("HTTP \(status) gave \(outcome), expected \(expected)")
        }
    }

    @Test func aStoppedTestServerNeverAnswersForTheNextOne() async throws {
        // The first server is stopped while it is still answering; the second is opened then,
        // and may be given the first's socket number. The first must not take the second's
        // requests when it finishes (a test running in parallel once got 200 for 408 so).
        let first = try LocalHTTPServer(otherwise: 200, delay: .milliseconds(300))
        async let answered = HTTPOutboundTransport(url: first.url, timeout: .seconds(5)).deliver(document, messageID: UUID())
        while first.requests.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        first.stop()
        let second = try LocalHTTPServer(otherwise: 503)
        defer { second.stop() }
        #expect(await answered == .delivered, "a request already received is still answered")
        try await Task.sleep(for: .milliseconds(50))
        for _ in 0..<3 {
            let outcome = await HTTPOutboundTransport(url: second.url, timeout: .seconds(5)).deliver(document, messageID: UUID())
            #expect(outcome == .retryableFailure("HTTP 503 from 127.0.0.1"))
        }
        #expect(second.requests.count == 3)
        #expect(first.requests.count == 1)
    }

    @Test func refusedConnectionIsRetryable() async throws {
        let server = try LocalHTTPServer()
        let url = server.url
        server.stop()
        guard case .retryableFailure = await HTTPOutboundTransport(url: url, timeout: .seconds(2)).deliver(document, messageID: UUID()) else {
            Issue.record("a refused connection must be retryable")
            return
        }
    }

    @Test func slowRecipientTimesOutRetryably() async throws {
        // The server would answer 200 after 10 s; only the 1 s timeout can end the wait sooner.
        let server = try LocalHTTPServer(delay: .seconds(10))
        defer { server.stop() }
        let start = ContinuousClock.now
        let outcome = await HTTPOutboundTransport(url: server.url, timeout: .seconds(1)).deliver(document, messageID: UUID())
        guard case .retryableFailure = outcome else {
            Issue.record("a timeout must be retryable, got \(outcome)")
            return
        }
        #expect(ContinuousClock.now - start < .seconds(8), "the configured timeout ended the wait, not the server's answer")
    }
}
