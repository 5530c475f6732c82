import Foundation

/// One kernel invocation compared: the model's cycles against the engine's.
public struct ValidationRow: Hashable, Sendable {
    /// The mark's name ("meshgemm", "gemv-ktree", …).
    public var name: String
    /// Kernel family and algorithm ("gemm"/"meshgemm"), or the name when the mark has none.
    public var kernel: String
    public var algorithm: String
    /// "m×k×n" or "rows×cols" (or the element count of a collective).
    public var shape: String
    /// "PxxPy" (columns × rows).
    public var grid: String
    /// The mark's `phase` parameter, if any.
    public var phase: String?
    /// Predicted cycles, nil when the model has no formula for this mark.
    public var predicted: Int?
    /// Measured cycles: the mark's end − start.
    public var measured: Int
    /// The dominant term of the prediction ("compute", "communication", "overhead").
    public var dominantTerm: String?

    public init(name: String, kernel: String, algorithm: String, shape: String, grid: String, phase: String? = nil,
                predicted: Int?, measured: Int, dominantTerm: String? = nil) {
        self.name = name; self.kernel = kernel; self.algorithm = algorithm; self.shape = shape; self.grid = grid
        self.phase = phase; self.predicted = predicted; self.measured = measured; self.dominantTerm = dominantTerm
    }

    /// Signed error in percent, (predicted − measured) / measured · 100; nil without a prediction
    /// or a positive measurement.
    public var errorPercent: Double? {
        guard let p = predicted, measured > 0 else { return nil }
        return 100 * Double(p - measured) / Double(measured)
    }
}

/// Error statistics over the rows that have both a prediction and a measurement.
///
/// With e_i = (predicted_i − measured_i) / measured_i for the N compared rows:
/// - MAPE = 100 · mean |e_i|;
/// - geometric-mean error = 100 · (exp(mean log(1 + |e_i|)) − 1): the geometric mean of the
///   ratios 1 + |e_i|, minus one, so one large miss weighs less than in MAPE and 0 means exact;
/// - max error = 100 · max |e_i|;
/// - bias = 100 · mean e_i (signed: positive means the model over-predicts).
public struct ValidationStats: Hashable, Sendable {
    public var count: Int
    public var mape: Double
    public var geomeanError: Double
    public var maxError: Double
    public var bias: Double

    public init(count: Int, mape: Double, geomeanError: Double, maxError: Double, bias: Double) {
        self.count = count; self.mape = mape; self.geomeanError = geomeanError; self.maxError = maxError; self.bias = bias
    }
}

/// The predicted and measured totals of one `phase` (sums over its marks that have a model).
public struct PhaseTotal: Hashable, Sendable {
    public var phase: String
    public var predicted: Int
    public var measured: Int
    /// Marks in the phase, and how many of them the model covers.
    public var marks: Int
    public var modelled: Int

    /// Signed error of the totals in percent (nil when nothing was measured).
    public var errorPercent: Double? {
        measured > 0 ? 100 * Double(predicted - measured) / Double(measured) : nil
    }
}

/// The arithmetic of `waferscope validate`: statistics, the tolerance decision and phase totals.
public enum Validation {
    /// Statistics over the rows with a prediction and a positive measurement; nil when there are none.
    public static func stats(_ rows: [ValidationRow]) -> ValidationStats? {
        let errors = rows.compactMap(\.errorPercent).map { $0 / 100 }
        guard !errors.isEmpty else { return nil }
        let n = Double(errors.count)
        let abs = errors.map { Swift.abs($0) }
        let mape = abs.reduce(0, +) / n
        let geo = exp(abs.map { log1p($0) }.reduce(0, +) / n) - 1
        return ValidationStats(count: errors.count, mape: 100 * mape, geomeanError: 100 * geo,
                               maxError: 100 * (abs.max() ?? 0), bias: 100 * errors.reduce(0, +) / n)
    }

    /// The compared rows whose |error| exceeds `tolerancePercent`.
    public static func outside(_ rows: [ValidationRow], tolerancePercent: Double) -> [ValidationRow] {
        rows.filter { r in r.errorPercent.map { Swift.abs($0) > tolerancePercent } ?? false }
    }

    /// Whether a run with `--tolerance P` passes: no compared row beyond P percent.
    public static func passes(_ rows: [ValidationRow], tolerancePercent: Double) -> Bool {
        outside(rows, tolerancePercent: tolerancePercent).isEmpty
    }

    /// Totals per `phase`, in order of first appearance; rows without a phase are left out.
    public static func phaseTotals(_ rows: [ValidationRow]) -> [PhaseTotal] {
        var order: [String] = []
        var totals: [String: PhaseTotal] = [:]
        for r in rows {
            guard let ph = r.phase else { continue }
            if totals[ph] == nil {
                order.append(ph)
                totals[ph] = PhaseTotal(phase: ph, predicted: 0, measured: 0, marks: 0, modelled: 0)
            }
            totals[ph]!.marks += 1
            if let p = r.predicted {
                totals[ph]!.predicted += p
                totals[ph]!.measured += r.measured
                totals[ph]!.modelled += 1
            }
        }
        return order.map { totals[$0]! }
    }
}
