import WaferMesh
import WaferSpec

/// GEMM-T: `C[m×n] = A[m×k] · B[n×k]ᵀ` on a P×P grid without transposing anything (Q·Kᵀ).
///
/// The core at logical (I, J) — physical (J, interleaved[I]) — keeps A tile (I, J) and starts with
/// B tile (I, J) (rows of B, columns of K). Step s: send the B tile to the ring predecessor along
/// Y (≤ 2 hops, overlapping the local work), compute the partial `A_IJ · B_{I+s,J}ᵀ`, ReduceAdd the
/// partials of row I into column (I + s) mod P with a K-tree reduce (so C tile (I, I + s) lands
/// on core (I, I + s)), and receive the next B tile. The root of each reduce keeps its C tile.
///
/// A non-square mesh runs on its top-left min(W, H)² square.
public struct GEMMT: MeshProgram {
    public let grid: KernelGrid
    public let shape: GEMMShape
    public let side: Int
    public let mt: Int, kt: Int, nt: Int
    let order: [Int], inverse: [Int]
    let up: [Int32]
    /// Credit routes to the ring successor along Y (colours 14–17).
    let down: [Int32]
    let plans: [LinePlan]   // one per root column
    let invocation: Int32
    let label: Int32
    let keepLabel: Int32
    let labels: [Int32]
    let elementBytes: Int
    static let partialWork = Int32(1), keepWork = Int32(2)

    /// - Parameter groups: K-tree groups of the ReduceAdd along X (default ≈ √P).
    public init(engine: MeshEngine, grid full: KernelGrid, shape: GEMMShape, groups: Int? = nil,
                a: Matrix? = nil, b: Matrix? = nil) throws {
        try shape.check()
        let p = min(full.rows, full.cols)
        grid = try KernelGrid(geometry: full.geometry, x0: full.x0, y0: full.y0, rows: p, cols: p)
        self.shape = shape
        side = p
        mt = ceilDiv(shape.m, p); kt = ceilDiv(shape.k, p); nt = ceilDiv(shape.n, p)
        order = RingOrder.interleaved(p)
        inverse = RingOrder.inverse(order)
        elementBytes = engine.spec.elementBytes
        let g = groups ?? LineAlgorithm.defaultGroups(p)
        invocation = engine.invocation(name: "gemmt", params: [
            "kernel": "gemm", "algorithm": "gemmt", "m": "\(shape.m)", "k": "\(shape.k)", "n": "\(shape.n)",
            "grid": "\(p)x\(p)", "groups": "\(g)", "x0": "\(grid.x0)", "y0": "\(grid.y0)",
        ])
        label = engine.label("gemmt partial A·Bᵀ")
        keepLabel = engine.label("gemmt keep C")
        labels = ["A tile", "B tile", "B next", "partial", "incoming", "C tile"].map { engine.label($0) }
        var up = Array(repeating: Int32(-1), count: p * p)
        if p > 1 {
            for bigI in 0..<p {
                let to = order[(bigI + p - 1) % p]
                let colour = 8 + bigI % 3 + (abs(to - order[bigI]) > 2 ? 3 : 0)
                for j in 0..<p {
                    up[order[bigI] * p + j] = try engine.routeXY(from: grid.core(px: j, py: order[bigI]),
                                                                 to: grid.core(px: j, py: to), colour: colour)
                }
            }
        }
        self.up = up
        var down = Array(repeating: Int32(-1), count: p * p)
        if p > 1 {
            for bigI in 0..<p {
                let to = order[(bigI + 1) % p]
                for j in 0..<p {
                    down[order[bigI] * p + j] = try engine.routeXY(from: grid.core(px: j, py: order[bigI]),
                                                                   to: grid.core(px: j, py: to), colour: Self.creditColour(sender: bigI, order: order))
                }
            }
        }
        self.down = down
        let cache = RouteCache()
        var plans: [LinePlan] = []
        for root in 0..<p {
            let sched = LineSchedule.ktree(n: p, elements: mt * nt, groups: g, root: root, broadcast: false, colourBase: 0)
            plans.append(try LinePlan(engine: engine, grid: grid, axis: .x, schedule: sched,
                                      slots: (acc: 3, incoming: 4, staging: 6), label: "gemmt reduce-add", cache: cache))
        }
        self.plans = plans
        if let store = engine.store {
            let (a, b) = try shape.inputs(a, b, transposedB: true)
            for bigI in 0..<p {
                for j in 0..<p {
                    let c = grid.core(px: j, py: order[bigI])
                    store[c, 0] = a.tile(bigI, j, mt, kt)
                    store[c, 1] = b.tile(bigI, j, nt, kt)
                }
            }
        }
    }

    /// Gathers C after a run with payloads.
    public func result(_ store: PayloadStore) -> Matrix {
        var c = Matrix(rows: shape.m, cols: shape.n)
        for bigI in 0..<side {
            for l in 0..<side { c.setTile(bigI, l, mt, nt, store[grid.core(px: l, py: order[bigI]), 5]) }
        }
        return c
    }

    /// Ops of step `s` at the core in logical row I, column j.
    ///
    /// [credit in], send B, partial, ReduceAdd, [keep C], receive B, [credit out]: B is
    /// double-buffered, so a core sends its tile only when the receiver's spare buffer is free.
    private func stepLength(_ s: Int, bigI: Int, j: Int) -> Int {
        let root = (bigI + s) % side
        let creditIn = s >= 1 && s < side - 1 ? 1 : 0, creditOut = s < side - 2 ? 1 : 0
        return creditIn + (s < side - 1 ? 2 : 0) + 1 + plans[root].count(position: j) + (j == root ? 1 : 0) + creditOut
    }

    public func op(core: Int, pc: Int) -> MeshOp? {
        guard let (j, py) = grid.offsets(of: core) else { return nil }
        let bigI = inverse[py]
        let eb = elementBytes
        let sizes = [mt * kt, nt * kt, nt * kt, mt * nt, mt * nt, mt * nt]
        if pc < 6 { return .alloc(label: labels[pc], bytes: sizes[pc] * eb) }
        if pc == 6 { return .begin(invocation: invocation) }
        var k = pc - 7
        for s in 0..<side {
            let n = stepLength(s, bigI: bigI, j: j)
            if k >= n { k -= n; continue }
            let root = (bigI + s) % side
            let shifting = s < side - 1
            if s >= 1 && shifting {
                if k == 0 {
                    let prev = (bigI + side - 1) % side
                    return .recv(colour: Int32(creditColour(sender: prev)), buffer: -1)
                }
                k -= 1
            }
            if shifting && k == 0 { return .send(route: up[py * side + j], bytes: nt * kt * eb, buffer: 1) }
            if shifting { k -= 1 }
            if k == 0 { return .compute(macs: mt * kt * nt, label: label, work: Self.partialWork) }
            k -= 1
            let r = plans[root].count(position: j)
            if k < r { return plans[root].op(core: core, pc: k) }
            k -= r
            if j == root && k == 0 { return .compute(macs: 0, label: keepLabel, work: Self.keepWork) }
            if j == root { k -= 1 }
            if k == 0 {
                let from = order[(bigI + 1) % side]
                let colour = 8 + ((bigI + 1) % side) % 3 + (abs(from - py) > 2 ? 3 : 0)
                return .recv(colour: Int32(colour), buffer: 1)
            }
            return .send(route: down[py * side + j], bytes: 4, buffer: -1)
        }
        if k == 0 { return .end(invocation: invocation) }
        if k <= 6 { return .free(label: labels[6 - k]) }
        return nil
    }

    /// Colour of the credit route from ring index `sender` to its successor.
    static func creditColour(sender: Int, order: [Int]) -> Int {
        let to = order[(sender + 1) % order.count]
        return 14 + sender % 3 + (abs(to - order[sender]) > 2 ? 3 : 0)
    }

    private func creditColour(sender: Int) -> Int { Self.creditColour(sender: sender, order: order) }

    public func execute(work: Int32, core: Int, store: PayloadStore) {
        switch work {
        case Self.partialWork:
            store[core, 3] = TileMath.gemmTransposedB(store[core, 0], store[core, 1], m: mt, k: kt, n: nt)
        case Self.keepWork:
            store[core, 5] = store[core, 3]
        default:
            _ = plans[0].execute(code: work, core: core, store: store)
        }
    }
}
