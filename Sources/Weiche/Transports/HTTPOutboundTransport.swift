import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import WeicheCore

/// Delivers documents by HTTP POST to an agency's endpoint.
///
/// The Weiche message id travels in the `Idempotency-Key` header (the recipient deduplicates
/// by it), the file name in `X-Weiche-File-Name`. A 2xx answer is a delivery; 408, 429, 5xx and
/// network errors (including the timeout) are worth retrying; any other answer is permanent.
/// Failure texts name the status or the network error, never the request or response body.
public struct HTTPOutboundTransport: OutboundTransport {
    public let url: URL
    public let timeout: Duration
    private let session: URLSession

    public init(url: URL, timeout: Duration = .seconds(10)) {
        self.url = url
        self.timeout = timeout
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout.seconds
        configuration.timeoutIntervalForResource = timeout.seconds
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        self.session = URLSession(configuration: configuration)
    }

    public func deliver(_ document: OutboundDocument, messageID: UUID) async -> DeliveryOutcome {
        var request = URLRequest(url: url, timeoutInterval: timeout.seconds)
        request.httpMethod = "POST"
        request.httpBody = Data(document.bytes)
        request.setValue(document.contentType, forHTTPHeaderField: "Content-Type")
        request.setValue(messageID.uuidString.lowercased(), forHTTPHeaderField: "Idempotency-Key")
        request.setValue(document.fileName, forHTTPHeaderField: "X-Weiche-File-Name")
        let host = url.host ?? url.absoluteString
        do {
            let (_, response) = try await session.data(for: request)
            guard let http = response as? HTTPURLResponse else {
                return .retryableFailure("no HTTP answer from \(host)")
            }
            return Self.outcome(status: http.statusCode, host: host)
        } catch let error as URLError {
            return .retryableFailure("HTTP request to \(host) failed: \(Self.describe(error))")
        } catch {
            return .retryableFailure("HTTP request to \(host) failed")
        }
    }

    static func outcome(status: Int, host: String) -> DeliveryOutcome {
        switch status {
        case 200..<300: .delivered
        case 408, 429, 500..<600: .retryableFailure("HTTP \(status) from \(host)")
        default: .permanentFailure("HTTP \(status) from \(host)")
        }
    }

    private static func describe(_ error: URLError) -> String {
        switch error.code {
        case .timedOut: "timed out"
        case .cannotConnectToHost: "connection refused"
        case .cannotFindHost: "unknown host"
        case .networkConnectionLost: "connection lost"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateNotYetValid:
            "TLS failed"
        default: "network error \(error.code.rawValue)"
        }
    }
}
