/// Metric families in memory and their Prometheus text exposition (format 0.0.4).
///
/// A pure value: the plugin keeps one behind a lock. Families are written in the order they
/// were first seen, samples sorted by their labels, so a scrape is stable.
struct MetricFamilies {
    /// What a family holds.
    enum Kind: String {
        case counter, gauge, histogram
    }

    /// Label names and values, in a fixed order.
    typealias Labels = [(name: String, value: String)]

    private struct Histogram {
        var bucketCounts: [Double]
        var sum = 0.0
        var count = 0.0
    }

    private struct Family {
        let kind: Kind
        let help: String
        let buckets: [Double]
        var values: [String: Double] = [:]
        var histograms: [String: Histogram] = [:]
    }

    private var families: [String: Family] = [:]
    private var order: [String] = []

    /// The most label sets one family keeps, and the most families: past them a new series
    /// is dropped and counted (`droppedSeries`), so no input can grow a scrape without bound.
    static let maxSeriesPerFamily = 2000
    static let maxFamilies = 500
    /// Observations dropped for a new series past the caps, by family ("" for a new family).
    private(set) var droppedSeries: [String: Double] = [:]

    /// Adds `value` to a counter, sets a gauge, or observes `value` in a histogram. Returns
    /// false, changing nothing, when `name` already names a family of another kind or is not
    /// a valid metric name, or a label name is invalid.
    @discardableResult
    mutating func record(_ kind: Kind, _ name: String, help: String, labels: Labels, value: Double,
                         buckets: [Double] = MetricFamilies.defaultBuckets) -> Bool {
        guard Self.isValidName(name, allowColon: true), labels.allSatisfy({ Self.isValidName($0.name, allowColon: false) }),
              value.isFinite, kind != .counter || value >= 0 else { return false }
        if families[name] == nil {
            guard families.count < Self.maxFamilies else {
                droppedSeries["", default: 0] += 1
                return true
            }
            families[name] = Family(kind: kind, help: help, buckets: buckets.sorted())
            order.append(name)
        }
        guard families[name]!.kind == kind else { return false }
        let key = Self.render(labels)
        let known = kind == .histogram ? families[name]!.histograms[key] != nil : families[name]!.values[key] != nil
        if !known, (kind == .histogram ? families[name]!.histograms.count : families[name]!.values.count) >= Self.maxSeriesPerFamily {
            droppedSeries[name, default: 0] += 1
            return true
        }
        switch kind {
        case .counter: families[name]!.values[key, default: 0] += value
        case .gauge: families[name]!.values[key] = value
        case .histogram:
            let bounds = families[name]!.buckets
            var histogram = families[name]!.histograms[key] ?? Histogram(bucketCounts: Array(repeating: 0, count: bounds.count))
            for (index, bound) in bounds.enumerated() where value <= bound { histogram.bucketCounts[index] += 1 }
            histogram.sum += value
            histogram.count += 1
            families[name]!.histograms[key] = histogram
        }
        return true
    }

    /// Prometheus's default histogram buckets (seconds).
    static let defaultBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// Every family in text exposition format.
    var text: String {
        var out = ""
        for name in order {
            guard let family = families[name] else { continue }
            out += "# HELP \(name) \(Self.escapeHelp(family.help))\n# TYPE \(name) \(family.kind.rawValue)\n"
            switch family.kind {
            case .counter, .gauge:
                for key in family.values.keys.sorted() {
                    out += "\(name)\(key.isEmpty ? "" : "{\(key)}") \(Self.format(family.values[key]!))\n"
                }
            case .histogram:
                for key in family.histograms.keys.sorted() {
                    let histogram = family.histograms[key]!
                    let prefix = key.isEmpty ? "" : key + ","
                    for (index, bound) in family.buckets.enumerated() {
                        out += "\(name)_bucket{\(prefix)le=\"\(Self.format(bound))\"} \(Self.format(histogram.bucketCounts[index]))\n"
                    }
                    out += "\(name)_bucket{\(prefix)le=\"+Inf\"} \(Self.format(histogram.count))\n"
                    let labels = key.isEmpty ? "" : "{\(key)}"
                    out += "\(name)_sum\(labels) \(Self.format(histogram.sum))\n\(name)_count\(labels) \(Self.format(histogram.count))\n"
                }
            }
        }
        out += "# HELP tokenhub_telemetry_series_dropped_total Observations dropped because their family (or the family count) reached its series cap.\n"
        out += "# TYPE tokenhub_telemetry_series_dropped_total counter\n"
        for family in droppedSeries.keys.sorted() {
            out += "tokenhub_telemetry_series_dropped_total{family=\"\(family)\"} \(Self.format(droppedSeries[family]!))\n"
        }
        return out
    }

    /// `a="x",b="y"`, sorted by name, with values escaped as the format requires. Runs on
    /// every observation, so values without `\\`, `"` or a newline (nearly all) are copied whole.
    private static func render(_ labels: Labels) -> String {
        var out = ""
        for (index, label) in labels.sorted(by: { $0.name < $1.name }).enumerated() {
            if index > 0 { out += "," }
            out += label.name
            out += "=\""
            if label.value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") }) {
                for character in label.value.unicodeScalars {
                    switch character {
                    case "\\": out += "\\\\"
                    case "\"": out += "\\\""
                    case "\n": out += "\\n"
                    default: out.unicodeScalars.append(character)
                    }
                }
            } else {
                out += label.value
            }
            out += "\""
        }
        return out
    }

    private static func escapeHelp(_ help: String) -> String {
        help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Integral values without a fraction ("3", not "3.0"); others as Swift prints them.
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
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
