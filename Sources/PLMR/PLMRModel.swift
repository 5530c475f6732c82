import Foundation
import WaferSpec

/// The PLMR analytic model: closed-form cycle and compliance predictions for WaferScope's kernels
/// from a `MeshSpec` and the shapes alone.
///
/// It never runs the engine: every number comes from the spec (α, β, o, link and ramp bytes per
/// cycle, MACs per cycle, element size, SRAM, colours) and the kernels' published schedules. Each
/// kernel's formula is the critical path of its op sequence under the engine's documented
/// semantics (docs/engine.md), explained next to its code and in docs/plmr-model.md.
public enum PLMRModel {
    /// Predicts a kernel invocation as a trace marks it: its name and parameters.
    ///
    /// Understood: `kernel=gemm` with `algorithm` meshgemm|cannon|summa|gemmt, `m`, `k`, `n`,
    /// `grid` ("PxxPy", columns × rows) and optional `groups`; `kernel=gemv` with `algorithm`
    /// ktree|pipeline|ring, `rows`, `cols`, `grid`, optional `groups`; and the collectives named
    /// "allreduce" (or `kernel=allreduce`) and "broadcast" — see `collective(name:params:spec:)`.
    ///
    /// - Returns: nil for a kernel the model does not cover or parameters it cannot read.
    public static func predict(kernel name: String, params: [String: String], spec: MeshSpec) -> KernelPrediction? {
        let kind = params["kernel"] ?? name
        func int(_ key: String) -> Int? { params[key].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
        switch kind {
        case "gemm":
            guard let algo = params["algorithm"], let m = int("m"), let k = int("k"), let n = int("n"),
                  let (cols, rows) = parseGrid(params["grid"]) else { return nil }
            return gemm(algo, m: m, k: k, n: n, gridCols: cols, gridRows: rows, groups: int("groups"), spec: spec)
        case "gemv":
            guard let algo = params["algorithm"], let r = int("rows"), let c = int("cols"),
                  let (cols, rows) = parseGrid(params["grid"]) else { return nil }
            return gemv(algo, rows: r, cols: c, gridCols: cols, gridRows: rows, groups: int("groups"), spec: spec)
        default:
            return collective(name: name, params: params, spec: spec)
        }
    }

    /// A distributed GEMM on a grid of `gridCols × gridRows` cores.
    ///
    /// MeshGEMM, Cannon and GEMM-T run on the largest square of the grid; SUMMA on the whole grid.
    /// - Returns: nil for an unknown algorithm or a non-positive size.
    public static func gemm(_ algorithm: String, m: Int, k: Int, n: Int, gridCols: Int, gridRows: Int,
                            groups: Int? = nil, spec: MeshSpec) -> KernelPrediction? {
        guard m > 0, k > 0, n > 0, gridCols > 0, gridRows > 0 else { return nil }
        let side = min(gridCols, gridRows)
        switch algorithm {
        case "meshgemm", "cannon":
            return RingGEMMModel.predict(cannon: algorithm == "cannon", m: m, k: k, n: n, side: side,
                                         gridCols: gridCols, gridRows: gridRows, spec: spec)
        case "summa":
            return SUMMAModel.predict(m: m, k: k, n: n, cols: gridCols, rows: gridRows, spec: spec)
        case "gemmt":
            if let g = groups, g <= 0 { return nil }
            return GEMMTModel.predict(m: m, k: k, n: n, side: side, groups: groups,
                                      gridCols: gridCols, gridRows: gridRows, spec: spec)
        default:
            return nil
        }
    }

    /// A distributed GEMV `y = x · W` (W is `rows × cols`) on `gridCols × gridRows` cores, reducing
    /// along Y with a K-tree (`groups`, default ≈ √gridRows), pipeline or ring allreduce.
    public static func gemv(_ algorithm: String, rows: Int, cols: Int, gridCols: Int, gridRows: Int,
                            groups: Int? = nil, spec: MeshSpec) -> KernelPrediction? {
        guard rows > 0, cols > 0, gridCols > 0, gridRows > 0 else { return nil }
        if let g = groups, g <= 0 { return nil }
        return GEMVModel.predict(algorithm: algorithm, rows: rows, cols: cols, gridCols: gridCols, gridRows: gridRows,
                                 groups: groups, spec: spec)
    }

    /// An allreduce of `elements` per core along lines of `lineLength` cores (every line at once,
    /// all starting together): K-tree (`groups`, default ≈ √n), pipeline or ring. A sum and a max
    /// cost the same (one element operation per element).
    public static func allreduce(_ algorithm: String, lineLength n: Int, elements: Int, groups: Int? = nil,
                                 lines: Int = 1, spec: MeshSpec) -> KernelPrediction? {
        guard n > 0, elements > 0, lines > 0 else { return nil }
        let p = Primitives(spec)
        let cost: CostPath, routes: LineRoutes
        var hops = n > 1 ? 1 : 0
        switch algorithm {
        case "ktree":
            let g = groups ?? GEMVModel.defaultGroups(n)
            guard g > 0 else { return nil }
            let layout = LineModel.KTreeLayout(n: n, groups: g)
            cost = LineModel.ktreeAllreduce(n: n, elements: elements, groups: g, p: p)
            routes = LineRoutes.ktree(layout, broadcast: true)
            hops = n > 1 ? layout.maxHops(broadcast: true) : 0
        case "pipeline":
            cost = LineModel.pipelineAllreduce(n: n, elements: elements, p: p)
            routes = LineRoutes.pipeline(n: n)
        case "ring":
            cost = LineModel.ringAllreduce(n: n, elements: elements, p: p)
            routes = LineRoutes.ringAllreduce(n: n)
            hops = LineModel.interleavedHops(n).max() ?? 0
        default:
            return nil
        }
        let compliance = Compliance(coresUsed: n * lines, coresInGrid: n * lines, maxHops: hops, maxRelays: 0,
                                    peakSramBytes: nil, sramBytesPerCore: spec.sramBytesPerCore,
                                    coloursPerCore: routes.maxCount, colourLimit: spec.colorsPerCore)
        return KernelPrediction(kernel: "allreduce", algorithm: algorithm, cycles: cost.total, breakdown: cost,
                                steps: 1, stepCycles: 0, stepBound: "communication", compliance: compliance, notes: [])
    }

    /// A broadcast of `elements` from position `root` to every core of lines of `lineLength`
    /// cores: two multicasts (west, then east), every other core receiving and copying.
    public static func broadcast(lineLength n: Int, elements: Int, root: Int, lines: Int = 1,
                                 spec: MeshSpec) -> KernelPrediction? {
        guard n > 0, elements > 0, root >= 0, root < n, lines > 0 else { return nil }
        let p = Primitives(spec)
        let cost = LineModel.broadcast(n: n, root: root, elements: elements, start: .zero, p: p)
        let compliance = Compliance(coresUsed: n * lines, coresInGrid: n * lines, maxHops: n > 1 ? max(root, n - 1 - root) : 0,
                                    maxRelays: 0, peakSramBytes: nil, sramBytesPerCore: spec.sramBytesPerCore,
                                    coloursPerCore: LineRoutes.broadcast(n: n, root: root).maxCount,
                                    colourLimit: spec.colorsPerCore)
        return KernelPrediction(kernel: "broadcast", algorithm: "multicast", cycles: cost.total, breakdown: cost,
                                steps: 1, stepCycles: 0, stepBound: "communication", compliance: compliance, notes: [])
    }

    /// Collectives marked by whole-model programs.
    ///
    /// Name (or `kernel` param) "allreduce": `algorithm` (default ktree), `elements`, `groups`, `op`
    /// (sum|max, same cost), and the line length as `n` or as `grid` ("PxxPy") with `axis`
    /// (x: lines are rows of Px cores; y: columns of Py cores). "broadcast": the same line
    /// parameters, `elements` and `root` (default 0).
    public static func collective(name: String, params: [String: String], spec: MeshSpec) -> KernelPrediction? {
        func int(_ key: String) -> Int? { params[key].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
        let kind = params["kernel"] ?? name
        var n = int("n") ?? int("length")
        var lines = 1
        if let (cols, rows) = parseGrid(params["grid"]), let axis = params["axis"] {
            switch axis {
            case "x": n = n ?? cols; lines = rows
            case "y": n = n ?? rows; lines = cols
            default: return nil
            }
        }
        guard let length = n, let elements = int("elements") else { return nil }
        if kind == "allreduce" || kind.hasSuffix(".allreduce") || kind.hasPrefix("allreduce") {
            return allreduce(params["algorithm"] ?? "ktree", lineLength: length, elements: elements,
                             groups: int("groups"), lines: lines, spec: spec)
        }
        if kind == "broadcast" || kind.hasSuffix(".broadcast") || kind.hasPrefix("broadcast") {
            return broadcast(lineLength: length, elements: elements, root: int("root") ?? 0, lines: lines, spec: spec)
        }
        return nil
    }

    /// Parses "PxxPy" (columns × rows, also with "×").
    public static func parseGrid(_ text: String?) -> (cols: Int, rows: Int)? {
        guard let t = text else { return nil }
        let parts = t.lowercased().replacingOccurrences(of: "×", with: "x").split(separator: "x")
        guard parts.count == 2, let c = Int(parts[0]), let r = Int(parts[1]), c > 0, r > 0 else { return nil }
        return (c, r)
    }
}
