import WaferSpec

/// GEMM-T: `C = A · Bᵀ` on a P×P grid (rows interleaved). Each core runs P steps of: wait for the
/// credit of its column predecessor (its spare B buffer is free; steps 1 … P − 2), send its B tile
/// up the column ring (asynchronous), compute the partial A·Bᵀ (⌈mt·kt·nt / m⌉ + o), take part in
/// a K-tree ReduceAdd of the partials along its row into column r = (I + s) mod P, keep the result
/// if it is the root (o), receive the next B tile (o), and credit its column successor (o).
///
/// Why a per-step closed form is not enough here: the steps have no barrier and the cores of a row
/// do unequal work in the ReduceAdd — leaves send once, chain members receive-reduce-send, group
/// roots reduce two or three vectors, the global root up to four — so each core accumulates its
/// own lateness, and the late cores feed the next reductions (the old root is next to the new
/// one, group roots start phase 2 late). The credits then carry a core's lateness to the same
/// column of the next row, one step later. Treating every step as starting together over-predicts
/// by the whole reduction latency per step (+49 % on a 32×32 grid measured without credits), and
/// summing each core's own work under-predicts (the waits are missing).
///
/// The model therefore evaluates the critical path step by step with per-core start times, all
/// rows together: at step s a core starts when its previous step is done and (steps 1 … P − 2)
/// its predecessor's credit has arrived (issued when that core received its B: o + h·α + o);
/// it is ready after o (send B) + the local product; the row's K-tree (the closed-form chains,
/// phase 2 and ejection-ramp sharing of `LineModel.ktreeReduceTimes`, with the B tile from the
/// next row sharing the ejection ramp) gives when each core is done; it then receives B
/// (o after B's tail: injected o after the sender's issue, h·α + w_B − 1 in flight) and credits
/// its successor (o). That is the max-plus recurrence of the kernel's dependency graph with
/// closed-form op and message costs: O(P) per row and step, O(P³) in all. It reads no engine state.
///
/// Not modelled: link sharing between B tiles, credits and the reduction's messages (they use
/// different directions except where a 2-hop route passes a neighbour's link).
enum GEMMTModel {
    static func predict(m: Int, k: Int, n: Int, side: Int, groups: Int?, gridCols: Int, gridRows: Int,
                        spec: MeshSpec) -> KernelPrediction {
        let p = Primitives(spec)
        let P = side
        let mt = ceilDiv(m, P), kt = ceilDiv(k, P), nt = ceilDiv(n, P)
        let eC = mt * nt, eB = nt * kt
        let g = groups ?? GEMVModel.defaultGroups(P)
        let local = p.compute(mt * kt * nt)
        let layouts = (0..<P).map { LineModel.KTreeLayout(n: P, groups: g, root: $0) }
        let order = LineModel.interleavedOrder(P)
        let (end, firstStep) = criticalPath(layouts: layouts, order: order, local: local, eC: eC, eB: eB, p: p)

        var hops = P > 1 ? LineModel.interleavedHops(P).max()! : 0
        var rowRoutes = LineRoutes(n: P)
        for layout in layouts {
            hops = max(hops, layout.maxHops(broadcast: false))
            rowRoutes.formUnion(LineRoutes.ktree(layout, broadcast: false))
        }
        var column = LineRoutes.ring(order: order, step: -1, base: 8)       // B, up the ring
        column.formUnion(LineRoutes.ring(order: order, step: 1, base: 14))  // credits, down the ring
        let compliance = Compliance(
            coresUsed: P * P, coresInGrid: gridCols * gridRows, maxHops: hops, maxRelays: 0,
            peakSramBytes: (mt * kt + 2 * nt * kt + 3 * eC) * spec.elementBytes, sramBytesPerCore: spec.sramBytesPerCore,
            coloursPerCore: rowRoutes.maxCount + (P > 1 ? column.maxCount : 0), colourLimit: spec.colorsPerCore)
        let reduceShare = firstStep.total - local.total
        return KernelPrediction(kernel: "gemm", algorithm: "gemmt", cycles: end.total, breakdown: end,
                                steps: P, stepCycles: firstStep.total,
                                stepBound: local.total >= reduceShare ? "compute" : "communication",
                                compliance: compliance,
                                notes: ["GEMM-T: critical path evaluated step by step over all cores (no barrier: unequal ReduceAdd roles accumulate lateness, credits pass it on)"])
    }

    /// The end of the kernel, and the first step's length at row 0's root (for reports).
    static func criticalPath(layouts: [LineModel.KTreeLayout], order: [Int], local: CostPath, eC: Int, eB: Int,
                             p: Primitives) -> (end: CostPath, firstStep: CostPath) {
        let P = layouts.count
        guard P > 1 else { return (local + p.op, local + p.op) }
        // Hops between ring rows I and I + 1 (B goes up from I + 1 to I, credits down from I to I + 1).
        let ringHop = (0..<P).map { abs(order[($0 + 1) % P] - order[$0]) }
        let wB = p.linkWavelets(elements: eB), rampB = p.rampCycles(elements: eB)
        var start = Array(repeating: Array(repeating: CostPath.zero, count: P), count: P)   // [ring row][column]
        var gotB = start
        var firstStep = CostPath.zero
        var sendIssue = start, ready = start, rampFree = start
        for s in 0..<P {
            let shifting = s < P - 1, creditIn = s >= 1 && shifting, creditOut = s < P - 2
            for i in 0..<P {
                let pred = (i + P - 1) % P
                for j in 0..<P {
                    var t = start[i][j]
                    if creditIn {
                        let credit = gotB[pred][j] + p.op + p.hops(ringHop[pred])
                        t = t.joined(credit) + p.op
                    }
                    sendIssue[i][j] = t
                    if shifting { t = t + p.op }
                    rampFree[i][j] = shifting ? sendIssue[i][j] + p.op + p.transfer(rampB) : t
                    ready[i][j] = t + local
                }
            }
            for i in 0..<P {
                let succ = (i + 1) % P
                let layout = layouts[(i + s) % P]
                let passive: [LineModel.Arrival?] = (0..<P).map { j in
                    shifting ? LineModel.Arrival(head: sendIssue[succ][j] + p.op + p.hops(ringHop[i]),
                                                 key: order[succ] * P + j, wavelets: wB) : nil
                }
                var (finish, tails) = LineModel.ktreeReduceTimes(layout, ready: ready[i], rampFree: rampFree[i], passive: passive,
                                                                 keyBase: order[i] * P, elements: eC, p: p)
                finish[layout.root] = finish[layout.root] + p.op   // the root keeps its tile
                if s == 0 && i == 0 { firstStep = finish[layout.root] }
                for j in 0..<P {
                    var t = finish[j]
                    if shifting, let tail = tails[j] { t = t.joined(tail) + p.op }
                    gotB[i][j] = t
                    start[i][j] = creditOut ? t + p.op : t
                }
            }
        }
        return (CostPath.longest(start.map { CostPath.longest($0) }), firstStep)
    }
}
