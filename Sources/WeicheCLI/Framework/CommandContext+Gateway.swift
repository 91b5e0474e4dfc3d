import Foundation
import Weiche
import WeicheCore
import WeichePostgres

extension CommandContext {
    /// Reads and checks the configuration named by `--config` or `WEICHE_CONFIG`.
    func configuration(path: String?) throws -> GatewayConfiguration {
        guard let path = path ?? environment["WEICHE_CONFIG"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw UsageError("no configuration: pass --config PATH or set WEICHE_CONFIG")
        }
        return try GatewayConfiguration.load(try readBounded(path, limit: GatewayConfiguration.maximumFileSize), knownAdapters: AdapterRegistry.names)
    }

    /// Reads a file of at most `limit` bytes; a larger one is refused unread past the limit.
    func readBounded(_ path: String, limit: Int) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw WeicheError(.invalidInput, "cannot read \(path): no such file, or not readable")
        }
        defer { try? handle.close() }
        let data = try handle.read(upToCount: limit + 1) ?? Data()
        guard data.count <= limit else {
            throw WeicheError(.invalidInput, "\(path) is larger than \(limit) bytes")
        }
        return [UInt8](data)
    }

    /// A gateway on the database, whose schema must be this version's.
    func gateway(configuration: GatewayConfiguration, worker: String) async throws -> (Gateway, PostgresConnectionPool) {
        let subjectKey = try requiredSubjectKey()
        let pool = try await openPool(maxConnections: 4)
        do {
            try await Migrator().verifyCurrent(on: pool)
        } catch {
            await pool.close()
            throw error
        }
        let store = PipelineStore(pool: pool, subjectKey: subjectKey)
        let gateway = Gateway(configuration: configuration, store: store, adapters: AdapterRegistry.adapters, worker: worker)
        return (gateway, pool)
    }

    /// The key for people's keyed hashes in the audit log. The gateway refuses to run without
    /// it: the log would then not know whom a transfer concerned.
    func requiredSubjectKey() throws -> SubjectKey {
        guard let key = try SubjectKey.fromEnvironment(environment) else {
            throw WeicheError(.invalidConfiguration, "set WEICHE_SUBJECT_KEY (at least 32 bytes, e.g. from 'openssl rand -hex 32') or WEICHE_SUBJECT_KEY_FILE: the audit log identifies people by a keyed hash; keep the key outside the database")
        }
        return key
    }

    /// Writes `value` as pretty, key-sorted JSON to standard output.
    func printJSON<Value: Encodable>(_ value: Value) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
