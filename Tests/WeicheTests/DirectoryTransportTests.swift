import Foundation
import Testing
import Weiche
import WeicheCore

@Suite("Directory channels")
struct DirectoryTransportTests {
    private func withDirectory(_ body: (URL) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("weiche-dir-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await body(directory)
    }

    private func names(in directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }

    private func write(_ text: String, _ name: String, in directory: URL, age: TimeInterval = 0) throws {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -age)], ofItemAtPath: url.path)
    }

    @Test func outboundWritesAtomicallyAndRedeliveryReplaces() async throws {
        try await withDirectory { directory async throws in
            let transport = DirectoryOutboundTransport(directory: directory)
            let id = UUID()
            let first = OutboundDocument(bytes: Array("Größe 1".utf8), fileName: "\(id).json", contentType: "application/json")
            #expect(await transport.deliver(first, messageID: id) == .delivered)
            var second = first
            second.bytes = Array("Größe 2".utf8)
            #expect(await transport.deliver(second, messageID: id) == .delivered)
            #expect(try names(in: directory) == ["\(id).json"], "one file, no temporary leftovers")
            #expect(try String(contentsOf: directory.appendingPathComponent("\(id).json"), encoding: .utf8) == "Größe 2")
        }
    }

    @Test(arguments: ["", ".hidden", "../escape.json", "a/b.json"])
    func outboundRefusesUnsafeNamesPermanently(_ name: String) async throws {
        try await withDirectory { directory async throws in
            let document = OutboundDocument(bytes: [1], fileName: name, contentType: "application/octet-stream")
            guard case .permanentFailure = await DirectoryOutboundTransport(directory: directory).deliver(document, messageID: UUID()) else {
                Issue.record("expected a permanent failure for \(name)")
                return
            }
            #expect(try names(in: directory).isEmpty)
        }
    }

    @Test func outboundIntoAMissingDirectoryIsRetryable() async {
        let transport = DirectoryOutboundTransport(directory: URL(fileURLWithPath: "/nonexistent/weiche/inbox"))
        let document = OutboundDocument(bytes: [1], fileName: "x.json", contentType: "application/json")
        guard case .retryableFailure(let reason) = await transport.deliver(document, messageID: UUID()) else {
            Issue.record("expected a retryable failure")
            return
        }
        #expect(reason.contains("/nonexistent/weiche/inbox"))
    }

    @Test func inboundReadsOnlyCompleteFilesOldestFirst() async throws {
        try await withDirectory { directory async throws in
            try write("new", "b.json", in: directory, age: 10)
            try write("old", "a.json", in: directory, age: 60)
            try write("partial", ".c.json", in: directory)
            try write("partial", "d.json.tmp", in: directory)
            try write("partial", "e.json.part", in: directory)
            try FileManager.default.createDirectory(at: directory.appendingPathComponent("sub"), withIntermediateDirectories: true)
            let transport = DirectoryInboundTransport(directory: directory)
            #expect(try await transport.receive(limit: 10).map(\.name) == ["a.json", "b.json"])
            #expect(try await transport.receive(limit: 1).map(\.name) == ["a.json"])
            #expect(try await transport.receive(limit: 10).first?.bytes == Array("old".utf8), "unacknowledged items come back")
        }
    }

    @Test func acknowledgedFilesMoveAsideWithTheirErrors() async throws {
        try await withDirectory { directory async throws in
            try write("1", "good.csv", in: directory, age: 30)
            try write("2", "bad.csv", in: directory, age: 20)
            try write("3", "mixed.csv", in: directory, age: 10)
            let transport = DirectoryInboundTransport(directory: directory)
            let items = try await transport.receive(limit: 10)
            try await transport.acknowledge(items[0], outcome: .processed(rejections: []))
            try await transport.acknowledge(items[1], outcome: .rejected([Rejection(reason: "not valid Windows-1252 text")]))
            try await transport.acknowledge(items[2], outcome: .processed(rejections: [
                Rejection(position: "row 7", field: "Geburtsdatum", reason: "not a date (dd.MM.yyyy)")
            ]))
            #expect(try await transport.receive(limit: 10).isEmpty, "a moved file is never read again")
            #expect(try names(in: transport.processedDirectory) == ["good.csv", "mixed.csv", "mixed.csv.error.txt"])
            #expect(try names(in: transport.rejectedDirectory) == ["bad.csv", "bad.csv.error.txt"])
            let report = try String(contentsOf: transport.processedDirectory.appendingPathComponent("mixed.csv.error.txt"), encoding: .utf8)
            #expect(report == "row 7, field Geburtsdatum: not a date (dd.MM.yyyy)\n")
            // Acknowledging again (a retry after a crash) changes nothing.
            try await transport.acknowledge(items[0], outcome: .processed(rejections: []))
            #expect(try names(in: transport.processedDirectory).count == 3)
        }
    }

    @Test func sameNameAgainIsKeptBesideTheFirst() async throws {
        try await withDirectory { directory async throws in
            let transport = DirectoryInboundTransport(directory: directory)
            for round in 1...2 {
                try write("round \(round)", "daily.csv", in: directory)
                let item = try #require(try await transport.receive(limit: 1).first)
                try await transport.acknowledge(item, outcome: .processed(rejections: []))
            }
            #expect(try names(in: transport.processedDirectory) == ["daily.csv", "daily.csv.1"])
        }
    }

    @Test func oversizedFileIsRejectedUnread() async throws {
        try await withDirectory { directory async throws in
            try write(String(repeating: "x", count: 2048), "huge.json", in: directory)
            try write("{}", "small.json", in: directory)
            let transport = DirectoryInboundTransport(directory: directory, maximumItemSize: 1024)
            #expect(try await transport.receive(limit: 10).map(\.name) == ["small.json"])
            let report = try String(contentsOf: transport.rejectedDirectory.appendingPathComponent("huge.json.error.txt"), encoding: .utf8)
            #expect(report.contains("2048 bytes"))
        }
    }
}
