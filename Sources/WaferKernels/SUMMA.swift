import WaferMesh
import WaferSpec

/// SUMMA on a Py × Px grid: at every step the owners of a K-panel of A broadcast it along their
/// rows and the owners of the matching panel of B along their columns (router multicast), then
/// every core accumulates C += A_panel · B_panel.
///
/// K is cut into S = lcm(Py, Px) panels; core (j, i) owns S/Px panels of A's row block i and
/// S/Py panels of B's column block j. A broadcast from column j0 is two multicast messages (west
/// and east). Each source column (row) needs its own colour, since the broadcasts of different
/// sources cross every router of the row in different directions: Px + Py colours per core, which
/// is SUMMA's PLMR-R problem. Panels are double-buffered: the 2× working set.
///
/// Unlike the ring kernels, this SUMMA has no credit flow control: an owner broadcasts as soon as
/// it reaches a step, and receivers may hold more panels than their two buffers. Honest credits
/// would have to gather from every core of the row before each broadcast (the O((α+β)N) step the
/// paper charges SUMMA), so the measured SUMMA is optimistic: comparisons against it are conservative.
public struct SUMMA: MeshProgram {
    public let grid: KernelGrid
    public let shape: GEMMShape
    public let steps: Int
    public let mt: Int, nt: Int, kp: Int
    let aPanels: Int, bPanels: Int
    let routes: [Int32]   // per core: west, east, north, south (−1 when absent)
    let invocation: Int32
    let label: Int32
    let labels: [Int32]
    let elementBytes: Int

    public init(engine: MeshEngine, grid: KernelGrid, shape: GEMMShape, a: Matrix? = nil, b: Matrix? = nil) throws {
        try shape.check()
        self.grid = grid
        self.shape = shape
        let px = grid.cols, py = grid.rows
        var g = px, r = py
        while r != 0 { (g, r) = (r, g % r) }
        steps = px / g * py
        mt = ceilDiv(shape.m, py); nt = ceilDiv(shape.n, px); kp = ceilDiv(shape.k, steps)
        aPanels = steps / px; bPanels = steps / py
        elementBytes = engine.spec.elementBytes
        invocation = engine.invocation(name: "summa", params: [
            "kernel": "gemm", "algorithm": "summa", "m": "\(shape.m)", "k": "\(shape.k)", "n": "\(shape.n)",
            "grid": "\(px)x\(py)", "x0": "\(grid.x0)", "y0": "\(grid.y0)",
        ])
        label = engine.label("summa panel gemm")
        labels = ["A tile", "B tile", "C tile", "A panel", "A panel next", "B panel", "B panel next"].map { engine.label($0) }
        var routes = Array(repeating: Int32(-1), count: grid.coreCount * 4)
        for i in 0..<py {
            for j in 0..<px {
                let c = grid.core(px: j, py: i), idx = (i * px + j) * 4
                if j > 0 { routes[idx] = try engine.route(from: c, colour: j, legs: [RouteLeg(.west, j, deliverAlong: true)]) }
                if j < px - 1 { routes[idx + 1] = try engine.route(from: c, colour: j, legs: [RouteLeg(.east, px - 1 - j, deliverAlong: true)]) }
                if i > 0 { routes[idx + 2] = try engine.route(from: c, colour: px + i, legs: [RouteLeg(.north, i, deliverAlong: true)]) }
                if i < py - 1 { routes[idx + 3] = try engine.route(from: c, colour: px + i, legs: [RouteLeg(.south, py - 1 - i, deliverAlong: true)]) }
            }
        }
        self.routes = routes
        if let store = engine.store {
            let (a, b) = try shape.inputs(a, b)
            for i in 0..<py {
                for j in 0..<px {
                    let c = grid.core(px: j, py: i)
                    store[c, 0] = a.tile(i, j, mt, aPanels * kp)
                    store[c, 1] = b.tile(i, j, bPanels * kp, nt)
                    store[c, 2] = [Float](repeating: 0, count: mt * nt)
                    stage(step: 0, core: c, i: i, j: j, store: store)
                }
            }
        }
    }

    /// Gathers C after a run with payloads.
    public func result(_ store: PayloadStore) -> Matrix {
        var c = Matrix(rows: shape.m, cols: shape.n)
        for i in 0..<grid.rows { for j in 0..<grid.cols { c.setTile(i, j, mt, nt, store[grid.core(px: j, py: i), 2]) } }
        return c
    }

    public func op(core: Int, pc: Int) -> MeshOp? {
        guard let (j, i) = grid.offsets(of: core) else { return nil }
        let eb = elementBytes
        let sizes = [mt * aPanels * kp, bPanels * kp * nt, mt * nt, mt * kp, mt * kp, kp * nt, kp * nt]
        if pc < 7 { return .alloc(label: labels[pc], bytes: sizes[pc] * eb) }
        if pc == 7 { return .begin(invocation: invocation) }
        let k = pc - 8
        if k < 5 * steps {
            let s = k / 5, r = k % 5
            let aOwner = s / aPanels, bOwner = s / bPanels
            let idx = (i * grid.cols + j) * 4
            switch r {
            case 0, 1:
                if j == aOwner {
                    let route = routes[idx + r]
                    return route < 0 ? .nop : .send(route: route, bytes: mt * kp * eb, buffer: 3)
                }
                return r == 0 ? .recv(colour: Int32(aOwner), buffer: 3) : .nop
            case 2, 3:
                if i == bOwner {
                    let route = routes[idx + r]
                    return route < 0 ? .nop : .send(route: route, bytes: kp * nt * eb, buffer: 4)
                }
                return r == 2 ? .recv(colour: Int32(grid.cols + bOwner), buffer: 4) : .nop
            default:
                return .compute(macs: mt * kp * nt, label: label, work: Int32(s))
            }
        }
        let e = k - 5 * steps
        if e == 0 { return .end(invocation: invocation) }
        if e <= 7 { return .free(label: labels[7 - e]) }
        return nil
    }

    public func execute(work: Int32, core: Int, store: PayloadStore) {
        var c = store[core, 2]
        store[core, 2] = []
        TileMath.gemmAccumulate(store[core, 3], store[core, 4], &c, m: mt, k: kp, n: nt)
        store[core, 2] = c
        guard let (j, i) = grid.offsets(of: core) else { return }
        stage(step: Int(work) + 1, core: core, i: i, j: j, store: store)
    }

    /// An owner copies panel `step` out of its tiles into the panel buffers before sending it.
    private func stage(step s: Int, core: Int, i: Int, j: Int, store: PayloadStore) {
        guard s < steps else { return }
        if s / aPanels == j {
            let q = s % aPanels, a = store[core, 0], w = aPanels * kp
            store[core, 3] = (0..<(mt * kp)).map { e in a[(e / kp) * w + q * kp + e % kp] }
        }
        if s / bPanels == i {
            let q = s % bPanels, b = store[core, 1]
            store[core, 4] = Array(b[(q * kp * nt)..<((q + 1) * kp * nt)])
        }
    }
}
