import WaferSpec

/// MeshGEMV and its baselines: `y = x · W` on Py × Px cores, a local GEMV then an allreduce of
/// the partial results along every column.
///
/// Core (column j, row i) holds x block i (⌈R/Py⌉ elements) and W tile (i, j) (⌈R/Py⌉ × ⌈C/Px⌉);
/// all cores compute their partial (⌈R/Py·C/Px / m⌉ + o) at once, then every column allreduces
/// its Py partials of ⌈C/Px⌉ elements. The columns use disjoint links, so one column's critical
/// path is the kernel's: local compute + allreduce(Py, ⌈C/Px⌉).
///
/// The allreduce terms (LineModel):
/// - K-tree: phase 1 streams each group of g = ⌈Py/G⌉ cores into its middle, a chain of ⌈(g−1)/2⌉
///   links of o + (α + w − 1) + o + (⌈E/m⌉ + o) each; phase 2 chains the group roots towards the
///   middle group over pass-through routes of g hops (g·α, no relay), the same per-link ops; then
///   the root multicasts the sum west and east (o each, the second after the first leaves the
///   ramp) and every core receives and copies (o + o). Critical path ≈ (g/2 + G/2)·L + Py/2·α.
/// - pipeline: (Py − 1) forward links that reduce and (Py − 1) backward links that copy.
/// - ring: 2(Py − 1) steps of ⌈E/Py⌉-element chunks on the interleaved ring (≤ 2 hops each).
enum GEMVModel {
    static func predict(algorithm: String, rows: Int, cols: Int, gridCols px: Int, gridRows py: Int,
                        groups: Int?, spec: MeshSpec) -> KernelPrediction? {
        let p = Primitives(spec)
        let rt = ceilDiv(rows, py), ct = ceilDiv(cols, px)
        let local = p.compute(rt * ct)
        let reduce: CostPath
        let routes: LineRoutes
        var hops = 1, steps = 1
        switch algorithm {
        case "ktree":
            let g = groups ?? defaultGroups(py)
            let layout = LineModel.KTreeLayout(n: py, groups: g)
            reduce = LineModel.ktreeAllreduce(n: py, elements: ct, groups: g, p: p)
            routes = LineRoutes.ktree(layout, broadcast: true)
            hops = layout.maxHops(broadcast: true)
            steps = layout.bounds.count
        case "pipeline":
            reduce = LineModel.pipelineAllreduce(n: py, elements: ct, p: p)
            routes = LineRoutes.pipeline(n: py)
            steps = 2 * max(0, py - 1)
        case "ring":
            reduce = LineModel.ringAllreduce(n: py, elements: ct, p: p)
            routes = LineRoutes.ringAllreduce(n: py)
            hops = LineModel.interleavedHops(py).max() ?? 0
            steps = 2 * max(0, py - 1)
        default:
            return nil
        }
        if py == 1 { hops = 0 }
        let total = local + reduce
        let eb = spec.elementBytes
        let compliance = Compliance(
            coresUsed: px * py, coresInGrid: px * py, maxHops: hops, maxRelays: 0,
            peakSramBytes: (rt + rt * ct + ct + ct + ceilDiv(ct, py)) * eb, sramBytesPerCore: spec.sramBytesPerCore,
            coloursPerCore: routes.maxCount, colourLimit: spec.colorsPerCore)
        return KernelPrediction(kernel: "gemv", algorithm: algorithm, cycles: total.total, breakdown: total,
                                steps: steps, stepCycles: 0,
                                stepBound: local.total >= reduce.total ? "compute" : "communication",
                                compliance: compliance, notes: [])
    }

    /// About √n groups, as the kernels choose by default.
    static func defaultGroups(_ n: Int) -> Int { max(1, Int(Double(n).squareRoot().rounded())) }
}
