import Foundation
import Hummingbird
import TemporalKit
import TokenHubCore

/// `/admin/v1/workflows…`: the seed's workflow visibility, read from Temporal.
struct WorkflowAdmin {
    /// nil when Temporal is disabled.
    let client: (any TemporalClient)?

    static let disabled = JSONValue.object(["temporal_enabled": .bool(false)])

    /// `GET workflows?limit=50&status=RUNNING`.
    func list(_ request: Request) async throws(APIError) -> Response {
        let query = request.uri.queryParameters
        var limit = 50
        if let text = query["limit"].map(String.init) {
            guard let number = Int(text), (1...1000).contains(number) else {
                throw APIError.invalidField("limit", "expected an integer from 1 to 1000, got \"\(text)\"")
            }
            limit = number
        }
        var status: WorkflowStatus?
        if let text = query["status"].map(String.init) {
            guard let parsed = WorkflowStatus(rawValue: text) else {
                throw APIError.invalidField("status", "expected one of \(WorkflowStatus.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(text)\"")
            }
            status = parsed
        }
        guard let client else { return JSONResponse.make(Self.disabled) }
        let workflows = try await temporal { () async throws(TemporalError) in try await client.listWorkflows(status: status, limit: limit) }
        return JSONResponse.make(.object(["temporal_enabled": .bool(true), "workflows": .array(workflows.map(\.json))]))
    }

    /// `GET workflows/{id}`.
    func describe(id: String) async throws(APIError) -> Response {
        guard let client else { return JSONResponse.make(Self.disabled) }
        let workflowID = Self.decoded(id)
        let description = try await temporal { () async throws(TemporalError) in try await client.describeWorkflow(id: workflowID) }
        return JSONResponse.make(description.json)
    }

    /// `GET workflows/{id}/history`.
    func history(id: String) async throws(APIError) -> Response {
        guard let client else { return JSONResponse.make(Self.disabled) }
        let workflowID = Self.decoded(id)
        let events = try await temporal { () async throws(TemporalError) in try await client.history(workflowID: workflowID) }
        return JSONResponse.make(.object(["workflow_id": .string(workflowID), "events": .array(events.map(\.json))]))
    }

    /// Child workflow IDs contain `/`, which clients send as `%2F`.
    static func decoded(_ id: String) -> String { id.removingPercentEncoding ?? id }

    private func temporal<T>(_ body: () async throws(TemporalError) -> T) async throws(APIError) -> T {
        do {
            return try await body()
        } catch {
            switch error.code {
            case .notFound: throw APIError(.notFound, error.message, code: "not_found")
            case .invalidArgument: throw APIError(.badRequest, error.message, code: "invalid_argument")
            default: throw APIError(.serviceUnavailable, "temporal: \(error.message)", type: "server_error", code: "temporal_unavailable")
            }
        }
    }
}
