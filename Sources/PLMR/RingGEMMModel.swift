import WaferSpec

/// MeshGEMM and Cannon: compute–shift GEMM on a P×P grid whose rows and columns are rings
/// (interleaved for MeshGEMM, plain with an (P − 1)-hop wraparound for Cannon), with credit-based
/// flow control on the double buffers.
///
/// Per core (tiles mt×kt of A, kt×nt of B, padded): alignment of A (row I shifts min(I, P − I)
/// times, the shorter way round; each round: wait for the target's credit, send A, receive A,
/// credit the sender), then P steps of: receive the credits of the row and column predecessors
/// (their spare buffers are free), send A and B to them (asynchronous), C += A·B, receive the next
/// A and B, send one-wavelet credits to the row and column successors. The first step takes no
/// credit, the last two send none, the last only computes.
///
/// Critical path: max-plus over the cores' op sequences. Let U be when a core has received a
/// step's B. The next U follows from the latest of five edges (o per op, w wavelets, h hops):
///
/// | edge | from | weight |
/// |---|---|---|
/// | own work | the core itself | 2o credits out + 2o credits in + 2o sends + (⌈mt·kt·nt/m⌉ + o) + 2o receives |
/// | data A | the row successor | 5o to its A's injection + h·α + w_A − 1 + 2o receives |
/// | data B | the column successor | 5o + max(o, w_A) (B follows A on the ramp) + h·α + w_B − 1 + o |
/// | credit A | the row predecessor | o + h·α (one wavelet) + o, o, then 2o sends, compute, 2o receives |
/// | credit B | the column predecessor | 2o + h·α + o, then 2o sends, compute, 2o receives |
///
/// Sends precede the compute, so a step costs max(compute path, transfer path) — the overlap the
/// paper's MeshGEMM is built for — but a shift is now a data trip one way and a credit trip back.
/// Data edges move a chain of dependencies one ring position back, credit edges one forward, so a
/// chain can bounce across one link, paying its hops on every edge: the longest link's h·α per row
/// or column edge (2 hops on the interleaved ring; Cannon's P − 1-hop wraparound, which is how
/// Cannon's "O(αN) per step" shows). A walk of d data and c credit edges on a ring crosses at most
/// 2·min(d, c) times the longest link plus a window of |d − c| consecutive links. The kernel's cost
/// is the longest path: the latest row's alignment (I = ⌊P/2⌋, ⌊P/2⌋ rounds), the first step, and
/// the best mix of row edges, column edges and own edges over the other P − 2 steps, plus the last
/// compute — a maximum over (row edges, column edges), each split optimally between data and credit.
enum RingGEMMModel {
    /// Largest hop sum of a walk with `d` moves one way and `c` the other on a ring whose link
    /// lengths are `window` (window sums) and whose longest link is `longest`.
    static func walkHops(_ d: Int, _ c: Int, window: [Int], longest: Int) -> Int {
        if d == 0 || c == 0 { return window[d + c] }
        return 2 * min(d, c) * longest + window[abs(d - c)]
    }

    /// For every edge count r in 0…maxEdges: the heaviest mix of `data` and `credit` edges (plus hops).
    static func bestMixes(maxEdges: Int, data: CostPath, credit: CostPath, window: [Int], longest: Int,
                          firstData: Int = 0, p: Primitives) -> [CostPath] {
        (0...max(0, maxEdges)).map { r in
            var best: CostPath? = nil
            for d in 0...r {
                let c = r - d
                let path = d * data + c * credit + p.hops(walkHops(d + firstData, c, window: window, longest: longest))
                if best == nil || path.total > best!.total { best = path }
            }
            return best!
        }
    }

    static func predict(cannon: Bool, m: Int, k: Int, n: Int, side: Int, gridCols: Int, gridRows: Int,
                        spec: MeshSpec) -> KernelPrediction {
        let p = Primitives(spec)
        let P = side
        let mt = ceilDiv(m, P), kt = ceilDiv(k, P), nt = ceilDiv(n, P)
        let eA = mt * kt, eB = kt * nt, eC = mt * nt
        let local = p.compute(mt * kt * nt)
        let order = cannon ? Array(0..<P) : LineModel.interleavedOrder(P)
        let ringHops = P > 1 ? (0..<P).map { abs(order[($0 + 1) % P] - order[$0]) } : [0]
        let hMax = ringHops.max() ?? 0

        var total = local
        var step = local
        var bound = "compute"
        var notes: [String] = []
        if P > 1 {
            let window = LineModel.windowMaxima(ringHops, upTo: P)
            let injectB = CostPath.longest(p.op, p.transfer(p.rampCycles(elements: eA)))
            // Alignment of row ⌊P/2⌋: R rounds; the first is a plain send and receive, the others
            // wait for the target's credit: data edge 4o + w_A − 1, credit edge 4o (+ hops each).
            let rounds = P / 2
            let first = p.op + p.flight(hops: 0, elements: eA) + p.op
            let alignMixes = bestMixes(maxEdges: rounds - 1, data: p.ops(4) + p.transfer(p.linkWavelets(elements: eA) - 1),
                                       credit: p.ops(4), window: window, longest: hMax, firstData: 1, p: p)
            let align = first + alignMixes[rounds - 1]
            // Step 0 (no credits in yet): own work, or A or B from the successor.
            let own0 = p.ops(4) + local
            let dataA0 = p.op + p.flight(hops: hMax, elements: eA) + p.ops(2)
            let dataB0 = p.op + injectB + p.flight(hops: hMax, elements: eB) + p.op
            let step0 = CostPath.longest([own0, dataA0, dataB0])
            // Steps 1 … P − 2: the five edges (hops added by the walks).
            let own = p.ops(8) + local
            let dataA = p.ops(7) + p.flight(hops: 0, elements: eA)
            let dataB = p.ops(6) + injectB + p.flight(hops: 0, elements: eB)
            let credit = p.ops(7) + local
            let middle = P - 2
            let rows = bestMixes(maxEdges: middle, data: dataA, credit: credit, window: window, longest: hMax, p: p)
            let cols = bestMixes(maxEdges: middle, data: dataB, credit: credit, window: window, longest: hMax, p: p)
            var best = CostPath.zero
            for r in 0...middle {
                for q in 0...(middle - r) {
                    let path = rows[r] + cols[q] + (middle - r - q) * own
                    if path.total > best.total { best = path }
                }
            }
            total = align + step0 + best + local
            let stepA = dataA + p.hops(hMax), stepB = dataB + p.hops(hMax)
            step = middle > 0 ? CostPath.longest([own, stepA, stepB, credit + p.hops(hMax)]) : step0
            bound = step == own ? "compute" : "communication"
            if cannon && step != own {
                notes.append("Cannon: data and credit trips cross the \(P - 1)-hop wraparound on every step of the critical chain")
            }
        }

        // PLMR-R: per row, data towards the predecessor (colours 0–3) and credits to the successor
        // (12–15); rows past P/2 also align towards the successor (4–7) with credits back (20–23).
        // Per column, data up the ring (8–11) and credits down (16–19). Disjoint ranges, so a core's
        // count is its row's plus its column's.
        var colours = 0
        if P > 1 {
            var plain = LineRoutes.ring(order: order, step: -1, base: 0)
            plain.formUnion(LineRoutes.ring(order: order, step: 1, base: 12))
            var aligning = plain
            aligning.formUnion(LineRoutes.ring(order: order, step: 1, base: 4))
            aligning.formUnion(LineRoutes.ring(order: order, step: -1, base: 20))
            var column = LineRoutes.ring(order: order, step: -1, base: 8)
            column.formUnion(LineRoutes.ring(order: order, step: 1, base: 16))
            let up = column.counts
            let inverse = inversePermutation(order)
            for y in 0..<P {
                let row = inverse[y] > P / 2 ? aligning.maxCount : plain.maxCount
                colours = max(colours, row + up[y])
            }
        }
        let compliance = Compliance(
            coresUsed: P * P, coresInGrid: gridCols * gridRows, maxHops: hMax, maxRelays: 0,
            peakSramBytes: (2 * eA + 2 * eB + eC) * spec.elementBytes, sramBytesPerCore: spec.sramBytesPerCore,
            coloursPerCore: colours, colourLimit: spec.colorsPerCore)
        return KernelPrediction(kernel: "gemm", algorithm: cannon ? "cannon" : "meshgemm", cycles: total.total,
                                breakdown: total, steps: P, stepCycles: step.total, stepBound: bound,
                                compliance: compliance, notes: notes)
    }
}

/// `inverse[order[k]] = k`.
func inversePermutation(_ order: [Int]) -> [Int] {
    var inv = Array(repeating: 0, count: order.count)
    for (k, q) in order.enumerated() { inv[q] = k }
    return inv
}
