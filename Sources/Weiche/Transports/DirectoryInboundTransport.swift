import Foundation
import WeicheCore

/// Takes referrals from a directory an agency writes files into.
///
/// - Only complete files are read: the agency writes under a hidden name (`.x`) or with a
///   `.tmp`/`.part` ending and then renames. Such names, subdirectories and links are skipped.
/// - A file stays where it is until the gateway acknowledges it (after committing what it
///   contained). Then it moves to `processed/`; a file that was rejected whole moves to
///   `rejected/`. Where anything in it was rejected, an `<name>.error.txt` beside the moved file
///   says what and why (positions and reasons, never values). A moved file is never read again.
/// - A file larger than `maximumItemSize` is rejected at once without being read.
public struct DirectoryInboundTransport: InboundTransport {
    public let directory: URL
    public let maximumItemSize: Int

    public init(directory: URL, maximumItemSize: Int = 10 << 20) {
        self.directory = directory
        self.maximumItemSize = maximumItemSize
    }

    public var processedDirectory: URL { directory.appendingPathComponent("processed", isDirectory: true) }
    public var rejectedDirectory: URL { directory.appendingPathComponent("rejected", isDirectory: true) }

    public func receive(limit: Int) async throws -> [InboundItem] {
        let transport = self
        return try await BlockingIO.run { try transport.receiveBlocking(limit: limit) }
    }

    public func acknowledge(_ item: InboundItem, outcome: InboundOutcome) async throws {
        let transport = self
        try await BlockingIO.run { try transport.move(item.name, outcome: outcome) }
    }

    private func receiveBlocking(limit: Int) throws -> [InboundItem] {
        let files = FileManager.default
        let names = try files.contentsOfDirectory(atPath: directory.path)
        var candidates: [(name: String, modified: Date, size: Int)] = []
        for name in names where Self.isComplete(name) {
            let path = directory.appendingPathComponent(name).path
            guard let attributes = try? files.attributesOfItem(atPath: path),
                attributes[.type] as? FileAttributeType == .typeRegular
            else { continue }
            candidates.append((name, attributes[.modificationDate] as? Date ?? .distantPast, (attributes[.size] as? Int) ?? 0))
        }
        candidates.sort { ($0.modified, $0.name) < ($1.modified, $1.name) }
        var items: [InboundItem] = []
        for candidate in candidates where items.count < limit {
            if candidate.size > maximumItemSize {
                try move(candidate.name, outcome: .rejected([Rejection(
                    reason: "the file has \(candidate.size) bytes; at most \(maximumItemSize) are accepted")]))
                continue
            }
            guard let data = files.contents(atPath: directory.appendingPathComponent(candidate.name).path) else { continue }
            items.append(InboundItem(name: candidate.name, bytes: [UInt8](data)))
        }
        return items
    }

    /// Whether a directory entry is a finished file from the agency.
    static func isComplete(_ name: String) -> Bool {
        !name.hasPrefix(".") && !name.hasSuffix(".tmp") && !name.hasSuffix(".part") && !name.hasSuffix(".error.txt")
            && name != "processed" && name != "rejected"
    }

    private func move(_ name: String, outcome: InboundOutcome) throws {
        let rejections: [Rejection]
        let target: URL
        switch outcome {
        case .processed(let partial):
            rejections = partial
            target = processedDirectory
        case .rejected(let all):
            rejections = all
            target = rejectedDirectory
        }
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        let source = directory.appendingPathComponent(name).path
        guard FileManager.default.fileExists(atPath: source) else { return }  // already moved
        let finalName = Self.freeName(for: name, in: target.path)
        if !rejections.isEmpty {
            let report = rejections.map(\.description).joined(separator: "\n") + "\n"
            try DirectoryOutboundTransport.writeAtomically(Array(report.utf8), named: finalName + ".error.txt", in: target.path)
        }
        guard rename(source, "\(target.path)/\(finalName)") == 0 else {
            throw DirectoryOutboundTransport.FileError("cannot move \(name) into", target.path)
        }
        try DirectoryOutboundTransport.syncDirectory(target.path)
        try DirectoryOutboundTransport.syncDirectory(directory.path)
    }

    /// `name`, or `name.1`, `name.2`, … if an earlier file of that name was already moved there.
    private static func freeName(for name: String, in directory: String) -> String {
        var candidate = name
        var counter = 0
        while FileManager.default.fileExists(atPath: "\(directory)/\(candidate)") {
            counter += 1
            candidate = "\(name).\(counter)"
        }
        return candidate
    }
}
