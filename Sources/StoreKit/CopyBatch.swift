import TokenHubCore

/// Rows of one kind on their way from `copy.export` of one store to `copy.import` of another,
/// parsed into the records each backend writes.
public enum CopyBatch: Sendable {
    case records(RegistryTable, [(id: String, record: JSONValue)])
    case routingConfig(JSONValue?)
    case apiKeys([APIKeyRecord])
    case requestLogs([RequestLogRow])
    case audit([AuditRow])
    case rewards([RewardRow])
    case points([TimeSeriesPoint])

    /// Parses exported `rows` of `kind`; errors name the row.
    public init(kind: CopyKind, rows: [JSONValue]) throws(PayloadError) {
        func each<T>(_ parse: (JSONValue) throws(PayloadError) -> T) throws(PayloadError) -> [T] {
            var parsed: [T] = []
            for (index, row) in rows.enumerated() {
                do { parsed.append(try parse(row)) } catch { throw PayloadError("rows[\(index)].\(error.message)") }
            }
            return parsed
        }
        switch kind {
        case .providers, .models:
            let table: RegistryTable = kind == .providers ? .providers : .models
            self = .records(table, try each { (row) throws(PayloadError) in
                guard let id = row["id"]?.stringValue, !id.isEmpty else { throw PayloadError("id: required, a non-empty string") }
                return (id, row)
            })
        case .routingConfig: self = .routingConfig(rows.last?["value"])
        case .apiKeys: self = .apiKeys(try each { (row) throws(PayloadError) in try APIKeyRecord(json: row) })
        case .requestLogs: self = .requestLogs(try each { (row) throws(PayloadError) in try RequestLogRow(json: row) })
        case .audit: self = .audit(try each { (row) throws(PayloadError) in try AuditRow(json: row) })
        case .rewards: self = .rewards(try each { (row) throws(PayloadError) in try RewardRow(json: row) })
        case .tsdbPoints: self = .points(try each { (row) throws(PayloadError) in try TimeSeriesPoint(json: row) })
        }
    }

    /// How many rows the batch carries.
    public var count: Int {
        switch self {
        case .records(_, let rows): rows.count
        case .routingConfig(let value): value == nil ? 0 : 1
        case .apiKeys(let rows): rows.count
        case .requestLogs(let rows): rows.count
        case .audit(let rows): rows.count
        case .rewards(let rows): rows.count
        case .points(let rows): rows.count
        }
    }
}
