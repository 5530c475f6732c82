import Foundation

/// One kernel run of a scaling sweep: a row of a sweep CSV.
public struct SweepRow: Hashable, Sendable {
    /// Kernel name ("meshgemm", "gemv", …).
    public var kernel: String
    /// Algorithm or variant ("cannon", "summa", …).
    public var algo: String
    /// Side N of the N×N mesh the kernel ran on.
    public var side: Int
    public var m: Int
    public var k: Int
    public var n: Int
    /// What the performance model predicted, when it did.
    public var predictedCycles: Double?
    /// What the engine measured.
    public var measuredCycles: Double

    public init(kernel: String, algo: String, side: Int, m: Int, k: Int, n: Int,
                predictedCycles: Double?, measuredCycles: Double) {
        self.kernel = kernel; self.algo = algo; self.side = side
        self.m = m; self.k = k; self.n = n
        self.predictedCycles = predictedCycles; self.measuredCycles = measuredCycles
    }

    /// |predicted − measured| / measured, or nil without a prediction.
    public var relativeError: Double? {
        guard let p = predictedCycles, measuredCycles > 0 else { return nil }
        return abs(p - measuredCycles) / measuredCycles
    }
}

/// The rows of a sweep CSV with header `kernel,algo,side,m,k,n,predicted_cycles,measured_cycles`.
///
/// Columns may come in any order and extra columns are ignored; `predicted_cycles` may be empty
/// (no prediction). Fields may be double-quoted. Blank lines are skipped.
public struct SweepTable: Sendable {
    /// The columns a sweep CSV must have.
    public static let columns = ["kernel", "algo", "side", "m", "k", "n", "predicted_cycles", "measured_cycles"]

    public var rows: [SweepRow]

    public init(rows: [SweepRow]) { self.rows = rows }

    /// Reads and parses a sweep CSV file.
    ///
    /// - Throws: `AnalysisError.badSweep` when the file is missing or malformed.
    public static func read(path: String) throws -> SweepTable {
        guard FileManager.default.fileExists(atPath: path) else {
            throw AnalysisError.badSweep("sweep file '\(path)' does not exist")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AnalysisError.badSweep("cannot read sweep file '\(path)'")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw AnalysisError.badSweep("sweep file '\(path)' is not UTF-8 text")
        }
        return try parse(text, source: path)
    }

    /// Parses CSV text; `source` names it in errors.
    ///
    /// - Throws: `AnalysisError.badSweep` naming the missing columns or the first bad field.
    public static func parse(_ text: String, source: String = "sweep CSV") throws -> SweepTable {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: "\r")) }
            .enumerated().filter { !$0.element.trimmingCharacters(in: .whitespaces).isEmpty }
        guard !lines.isEmpty else { throw AnalysisError.badSweep("\(source) is empty (expected a header \(columns.joined(separator: ",")))") }
        let header = fields(lines.removeFirst().element).map { $0.lowercased() }
        var index: [String: Int] = [:]
        for (i, h) in header.enumerated() where index[h] == nil { index[h] = i }
        let missing = columns.filter { index[$0] == nil }
        guard missing.isEmpty else {
            throw AnalysisError.badSweep("\(source) lacks column\(missing.count > 1 ? "s" : "") \(missing.joined(separator: ", ")) (header must have \(columns.joined(separator: ",")))")
        }
        var rows: [SweepRow] = []
        for (lineIndex, line) in lines {
            let f = fields(line)
            let where_ = "\(source) line \(lineIndex + 1)"
            func field(_ name: String) throws -> String {
                let i = index[name]!
                guard i < f.count else { throw AnalysisError.badSweep("\(where_) has \(f.count) fields, too few for column \(name)") }
                return f[i]
            }
            func integer(_ name: String) throws -> Int {
                let s = try field(name)
                guard let v = Int(s) ?? Double(s).flatMap({ $0.rounded() == $0 && abs($0) < 1e18 ? Int($0) : nil }) else {
                    throw AnalysisError.badSweep("\(where_): \(name) '\(s)' is not an integer")
                }
                return v
            }
            func number(_ name: String) throws -> Double? {
                let s = try field(name)
                if s.isEmpty { return nil }
                guard let v = Double(s), v.isFinite else { throw AnalysisError.badSweep("\(where_): \(name) '\(s)' is not a number") }
                return v
            }
            guard let measured = try number("measured_cycles") else {
                throw AnalysisError.badSweep("\(where_): measured_cycles is empty")
            }
            let side = try integer("side")
            guard side > 0 else { throw AnalysisError.badSweep("\(where_): side \(side) must be positive") }
            rows.append(SweepRow(kernel: try field("kernel"), algo: try field("algo"), side: side,
                                 m: try integer("m"), k: try integer("k"), n: try integer("n"),
                                 predictedCycles: try number("predicted_cycles"), measuredCycles: measured))
        }
        guard !rows.isEmpty else { throw AnalysisError.badSweep("\(source) has a header but no rows") }
        return SweepTable(rows: rows)
    }

    /// Splits one CSV line into trimmed fields, honouring double quotes ("" inside quotes is a quote).
    static func fields(_ line: String) -> [String] {
        var out: [String] = []
        var cur = ""
        var quoted = false
        var it = Array(line)[...]
        while let c = it.popFirst() {
            if quoted {
                if c == "\"" {
                    if it.first == "\"" { cur.append("\""); it.removeFirst() } else { quoted = false }
                } else { cur.append(c) }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                out.append(cur.trimmingCharacters(in: .whitespaces)); cur = ""
            } else { cur.append(c) }
        }
        out.append(cur.trimmingCharacters(in: .whitespaces))
        return out
    }

    /// Algorithm names in order of first appearance.
    public var algorithms: [String] {
        var seen = Set<String>()
        return rows.compactMap { seen.insert($0.algo).inserted ? $0.algo : nil }
    }

    /// Kernel names in order of first appearance.
    public var kernels: [String] {
        var seen = Set<String>()
        return rows.compactMap { seen.insert($0.kernel).inserted ? $0.kernel : nil }
    }

    /// The mean absolute percentage error of the predictions, in percent, over rows that have one;
    /// nil when none does.
    public var mape: Double? {
        let e = rows.compactMap(\.relativeError)
        return e.isEmpty ? nil : 100 * e.reduce(0, +) / Double(e.count)
    }
}

/// Mean absolute percentage error of `predicted` against `measured`, in percent.
///
/// Pairs whose measured value is zero are skipped; nil when no pair is left.
public func meanAbsolutePercentageError(predicted: [Double], measured: [Double]) -> Double? {
    var sum = 0.0, count = 0
    for (p, m) in zip(predicted, measured) where m != 0 {
        sum += abs(p - m) / abs(m)
        count += 1
    }
    return count == 0 ? nil : 100 * sum / Double(count)
}
