import TokenHubCore

/// A store operation (the header's section 6) parsed from its name and input JSON, so each
/// backend switches over typed cases and never reads JSON itself.
public enum StoreOperation: Sendable {
    case appendLog(RequestLogRow)
    /// Rows with their reward and points: written together, once per request id.
    case appendLogBatch([LoggedResult])
    case listLogs(Page, LogFilter)
    case spend(apiKeyID: String, sinceUnixMs: Int64)
    case appendReward(RewardRow)
    case listRewards(Page, RewardFilter)
    case rewardSummary(RewardFilter)
    case appendPoints([TimeSeriesPoint])
    case queryPoints(TimeSeriesQuery)
    case prunePoints(beforeUnixMs: Int64)
    case upsertRecord(RegistryTable, id: String, record: JSONValue, onlyIfAbsent: Bool)
    case listRecords(RegistryTable)
    case deleteRecord(RegistryTable, id: String)
    case getRoutingConfig
    case putRoutingConfig(JSONValue)
    case createKey(APIKeyRecord)
    case updateKey(APIKeyRecord)
    case deleteKey(id: String)
    case getKey(id: String)
    case getKeyByHash(String)
    case listKeys
    case appendAudit(AuditRow)
    case listAudit(Page)
    case reserveBudget(BudgetReservation)
    case releaseBudget(requestID: String)
    case revision
    case export(CopyKind, after: String, limit: Int)
    case importRows(CopyKind, source: String, cursor: String, batch: CopyBatch)
    case copyProgress(CopyKind, source: String)

    /// A log row with what is written with it.
    public struct LoggedResult: Sendable {
        public var row: RequestLogRow
        public var reward: RewardRow?
        public var points: [TimeSeriesPoint]
        public init(row: RequestLogRow, reward: RewardRow?, points: [TimeSeriesPoint]) {
            self.row = row
            self.reward = reward
            self.points = points
        }
    }

    /// `limit` (1 to 1000, default 50) and `offset` of the list operations.
    public struct Page: Sendable {
        public var limit: Int
        public var offset: Int
    }

    /// Parses `name` with its input; an unknown name is `nil` (the store answers
    /// TOKENHUB_ERR_NOT_SUPPORTED), bad input a `PayloadError` naming the field.
    public init?(name: String, input json: [UInt8]) throws(PayloadError) {
        let input: JSONValue
        do { input = try JSONValue.parse(json.isEmpty ? Array("{}".utf8) : json) } catch { throw PayloadError("input is not JSON: \(error)") }
        let fields = try PayloadFields(input, path: "")
        switch name {
        case "request_log.append": self = .appendLog(try RequestLogRow(json: input))
        case "request_log.append_batch":
            guard case .array(let items)? = fields["rows"] else { throw PayloadError("rows: required, expected an array of request log rows") }
            var results: [LoggedResult] = []
            for (index, item) in items.enumerated() {
                do throws(PayloadError) {
                    let reward = try item["reward"].map { (value) throws(PayloadError) in try RewardRow(json: value) }
                    let points = try item["points"].map { (value) throws(PayloadError) in try Self.points(value, path: "points") } ?? []
                    results.append(LoggedResult(row: try RequestLogRow(json: item), reward: reward, points: points))
                } catch {
                    throw PayloadError("rows[\(index)].\(error.message)")
                }
            }
            self = .appendLogBatch(results)
        case "request_log.list": self = .listLogs(try Self.page(fields), try LogFilter(fields))
        case "request_log.spend":
            self = .spend(apiKeyID: try fields.requiredString("api_key_id"), sinceUnixMs: Int64(try fields.int("since_unix_ms", default: 0)))
        case "reward.append": self = .appendReward(try RewardRow(json: input))
        case "reward.list": self = .listRewards(try Self.page(fields), try RewardFilter(fields))
        case "reward.summary": self = .rewardSummary(try RewardFilter(fields))
        case "tsdb.append_batch":
            guard let points = fields["points"] else { throw PayloadError("points: required, expected an array of points") }
            self = .appendPoints(try Self.points(points, path: "points"))
        case "tsdb.query": self = .queryPoints(try TimeSeriesQuery(fields))
        case "tsdb.prune":
            let before = Int64(try fields.int("before_unix_ms", default: 0))
            guard before > 0 else { throw PayloadError("before_unix_ms: required, a time in ms since 1970") }
            self = .prunePoints(beforeUnixMs: before)
        case "provider.upsert", "model.upsert":
            guard let record = fields["record"], let id = record["id"]?.stringValue, !id.isEmpty else {
                throw PayloadError("record: required, an object with a non-empty \"id\"")
            }
            self = .upsertRecord(RegistryTable(operation: name), id: id, record: record, onlyIfAbsent: try fields.bool("only_if_absent", default: false))
        case "provider.list", "model.list": self = .listRecords(RegistryTable(operation: name))
        case "provider.delete", "model.delete": self = .deleteRecord(RegistryTable(operation: name), id: try fields.requiredString("id"))
        case "routing_config.get": self = .getRoutingConfig
        case "routing_config.put":
            guard let value = fields["value"], case .object = value else { throw PayloadError("value: required, the routing config object") }
            self = .putRoutingConfig(value)
        case "apikey.create": self = .createKey(try APIKeyRecord(json: input))
        case "apikey.update": self = .updateKey(try APIKeyRecord(json: input))
        case "apikey.delete": self = .deleteKey(id: try fields.requiredString("id"))
        case "apikey.get": self = .getKey(id: try fields.requiredString("id"))
        case "apikey.get_by_hash": self = .getKeyByHash(try fields.requiredString("key_hash"))
        case "apikey.list": self = .listKeys
        case "audit.append": self = .appendAudit(try AuditRow(json: input))
        case "audit.list": self = .listAudit(try Self.page(fields))
        case "budget.reserve": self = .reserveBudget(try BudgetReservation(fields))
        case "budget.release": self = .releaseBudget(requestID: try fields.requiredString("request_id"))
        case "store.revision": self = .revision
        case "copy.export":
            let limit = try fields.int("limit", default: 500)
            guard (1...5000).contains(limit) else { throw PayloadError("limit: expected 1 to 5000, got \(limit)") }
            self = .export(try CopyKind(fields), after: try fields.string("after"), limit: limit)
        case "copy.import":
            guard case .array(let rows)? = fields["rows"] else { throw PayloadError("rows: required, an array of exported rows") }
            let kind = try CopyKind(fields)
            self = .importRows(kind, source: try fields.requiredString("source"), cursor: try fields.requiredString("cursor"),
                               batch: try CopyBatch(kind: kind, rows: rows))
        case "copy.progress": self = .copyProgress(try CopyKind(fields), source: try fields.requiredString("source"))
        default: return nil
        }
    }

    /// Whether the operation appends log records (which a store may hold for a commit window).
    public var logRows: Int {
        switch self {
        case .appendLog, .appendReward: 1
        case .appendLogBatch(let rows): max(1, rows.count)
        case .appendPoints(let points): max(1, points.count)
        default: 0
        }
    }

    static func page(_ fields: PayloadFields) throws(PayloadError) -> Page {
        let limit = try fields.int("limit", default: 50), offset = try fields.int("offset", default: 0)
        guard (1...1000).contains(limit) else { throw PayloadError("limit: expected 1 to 1000, got \(limit)") }
        guard offset >= 0 else { throw PayloadError("offset: expected 0 or more, got \(offset)") }
        return Page(limit: limit, offset: offset)
    }

    static func points(_ value: JSONValue, path: String) throws(PayloadError) -> [TimeSeriesPoint] {
        guard case .array(let items) = value else { throw PayloadError("\(path): expected an array") }
        var points: [TimeSeriesPoint] = []
        for (index, item) in items.enumerated() {
            do { points.append(try TimeSeriesPoint(json: item)) } catch { throw PayloadError("\(path)[\(index)].\(error.message)") }
        }
        return points
    }
}

/// The registry's two tables.
public enum RegistryTable: String, Sendable, CaseIterable {
    case providers = "registry_providers"
    case models = "registry_models"

    init(operation: String) { self = operation.hasPrefix("provider") ? .providers : .models }
}

/// Filters of `request_log.list`: each one given narrows the rows (all must hold). Each store
/// renders `terms` in its own SQL dialect, so the filter's meaning lives here once.
public struct LogFilter: Sendable, Equatable {
    /// Rows whose column equals the value; nil: any.
    public var apiKeyID, modelID, providerID, status, errorClass: String?
    /// Rows at or after this time (ms since 1970); 0: no bound.
    public var sinceUnixMs: Int64
    /// Rows before this time (ms since 1970); 0: no bound.
    public var untilUnixMs: Int64

    /// No filter: every row.
    public init(apiKeyID: String? = nil, modelID: String? = nil, providerID: String? = nil, status: String? = nil,
                errorClass: String? = nil, sinceUnixMs: Int64 = 0, untilUnixMs: Int64 = 0) {
        self.apiKeyID = apiKeyID; self.modelID = modelID; self.providerID = providerID; self.status = status
        self.errorClass = errorClass; self.sinceUnixMs = sinceUnixMs; self.untilUnixMs = untilUnixMs
    }

    init(_ fields: PayloadFields) throws(PayloadError) {
        func optional(_ key: String) throws(PayloadError) -> String? { fields[key] == nil ? nil : try fields.string(key) }
        self.init(apiKeyID: try optional("api_key_id"), modelID: try optional("model_id"), providerID: try optional("provider_id"),
                  status: try optional("status"), errorClass: try optional("error_class"),
                  sinceUnixMs: Int64(try fields.int("since_unix_ms", default: 0)), untilUnixMs: Int64(try fields.int("until_unix_ms", default: 0)))
        guard sinceUnixMs >= 0 else { throw PayloadError("since_unix_ms: expected 0 or a time in ms since 1970, got \(sinceUnixMs)") }
        guard untilUnixMs >= 0 else { throw PayloadError("until_unix_ms: expected 0 or a time in ms since 1970, got \(untilUnixMs)") }
    }

    /// One condition on a `request_logs` column.
    public struct Term: Sendable, Equatable {
        /// The value compared with, bound as a parameter (never spliced into the SQL).
        public enum Value: Sendable, Equatable { case text(String), integer(Int64) }
        /// The column, one of `request_logs`' own names (never from input).
        public let column: String
        /// `=`, `>=` or `<`.
        public let comparison: String
        /// What the column is compared with.
        public let value: Value
    }

    /// The conditions, in a fixed order; empty for no filter.
    public var terms: [Term] {
        var terms: [Term] = []
        for (column, value) in [("api_key_id", apiKeyID), ("model_id", modelID), ("provider_id", providerID),
                                ("status", status), ("error_class", errorClass)] {
            if let value { terms.append(Term(column: column, comparison: "=", value: .text(value))) }
        }
        if sinceUnixMs > 0 { terms.append(Term(column: "time_unix_ms", comparison: ">=", value: .integer(sinceUnixMs))) }
        if untilUnixMs > 0 { terms.append(Term(column: "time_unix_ms", comparison: "<", value: .integer(untilUnixMs))) }
        return terms
    }

    /// ` WHERE a = ? AND b >= ?` with `placeholder(n)` for the n-th value (from 1), or "".
    public func whereClause(placeholder: (Int) -> String) -> String {
        let terms = self.terms
        guard !terms.isEmpty else { return "" }
        return " WHERE " + terms.enumerated().map { "\($1.column) \($1.comparison) \(placeholder($0 + 1))" }.joined(separator: " AND ")
    }
}

/// Filters of `reward.list` and `reward.summary`.
public struct RewardFilter: Sendable {
    public var modelID: String?
    public var mode: String?
    public var sinceUnixMs: Int64

    init(_ fields: PayloadFields) throws(PayloadError) {
        modelID = fields["model_id"] == nil ? nil : try fields.string("model_id")
        mode = fields["mode"] == nil ? nil : try fields.string("mode")
        sinceUnixMs = Int64(try fields.int("since_unix_ms", default: 0))
    }
}

/// A TSDB query: one metric over `[start, end)` in buckets of `step` ms, optionally one model
/// or provider.
public struct TimeSeriesQuery: Sendable {
    public var metric: String
    public var modelID: String?
    public var providerID: String?
    public var startUnixMs, endUnixMs, stepMs: Int64

    /// At most this many buckets per query, so a tiny step cannot ask for millions.
    public static let maxBuckets: Int64 = 10_000

    init(_ fields: PayloadFields) throws(PayloadError) {
        metric = try fields.requiredString("metric")
        modelID = fields["model_id"] == nil ? nil : try fields.string("model_id")
        providerID = fields["provider_id"] == nil ? nil : try fields.string("provider_id")
        startUnixMs = Int64(try fields.int("start_unix_ms", default: 0))
        endUnixMs = Int64(try fields.int("end_unix_ms", default: 0))
        stepMs = Int64(try fields.int("step_ms", default: 60_000))
        guard endUnixMs > startUnixMs else { throw PayloadError("end_unix_ms: must be after start_unix_ms") }
        guard stepMs > 0 else { throw PayloadError("step_ms: expected a positive number of milliseconds") }
        guard (endUnixMs - startUnixMs) / stepMs <= Self.maxBuckets else {
            throw PayloadError("step_ms: \(stepMs) ms gives more than \(Self.maxBuckets) buckets over the range; use a larger step")
        }
    }
}

/// `budget.reserve`: hold `estimate_usd` of a key's budget for a request until its log row
/// settles it (the row's cost replaces the hold) or `expires_unix_ms` passes.
public struct BudgetReservation: Sendable {
    public var requestID, apiKeyID: String
    public var budgetUSD, estimateUSD: Double
    /// The start of the budget's period (spend counts from here).
    public var sinceUnixMs: Int64
    public var nowUnixMs, expiresUnixMs: Int64

    init(_ fields: PayloadFields) throws(PayloadError) {
        requestID = try fields.requiredString("request_id")
        apiKeyID = try fields.requiredString("api_key_id")
        budgetUSD = try fields.finite("budget_usd")
        estimateUSD = try fields.finite("estimate_usd")
        guard budgetUSD > 0 else { throw PayloadError("budget_usd: expected a positive budget") }
        guard estimateUSD >= 0 else { throw PayloadError("estimate_usd: expected 0 or more") }
        sinceUnixMs = Int64(try fields.int("since_unix_ms", default: 0))
        nowUnixMs = Int64(try fields.int("now_unix_ms", default: 0))
        expiresUnixMs = Int64(try fields.int("expires_unix_ms", default: 0))
        guard expiresUnixMs > nowUnixMs else { throw PayloadError("expires_unix_ms: must be after now_unix_ms") }
    }

    /// The answer: admitted when spend plus holds were under the budget before this one.
    public static func answer(admitted: Bool, spentUSD: Double, reservedUSD: Double) -> JSONValue {
        .object(["admitted": .bool(admitted), "spent_usd": .number(spentUSD), "reserved_usd": .number(reservedUSD)])
    }
}

/// What `tokenhub store copy` moves, kind by kind.
public enum CopyKind: String, Sendable, CaseIterable {
    case providers, models, routingConfig = "routing_config", apiKeys = "api_keys", requestLogs = "request_logs",
         audit, rewards, tsdbPoints = "tsdb_points"

    init(_ fields: PayloadFields) throws(PayloadError) {
        let name = try fields.requiredString("kind")
        guard let kind = CopyKind(rawValue: name) else {
            throw PayloadError("kind: expected one of \(CopyKind.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(name)\"")
        }
        self = kind
    }
}
