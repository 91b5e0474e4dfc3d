import Foundation
import WeicheCore

extension Gateway {
    /// A gateway whose channels are built from the configuration: a `directory` channel
    /// becomes directory transports, an `http` channel an HTTP transport.
    public init(configuration: GatewayConfiguration, store: PipelineStore, adapters: [any AgencyAdapter], worker: String) {
        var inbound: [AgencyID: any InboundTransport] = [:]
        var outbound: [AgencyID: any OutboundTransport] = [:]
        for agency in configuration.agencies {
            if case .directory(let path)? = agency.inbound {
                inbound[agency.id] = DirectoryInboundTransport(directory: URL(fileURLWithPath: path, isDirectory: true))
            }
            switch agency.outbound {
            case .directory(let path)?:
                outbound[agency.id] = DirectoryOutboundTransport(directory: URL(fileURLWithPath: path, isDirectory: true))
            case .http(let url, let timeout)?:
                outbound[agency.id] = HTTPOutboundTransport(url: url, timeout: timeout)
            case nil:
                break
            }
        }
        self.init(configuration: configuration, store: store, adapters: adapters, inbound: inbound, outbound: outbound, worker: worker)
    }

    /// Records that this gateway runs with its configuration (the file's SHA-256).
    public func recordConfigurationApplied() async throws {
        let event = AuditEvent(
            .configurationApplied, at: store.clock.now(), actor: worker,
            details: ["sha256": configuration.sha256, "agencies": String(configuration.agencies.count), "routes": String(configuration.routes.count)])
        try await store.pool.withAuditedTransaction { _, audit in audit.add(event) }
    }
}
