import ArgumentParser
import Foundation
import PLMR
import WaferSpec
import WaferTrace

/// `waferscope validate TRACE…`: the PLMR model's prediction next to every measured kernel invocation.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Compare the PLMR model's predicted cycles with every kernel invocation measured in traces.",
        discussion: """
        For every kernel mark the model predicts the cycles from the trace's MeshSpec and the mark's shape \
        parameters alone (never from the measurement) and prints predicted, measured (end − start), the signed \
        error (predicted − measured) / measured and the dominant term of the prediction. Marks the model does \
        not cover are listed as "no model" and left out of the statistics. Marks with a `phase` parameter are \
        also totalled per phase.

        Statistics over the N compared rows, with e = (predicted − measured) / measured: MAPE = mean |e|; \
        geomean error = exp(mean log(1 + |e|)) − 1; max error = max |e|; bias = mean e (positive: the model \
        over-predicts). All in percent.
        """
    )

    @Argument(help: "One or more .wtrace files.")
    var traces: [String]

    @Flag(help: "Print one JSON object (rows, mape, geomeanError, maxError, bias, phases) instead of a table.")
    var json = false

    @Option(help: ArgumentHelp("Exit with status 1 when any compared row's |error| exceeds this many percent.", valueName: "percent"))
    var tolerance: Double?

    func validate() throws {
        if let tolerance, !(tolerance >= 0) { throw ValidationError("--tolerance must be a non-negative percentage, got \(tolerance)") }
    }

    func run() throws {
        var rows: [ValidationRow] = []
        for path in traces {
            let t = try Trace.read(path: path)
            var cache = PredictionCache(spec: t.spec)
            rows += t.kernels.map { ValidationRows.row(for: $0, cache: &cache) }
        }
        let stats = Validation.stats(rows)
        let phases = Validation.phaseTotals(rows)
        let failures = tolerance.map { Validation.outside(rows, tolerancePercent: $0) } ?? []
        if json {
            print(ValidationRows.json(rows: rows, stats: stats, phases: phases, tolerance: tolerance, failures: failures.count))
        } else {
            print(ValidationRows.table(rows: rows, stats: stats, phases: phases))
            if let tolerance {
                print(failures.isEmpty
                      ? String(format: "every compared row is within %.2f%%", tolerance)
                      : String(format: "%d row(s) beyond the %.2f%% tolerance", failures.count, tolerance))
            }
        }
        if !failures.isEmpty { throw ExitCode.failure }
    }
}

/// Predictions of one trace's marks, memoised: whole-model traces repeat the same kernel with the
/// same shapes once per layer, and a prediction depends only on the name, parameters and spec.
struct PredictionCache {
    let spec: MeshSpec
    private var memo: [String: KernelPrediction?] = [:]

    init(spec: MeshSpec) { self.spec = spec }

    mutating func predict(name: String, params: [String: String]) -> KernelPrediction? {
        let key = name + "|" + params.filter { $0.key != "phase" && $0.key != "layer" }.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        if let hit = memo[key] { return hit }
        let p = PLMRModel.predict(kernel: name, params: params, spec: spec)
        memo[key] = p
        return p
    }
}

/// Building, printing and serialising validation rows.
enum ValidationRows {
    /// One mark against the model.
    static func row(for mark: KernelMark, cache: inout PredictionCache) -> ValidationRow {
        let p = mark.params
        let prediction = cache.predict(name: mark.name, params: p)
        let shape: String
        if let m = p["m"], let k = p["k"], let n = p["n"] { shape = "\(m)x\(k)x\(n)" }
        else if let r = p["rows"], let c = p["cols"] { shape = "\(r)x\(c)" }
        else if let e = p["elements"] { shape = "\(e) el" }
        else { shape = "" }
        return ValidationRow(name: mark.name, kernel: p["kernel"] ?? mark.name,
                             algorithm: p["algorithm"] ?? prediction?.algorithm ?? "",
                             shape: shape, grid: p["grid"] ?? "", phase: p["phase"],
                             predicted: prediction?.cycles, measured: Int(mark.end - mark.start),
                             dominantTerm: prediction?.dominantShare)
    }

    static func table(rows: [ValidationRow], stats: ValidationStats?, phases: [PhaseTotal]) -> String {
        var out = [[pad("kernel", 10), pad("algorithm", 9), pad("shape", 16), pad("grid", 9), pad("predicted", 12, right: true),
                    pad("measured", 12, right: true), pad("error", 9, right: true), "  dominant"].joined(separator: " ")]
        for r in rows {
            out.append([pad(r.kernel, 10), pad(r.algorithm, 9), pad(r.shape, 16), pad(r.grid, 9),
                        pad(r.predicted.map(String.init) ?? "no model", 12, right: true), pad("\(r.measured)", 12, right: true),
                        pad(r.errorPercent.map { String(format: "%+.2f%%", $0) } ?? "—", 9, right: true),
                        "  " + (r.dominantTerm ?? "")].joined(separator: " "))
        }
        let skipped = rows.filter { $0.predicted == nil }.count
        if let s = stats {
            out.append(String(format: "%d compared%@: MAPE %.2f%%, geomean error %.2f%%, max error %.2f%%, bias %+.2f%%",
                              s.count, skipped > 0 ? ", \(skipped) without a model" : "", s.mape, s.geomeanError, s.maxError, s.bias))
        } else {
            out.append("no invocation the model covers (\(rows.count) mark(s))")
        }
        if !phases.isEmpty {
            out.append("per phase (marks with a model):")
            for ph in phases {
                out.append([pad("  " + ph.phase, 20), pad("\(ph.predicted)", 12, right: true), pad("\(ph.measured)", 12, right: true),
                            pad(ph.errorPercent.map { String(format: "%+.2f%%", $0) } ?? "—", 9, right: true),
                            "  \(ph.modelled) of \(ph.marks) marks"].joined(separator: " "))
            }
        }
        return out.joined(separator: "\n")
    }

    static func json(rows: [ValidationRow], stats: ValidationStats?, phases: [PhaseTotal], tolerance: Double?, failures: Int) -> String {
        func opt<T>(_ v: T?) -> Any { v.map { $0 as Any } ?? NSNull() }
        var object: [String: Any] = [
            "rows": rows.map { r -> [String: Any] in
                ["name": r.name, "kernel": r.kernel, "algorithm": r.algorithm, "shape": r.shape, "grid": r.grid,
                 "phase": opt(r.phase), "predicted": opt(r.predicted), "measured": r.measured,
                 "errorPercent": opt(r.errorPercent), "dominantTerm": opt(r.dominantTerm)]
            },
            "compared": stats?.count ?? 0,
            "noModel": rows.filter { $0.predicted == nil }.count,
            "mape": opt(stats?.mape), "geomeanError": opt(stats?.geomeanError),
            "maxError": opt(stats?.maxError), "bias": opt(stats?.bias),
            "phases": phases.map { ph -> [String: Any] in
                ["phase": ph.phase, "predicted": ph.predicted, "measured": ph.measured,
                 "errorPercent": opt(ph.errorPercent), "marks": ph.marks, "modelled": ph.modelled]
            },
        ]
        if let tolerance {
            object["tolerance"] = tolerance
            object["pass"] = failures == 0
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
