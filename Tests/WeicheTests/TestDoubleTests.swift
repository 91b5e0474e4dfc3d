import Foundation
import Testing
import WeicheCore
import WeicheTesting

@Suite("Test doubles shipped in WeicheTesting")
struct TestDoubleTests {
    private let document = OutboundDocument(bytes: Array("{}".utf8), fileName: "x.json", contentType: "application/json")

    @Test func recordingTransportFollowsItsScriptThenTheDefault() async {
        let transport = RecordingTransport(script: [.retryableFailure("down"), .permanentFailure("refused")])
        let id = UUID()
        #expect(await transport.deliver(document, messageID: id) == .retryableFailure("down"))
        #expect(await transport.deliver(document, messageID: id) == .permanentFailure("refused"))
        #expect(await transport.deliver(document, messageID: id) == .delivered)
        transport.answerFromNowOn(.retryableFailure("again"))
        #expect(await transport.deliver(document, messageID: id) == .retryableFailure("again"))
        #expect(transport.attempts.count == 4)
        #expect(transport.delivered.count == 1)
        #expect(transport.attempts.allSatisfy { $0.messageID == id })
    }

    @Test func queueInboundTransportKeepsItemsUntilAcknowledged() async throws {
        let first = InboundItem(name: "a.json", bytes: [1])
        let second = InboundItem(name: "b.json", bytes: [2])
        let transport = QueueInboundTransport([first, second])
        #expect(try await transport.receive(limit: 1) == [first])
        #expect(try await transport.receive(limit: 10) == [first, second], "not acknowledged: still there")
        try await transport.acknowledge(first, outcome: .processed(rejections: []))
        #expect(try await transport.receive(limit: 10) == [second])
        #expect(transport.acknowledged.map(\.item) == [first])
    }

    @Test func manualClockMovesOnlyWhenAdvanced() {
        let clock = ManualClock()
        let start = clock.now()
        #expect(clock.now() == start)
        clock.advance(by: 90)
        #expect(clock.now().timeIntervalSince(start) == 90)
    }
}
