import Foundation
import WeicheCore

/// Delivers documents as files into an agency's directory, atomically and durably.
///
/// Each document is written under a hidden temporary name, flushed to disk (`fsync`), renamed
/// to its final name, and the directory is flushed too: the agency never sees a partial file,
/// and a file that was reported delivered survives a power failure. Adapters put the Weiche
/// message id into the file name, so a redelivery replaces the earlier file rather than adding
/// a second one.
public struct DirectoryOutboundTransport: OutboundTransport {
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    public func deliver(_ document: OutboundDocument, messageID: UUID) async -> DeliveryOutcome {
        guard Self.isSafeFileName(document.fileName) else {
            return .permanentFailure("the adapter produced an unusable file name (empty, hidden, or with a path)")
        }
        let directory = directory
        do {
            try await BlockingIO.run {
                try Self.writeAtomically(document.bytes, named: document.fileName, in: directory.path)
            }
            return .delivered
        } catch let error as FileError {
            return .retryableFailure(error.description)
        } catch {
            return .retryableFailure("could not write into \(directory.path)")
        }
    }

    /// A plain file name: no directory part, not hidden, not `.`/`..`, at most 200 bytes.
    static func isSafeFileName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix(".") && !name.contains("/") && !name.contains("\0") && name.utf8.count <= 200
    }

    struct FileError: Error, CustomStringConvertible {
        var description: String
        init(_ call: String, _ path: String) {
            description = "\(call) \(path): \(String(cString: strerror(errno)))"
        }
    }

    static func writeAtomically(_ bytes: [UInt8], named name: String, in directory: String) throws {
        let temporary = "\(directory)/.\(name).\(UUID().uuidString.prefix(8)).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw FileError("cannot create a file in", directory) }
        do {
            var written = 0
            while written < bytes.count {
                let count = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw FileError("cannot write", temporary)
                }
                written += count
            }
            guard fsync(descriptor) == 0 else { throw FileError("cannot flush", temporary) }
            close(descriptor)
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, "\(directory)/\(name)") == 0 else {
            let failure = FileError("cannot rename into", directory)
            unlink(temporary)
            throw failure
        }
        try syncDirectory(directory)
    }

    /// Flushes a directory's entries (a rename is durable only after this).
    static func syncDirectory(_ directory: String) throws {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileError("cannot open", directory) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw FileError("cannot flush", directory) }
    }
}
