import WaferMesh
import WaferSpec

/// Distributed GEMV `y[C] = x[R] · W[R×C]` on a grid of Py × Px cores (decode).
///
/// Core (column j, row i) holds block i of x (x is split along Y and replicated along X) and the
/// tile W[i-th block of rows, j-th block of columns]. Each core computes its partial
/// `x_i · W_ij` (⌈R/Py⌉·⌈C/Px⌉ MACs), then an allreduce along its column sums the partials, so
/// every core of column j ends with y_j. The allreduce is MeshGEMV's K-tree, or the pipeline or
/// ring baseline (`LineAlgorithm`).
public struct MeshGEMV: MeshProgram {
    public let grid: KernelGrid
    public let rows: Int, cols: Int
    public let algorithm: LineAlgorithm
    public let rt: Int, ct: Int
    let plan: LinePlan
    let invocation: Int32
    let label: Int32
    let labels: (x: Int32, w: Int32, y: Int32, incoming: Int32, staging: Int32)
    let elementBytes: Int
    /// Grid offsets without a hardware division, and the allreduce's op table without a
    /// reference to retain (`plan` keeps it alive): the op function is on the engine's hot path.
    let divider: GridDivider
    let view: LineOpView
    static let work = Int32(1)

    public init(engine: MeshEngine, grid: KernelGrid, rows: Int, cols: Int, algorithm: LineAlgorithm,
                x: [Float]? = nil, w: Matrix? = nil) throws {
        guard rows > 0, cols > 0 else { throw KernelError.shape("rows and cols must be positive (got \(rows), \(cols))") }
        self.grid = grid
        self.rows = rows; self.cols = cols
        self.algorithm = algorithm
        rt = ceilDiv(rows, grid.rows)
        ct = ceilDiv(cols, grid.cols)
        elementBytes = engine.spec.elementBytes
        let schedule = LineSchedule.make(algorithm, n: grid.rows, elements: ct, colourBase: 0)
        plan = try LinePlan(engine: engine, grid: grid, axis: .y, schedule: schedule,
                            slots: (acc: 2, incoming: 3, staging: 4), label: "\(algorithm.name) allreduce")
        divider = GridDivider(grid)
        view = plan.table.view
        var params = ["kernel": "gemv", "algorithm": algorithm.name, "rows": "\(rows)", "cols": "\(cols)",
                      "grid": "\(grid.cols)x\(grid.rows)", "x0": "\(grid.x0)", "y0": "\(grid.y0)"]
        if case .ktree(let g) = algorithm { params["groups"] = "\(g)" }
        invocation = engine.invocation(name: "gemv-\(algorithm.name)", params: params)
        label = engine.label("local gemv")
        labels = (engine.label("x block"), engine.label("W tile"), engine.label("y partial"),
                  engine.label("incoming"), engine.label("staging"))
        if let store = engine.store {
            guard let x, let w else { throw KernelError.shape("a run with payloads needs x and W") }
            guard x.count == rows, w.rows == rows, w.cols == cols else {
                throw KernelError.shape("x has \(x.count) elements and W is \(w.rows)x\(w.cols), expected \(rows) and \(rows)x\(cols)")
            }
            let xm = Matrix(rows: 1, cols: rows, values: x)
            for i in 0..<grid.rows {
                for j in 0..<grid.cols {
                    let c = grid.core(px: j, py: i)
                    store[c, 0] = xm.tile(0, i, 1, rt)
                    store[c, 1] = w.tile(i, j, rt, ct)
                }
            }
        }
    }

    /// y, gathered from row 0 of the grid after a run with payloads.
    public func result(_ store: PayloadStore) -> [Float] {
        var y = Matrix(rows: 1, cols: cols)
        for j in 0..<grid.cols { y.setTile(0, j, 1, ct, store[grid.core(px: j, py: 0), 2]) }
        return y.values
    }

    /// The largest difference between any core's copy of y_j and the first row's.
    public func replicaSpread(_ store: PayloadStore) -> Float {
        var worst: Float = 0
        for j in 0..<grid.cols {
            let ref = store[grid.core(px: j, py: 0), 2]
            for i in 1..<max(1, grid.rows) {
                for (a, b) in zip(ref, store[grid.core(px: j, py: i), 2]) { worst = max(worst, abs(a - b)) }
            }
        }
        return worst
    }

    /// - Complexity: O(1): a multiply-shift for the core's offsets and one table record.
    public func op(core: Int, pc: Int) -> MeshOp? {
        guard let (px, py) = divider.offsets(of: core) else { return nil }
        let eb = elementBytes
        switch pc {
        case 0: return .alloc(label: labels.x, bytes: rt * eb)
        case 1: return .alloc(label: labels.w, bytes: rt * ct * eb)
        case 2: return .alloc(label: labels.y, bytes: ct * eb)
        case 3: return .alloc(label: labels.incoming, bytes: ct * eb)
        case 4: return .alloc(label: labels.staging, bytes: ceilDiv(ct, grid.rows) * eb)
        case 5: return .begin(invocation: invocation)
        case 6: return .compute(macs: rt * ct, label: label, work: Self.work)
        default: break
        }
        // The allreduce runs along Y: line = column px, position = row py.
        let k = pc - 7, n = view.count(position: py)
        if k < n {
            return view.op(line: px, position: py, pc: k, lineElements: plan.lineElements?[px], elementBytes: eb, label: plan.label)
        }
        switch k - n {
        case 0: return .end(invocation: invocation)
        case 1: return .free(label: labels.staging)
        case 2: return .free(label: labels.incoming)
        case 3: return .free(label: labels.y)
        case 4: return .free(label: labels.w)
        case 5: return .free(label: labels.x)
        default: return nil
        }
    }

    public func execute(work: Int32, core: Int, store: PayloadStore) {
        if work == Self.work {
            store[core, 2] = TileMath.gemv(store[core, 0], store[core, 1], k: rt, n: ct)
            store[core, 4] = []
        } else {
            _ = plan.execute(code: work, core: core, store: store)
        }
    }
}
