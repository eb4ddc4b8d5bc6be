/// Admission for metric series, in front of swift-prometheus's registry.
///
/// The registry stops the process (`fatalError`) when a name comes back with another type,
/// another help text, or with labels where it had none (or the reverse), and it rewrites
/// invalid names, which can merge two names into one. Names and labels here come from outside
/// the plugin (`host_metric_record`, from any plugin), so every series passes this pure value
/// first: it refuses what the registry would die on, and caps families and series so no input
/// grows a scrape without bound.
struct MetricCatalog {
    /// What a family holds.
    enum Kind: String {
        case counter, gauge, histogram
    }

    /// Label names and values, in a fixed order.
    typealias Labels = [(String, String)]

    /// What to do with one observation.
    enum Admission: Equatable {
        /// Record it; `help` is the family's first help text, which the registry requires
        /// every later registration to repeat.
        case record(help: String)
        /// Invalid or conflicting: count it as rejected.
        case rejected
        /// A new series past the caps: count it as dropped.
        case dropped
    }

    private struct Family {
        let kind: Kind
        let help: String
        let labelled: Bool
        var series: Set<String>
    }

    private var families: [String: Family] = [:]

    /// The most label sets one family keeps, and the most families.
    static let maxSeriesPerFamily = 2000
    static let maxFamilies = 500

    /// Claims a family before any observation, so a name the plugin owns cannot be taken
    /// first by another kind from outside.
    mutating func reserve(_ kind: Kind, _ name: String, help: String, labelled: Bool) {
        families[name] = families[name] ?? Family(kind: kind, help: help, labelled: labelled, series: [])
    }

    /// Decides whether an observation of `value` may reach the registry.
    mutating func admit(_ kind: Kind, _ name: String, help: String, labels: Labels, value: Double) -> Admission {
        guard Self.isValidName(name, allowColon: true), labels.allSatisfy({ Self.isValidName($0.0, allowColon: false) }),
              Set(labels.map(\.0)).count == labels.count, !labels.contains(where: { $0.0 == "le" && kind == .histogram }),
              value.isFinite, kind != .counter || value >= 0 else { return .rejected }
        let key = labels.map { "\($0.0)=\($0.1)" }.joined(separator: "\u{0}")
        guard var family = families[name] else {
            guard families.count < Self.maxFamilies else { return .dropped }
            families[name] = Family(kind: kind, help: help, labelled: !labels.isEmpty, series: [key])
            return .record(help: help)
        }
        guard family.kind == kind, family.labelled == !labels.isEmpty else { return .rejected }
        if !family.series.contains(key) {
            guard family.series.count < Self.maxSeriesPerFamily else { return .dropped }
            family.series.insert(key)
            families[name] = family
        }
        return .record(help: family.help)
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*` for metric names, without `:` for label names (and not `__`-prefixed).
    static func isValidName(_ name: String, allowColon: Bool) -> Bool {
        guard let first = name.utf8.first, !name.hasPrefix("__") || allowColon else { return false }
        func allowed(_ byte: UInt8, digits: Bool) -> Bool {
            (byte >= 97 && byte <= 122) || (byte >= 65 && byte <= 90) || byte == 95 || (allowColon && byte == 58)
                || (digits && byte >= 48 && byte <= 57)
        }
        return allowed(first, digits: false) && name.utf8.dropFirst().allSatisfy { allowed($0, digits: true) }
    }
}
