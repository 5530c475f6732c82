import WaferSpec
import WaferTrace

/// The share of each activity per row of cores per time bin: the data behind a timeline.
///
/// Rows list the cores of `region` in (y, x) order. When there are more cores than rows allowed,
/// `coresPerRow` consecutive cores share a row (an equal part of a mesh row, or whole mesh rows;
/// see `coresPerRow(region:maxRows:)`) and a row's share of an activity is the mean over its cores. Time bins split `window` evenly (a bin may be a fraction of a cycle).
///
/// Full-detail traces give the categories `compute`, `send` and `wait` (see
/// `activityCategories`). A core's injection ramp can send while the core computes or waits, so
/// overlapping shares are resolved per cell with the precedence compute > send > wait: a
/// category gets at most what the ones before it left. Kernel-detail traces give one category
/// per kernel name (the most expensive `maxKernels − 1` kept, the rest merged into `other`).
/// What is left of a cell is idle.
///
/// - Complexity: O(spans + rows × bins × categories) time; the shares take
///   4 × rows × bins × categories bytes.
public struct ActivityGrid: Sendable {
    /// What the categories are.
    public enum Source: Sendable, Equatable {
        /// Compute, send and wait spans of a full-detail trace.
        case activity
        /// Kernel invocations of a kernel-detail trace, one category per kernel name.
        case kernels
    }

    /// The categories of a full-detail trace, in precedence order.
    public static let activityCategories = ["compute", "send", "wait"]
    /// The category that collects kernels beyond `maxKernels`.
    public static let otherKernels = "other"

    public let source: Source
    /// Category names; `shares[i]` belongs to `categories[i]`.
    public let categories: [String]
    public let region: CoreRegion
    public let window: CycleWindow
    public let rows: Int
    public let bins: Int
    /// Consecutive cores (in (y, x) order) that share one row; the last row may hold fewer.
    public let coresPerRow: Int
    /// Cores in `region`.
    public let coreCount: Int
    /// `shares[category][row * bins + bin]`, each in [0, 1].
    public let shares: [[Float]]

    /// Builds the grid from a trace's spans.
    ///
    /// - Parameters:
    ///   - region: cores to show; the whole mesh by default.
    ///   - window: cycles to show; `[0, makespan)` by default.
    ///   - maxRows: at most this many rows (cores are grouped when there are more).
    ///   - bins: time bins across the window.
    ///   - maxKernels: at most this many kernel categories, `other` included.
    /// - Throws: `AnalysisError.noSpans` for a summary trace, `.emptyRun` for an empty window.
    public init(trace: Trace, region: CoreRegion? = nil, window: CycleWindow? = nil,
                maxRows: Int, bins: Int, maxKernels: Int = 10) throws {
        let g = trace.geometry
        let region = region ?? .all(g)
        let window = window ?? CycleWindow(start: 0, end: Int(trace.summary.makespanCycles))
        guard trace.detail != .summary else { throw AnalysisError.noSpans(trace.detail) }
        guard window.end > window.start else {
            throw trace.summary.makespanCycles == 0 ? AnalysisError.emptyRun
                : AnalysisError.windowOutsideRun(window, makespan: trace.summary.makespanCycles)
        }
        let n = region.width * region.height
        let perRow = Self.coresPerRow(region: region, maxRows: maxRows)
        let rows = (n + perRow - 1) / perRow
        let bins = max(1, bins)

        // Category of every span, or -1 to skip it.
        let source: Source = trace.detail == .full ? .activity : .kernels
        var categories: [String]
        var categoryOfLabel: [Int32: Int] = [:]
        switch source {
        case .activity:
            categories = Self.activityCategories
        case .kernels:
            (categories, categoryOfLabel) = Self.kernelCategories(trace, maxKernels: max(2, maxKernels))
        }
        var members = Array(repeating: [Int32](), count: categories.count)
        let w0 = Int64(window.start), w1 = Int64(window.end)
        for (i, s) in trace.spans.enumerated() {
            let cat: Int
            switch (source, s.kind) {
            case (.activity, .compute): cat = 0
            case (.activity, .send): cat = 1
            case (.activity, .wait): cat = 2
            case (.kernels, .kernel): cat = categoryOfLabel[s.label] ?? -1
            default: cat = -1
            }
            guard cat >= 0, s.end > w0, s.start < w1, s.end > s.start else { continue }
            let c = Int(s.core)
            guard region.contains(x: g.x(of: c), y: g.y(of: c)) else { continue }
            members[cat].append(Int32(i))
        }

        var shares: [[Float]] = []
        var partial = [Float](repeating: 0, count: rows * bins)
        var diff = [Float](repeating: 0, count: rows * (bins + 1))
        let t0 = Double(w0), binCycles = Double(w1 - w0) / Double(bins)
        for list in members {
            for i in partial.indices { partial[i] = 0 }
            for i in diff.indices { diff[i] = 0 }
            for si in list {
                let s = trace.spans[Int(si)]
                let c = Int(s.core)
                let r = ((g.y(of: c) - region.y0) * region.width + (g.x(of: c) - region.x0)) / perRow
                let fs = (Double(max(s.start, w0)) - t0) / binCycles
                let fe = (Double(min(s.end, w1)) - t0) / binCycles
                guard fe > fs else { continue }
                let b0 = min(bins - 1, Int(fs))
                let b1 = min(bins - 1, Int(fe))
                let base = r * bins
                if b0 == b1 {
                    partial[base + b0] += Float(fe - fs)
                } else {
                    partial[base + b0] += Float(Double(b0 + 1) - fs)
                    partial[base + b1] += Float(fe - Double(b1))
                    if b1 > b0 + 1 {
                        diff[r * (bins + 1) + b0 + 1] += 1
                        diff[r * (bins + 1) + b1] -= 1
                    }
                }
            }
            var out = [Float](repeating: 0, count: rows * bins)
            for r in 0..<rows {
                let cores = Float(min(perRow, n - r * perRow))
                var run: Float = 0
                for b in 0..<bins {
                    run += diff[r * (bins + 1) + b]
                    out[r * bins + b] = min(1, max(0, (partial[r * bins + b] + run) / cores))
                }
            }
            shares.append(out)
        }
        Self.resolveOverlaps(&shares, source: source)

        self.source = source
        self.categories = categories
        self.region = region
        self.window = window
        self.rows = rows
        self.bins = bins
        self.coresPerRow = perRow
        self.coreCount = n
        self.shares = shares
    }

    /// The share of category `category` in a cell.
    public func share(_ category: Int, row: Int, bin: Int) -> Float { shares[category][row * bins + bin] }

    /// The idle share of a cell: what no category covers.
    public func idle(row: Int, bin: Int) -> Float {
        var s: Float = 0
        for c in shares.indices { s += shares[c][row * bins + bin] }
        return max(0, 1 - s)
    }

    /// The row that shows core (x, y), or nil outside the region.
    public func row(x: Int, y: Int) -> Int? {
        guard region.contains(x: x, y: y) else { return nil }
        return ((y - region.y0) * region.width + (x - region.x0)) / coresPerRow
    }

    /// The bin that holds cycle `t`, or nil outside the window.
    public func bin(cycle t: Int) -> Int? {
        guard t >= window.start, t < window.end else { return nil }
        return min(bins - 1, Int(Double(t - window.start) / Double(window.end - window.start) * Double(bins)))
    }

    /// Cycles one bin spans (may be below one).
    public var binCycles: Double { Double(window.end - window.start) / Double(bins) }

    /// How many cores share a row so that `region` fits in `maxRows` rows, aligned to mesh rows:
    /// a divisor of the region's width (a row never straddles two mesh rows), or a multiple of it.
    public static func coresPerRow(region: CoreRegion, maxRows: Int) -> Int {
        let n = region.width * region.height, w = region.width
        let need = max(1, (n + max(1, maxRows) - 1) / max(1, maxRows))
        if need > w { return (need + w - 1) / w * w }
        return (need...w).first { w % $0 == 0 } ?? w
    }

    /// The categories a grid of `trace` will have (without building it): the activity
    /// categories for full detail, kernel names (and `other`) for kernel detail, none for summary.
    public static func categories(for trace: Trace, maxKernels: Int = 10) -> [String] {
        switch trace.detail {
        case .full: return activityCategories
        case .kernel: return kernelCategories(trace, maxKernels: max(2, maxKernels)).0
        case .summary: return []
        }
    }

    // MARK: - Helpers

    /// Kernel names in order of first start, the costliest `maxKernels − 1` kept when there are more.
    static func kernelCategories(_ trace: Trace, maxKernels: Int) -> ([String], [Int32: Int]) {
        var total: [String: Int64] = [:]
        var first: [String: Int64] = [:]
        for s in trace.spans where s.kind == .kernel {
            let name = trace.label(s.label)
            total[name, default: 0] += s.end - s.start
            first[name] = min(first[name] ?? .max, s.start)
        }
        var names = Array(total.keys)
        var other = false
        if names.count > maxKernels {
            names.sort { (total[$0]!, $1) > (total[$1]!, $0) }
            names = Array(names.prefix(maxKernels - 1))
            other = true
        }
        names.sort { (first[$0]!, $0) < (first[$1]!, $1) }
        var index: [String: Int] = [:]
        for (i, n) in names.enumerated() { index[n] = i }
        if other { names.append(otherKernels) }
        var byLabel: [Int32: Int] = [:]
        for (i, l) in trace.labels.enumerated() {
            if let k = index[l] { byLabel[Int32(i)] = k } else if other, total[l] != nil { byLabel[Int32(i)] = names.count - 1 }
        }
        return (names, byLabel)
    }

    /// Caps the shares of every cell so they sum to at most one.
    static func resolveOverlaps(_ shares: inout [[Float]], source: Source) {
        guard let count = shares.first?.count else { return }
        for i in 0..<count {
            var left: Float = 1
            if source == .activity {
                for c in shares.indices {
                    let v = min(shares[c][i], left)
                    shares[c][i] = v
                    left -= v
                }
            } else {
                var sum: Float = 0
                for c in shares.indices { sum += shares[c][i] }
                if sum > 1 { for c in shares.indices { shares[c][i] /= sum } }
            }
        }
    }
}
