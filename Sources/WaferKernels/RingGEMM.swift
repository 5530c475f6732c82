import WaferMesh
import WaferSpec

/// The problem size of a matrix product `C[m×n] = A[m×k] · B[k×n]`.
public struct GEMMShape: Hashable, Sendable {
    public var m: Int, k: Int, n: Int
    public init(m: Int, k: Int, n: Int) { self.m = m; self.k = k; self.n = n }

    func check() throws {
        guard m > 0, k > 0, n > 0 else { throw KernelError.shape("m, k, n must be positive (got \(m), \(k), \(n))") }
    }

    /// The inputs of a run with payloads, checked against the shape: A is m×k, B is k×n (or n×k
    /// when `transposedB`, for C = A·Bᵀ).
    func inputs(_ a: Matrix?, _ b: Matrix?, transposedB: Bool = false) throws -> (Matrix, Matrix) {
        guard let a, let b else { throw KernelError.shape("a run with payloads needs the A and B matrices") }
        let (br, bc) = transposedB ? (n, k) : (k, n)
        guard a.rows == m, a.cols == k, b.rows == br, b.cols == bc else {
            throw KernelError.shape("A is \(a.rows)x\(a.cols) and B \(b.rows)x\(b.cols), expected \(m)x\(k) and \(br)x\(bc)")
        }
        return (a, b)
    }
}

/// Cannon-style compute–shift GEMM on a P×P grid: **MeshGEMM** (interleaved rings) or **Cannon**
/// (plain wraparound rings). The two differ only in the ring laid on each row and column.
///
/// Layout: the core at logical (row I, column J) — physical offsets (order[J], order[I]) — starts
/// with A tile (I, J), B tile ((I + J) mod P, J) (B, the weights, is placed pre-skewed) and
/// accumulates C tile (I, J). Alignment shifts row I of A by I ring steps, the shorter way round
/// (≤ ⌊P/2⌋ rounds). Then P steps: send A to the ring predecessor along X and B along Y
/// (asynchronous, so the transfer overlaps the local GEMM), C += A·B, receive the next A and B.
/// A, B tiles are double-buffered: 2·(A + B) + C per core, and the program keeps to that: a core
/// sends its next tile only after the receiver's one-wavelet credit says its spare buffer is free
/// (credit-based flow control, as a real double-buffered kernel must; without it a fast core could
/// run arbitrarily far ahead into memory that does not exist). A shift therefore costs a data
/// trip plus a credit trip back along the ring, which is where Cannon's wraparound shows.
///
/// Colours: shifts towards the predecessor use colour `base + (sender ring index mod 3)`; a
/// route longer than 2 hops (Cannon's wraparound) gets its own colour. Data: rows 0–3, alignment
/// towards the successor 4–7, columns 8–11; credits: rows 12–15, columns 16–19, credits of
/// alignment towards the successor 20–23.
///
/// A non-square mesh runs on its top-left min(W, H)² square (the other cores idle).
public struct RingGEMM: MeshProgram {
    public enum Variant: String, Sendable { case meshgemm, cannon }

    public let variant: Variant
    public let grid: KernelGrid
    public let shape: GEMMShape
    /// Grid side P.
    public let side: Int
    /// Tile sizes (padded).
    public let mt: Int, kt: Int, nt: Int
    let order: [Int]
    let invocation: Int32
    let label: Int32
    let labels: (a: Int32, a2: Int32, b: Int32, b2: Int32, c: Int32)
    let elementBytes: Int
    /// Per core of the square (index py * side + px): its routes, the colours it receives on and
    /// how its row aligns, worked out once at set-up (the op function is on the engine's hot path:
    /// one record read, no modulo or ring lookups per op).
    var plans: [CorePlan]
    /// Tile bytes and the local GEMM's MACs (per op, precomputed).
    let aBytes: Int, bBytes: Int, cBytes: Int, tileMACs: Int
    /// Grid offsets of a core without a hardware division.
    let divider: GridDivider

    /// What one core sends on and receives on.
    struct CorePlan {
        /// Routes: data to the ring predecessor along X (`left`) and Y (`up`); alignment data to
        /// the successor along X (`right`, rows aligning that way); credits to the successors
        /// along X and Y and (alignment towards the successor) to the predecessor.
        var left: Int32 = -1, right: Int32 = -1, up: Int32 = -1
        var creditRight: Int32 = -1, creditDown: Int32 = -1, creditLeft: Int32 = -1
        /// Compute–shift steps: credits from the row and column predecessors, data from the successors.
        var creditX: Int32 = 0, creditY: Int32 = 0, dataX: Int32 = 0, dataY: Int32 = 0
        /// Alignment: the target's credit and the incoming A tile.
        var alignCredit: Int32 = 0, alignData: Int32 = 0
        /// Alignment rounds of the core's row, and whether they go towards the ring successor.
        var alignRounds: Int32 = 0
        var towardsSuccessor = false
    }

    /// Declares the routes on `engine`; with payloads, scatters `a` and `b` into the cores' buffers.
    public init(_ variant: Variant, engine: MeshEngine, grid full: KernelGrid, shape: GEMMShape,
                a: Matrix? = nil, b: Matrix? = nil) throws {
        try shape.check()
        let p = min(full.rows, full.cols)
        let grid = try KernelGrid(geometry: full.geometry, x0: full.x0, y0: full.y0, rows: p, cols: p)
        self.variant = variant
        self.grid = grid
        self.shape = shape
        side = p
        mt = ceilDiv(shape.m, p); kt = ceilDiv(shape.k, p); nt = ceilDiv(shape.n, p)
        order = variant == .meshgemm ? RingOrder.interleaved(p) : RingOrder.plain(p)
        elementBytes = engine.spec.elementBytes
        invocation = engine.invocation(name: variant.rawValue, params: [
            "kernel": "gemm", "algorithm": variant.rawValue, "m": "\(shape.m)", "k": "\(shape.k)", "n": "\(shape.n)",
            "grid": "\(p)x\(p)", "x0": "\(grid.x0)", "y0": "\(grid.y0)",
        ])
        label = engine.label("\(variant.rawValue) tile gemm")
        labels = (engine.label("A tile"), engine.label("A next"), engine.label("B tile"), engine.label("B next"), engine.label("C tile"))
        aBytes = mt * kt * elementBytes; bBytes = kt * nt * elementBytes; cBytes = mt * nt * elementBytes
        tileMACs = mt * kt * nt
        plans = Array(repeating: CorePlan(), count: p * p)
        divider = GridDivider(grid)
        guard p > 1 else { try scatter(engine, a, b); return }
        for bigI in 0..<p {
            for bigJ in 0..<p {
                let idx = order[bigI] * p + order[bigJ]
                let src = grid.core(px: order[bigJ], py: order[bigI])
                let (rounds, towards) = alignRounds(row: bigI)
                var plan = CorePlan()
                plan.alignRounds = Int32(rounds)
                plan.towardsSuccessor = towards
                plan.left = try Self.ringRoute(engine, grid, from: (order[bigJ], order[bigI]), to: (order[(bigJ + p - 1) % p], order[bigI]),
                                               colour: colour(base: 0, senderIndex: bigJ, step: -1), source: src)
                if towards {
                    plan.right = try Self.ringRoute(engine, grid, from: (order[bigJ], order[bigI]), to: (order[(bigJ + 1) % p], order[bigI]),
                                                    colour: colour(base: 4, senderIndex: bigJ, step: 1), source: src)
                }
                plan.up = try Self.ringRoute(engine, grid, from: (order[bigJ], order[bigI]), to: (order[bigJ], order[(bigI + p - 1) % p]),
                                             colour: colour(base: 8, senderIndex: bigI, step: -1), source: src)
                plan.creditRight = try Self.ringRoute(engine, grid, from: (order[bigJ], order[bigI]), to: (order[(bigJ + 1) % p], order[bigI]),
                                                      colour: colour(base: 12, senderIndex: bigJ, step: 1), source: src)
                plan.creditDown = try Self.ringRoute(engine, grid, from: (order[bigJ], order[bigI]), to: (order[bigJ], order[(bigI + 1) % p]),
                                                     colour: colour(base: 16, senderIndex: bigI, step: 1), source: src)
                if towards {
                    plan.creditLeft = try Self.ringRoute(engine, grid, from: (order[bigJ], order[bigI]), to: (order[(bigJ + p - 1) % p], order[bigI]),
                                                         colour: colour(base: 20, senderIndex: bigJ, step: -1), source: src)
                }
                let target = towards ? (bigJ + 1) % p : (bigJ + p - 1) % p, from = towards ? (bigJ + p - 1) % p : (bigJ + 1) % p
                plan.creditX = Int32(colour(base: 12, senderIndex: (bigJ + p - 1) % p, step: 1))
                plan.creditY = Int32(colour(base: 16, senderIndex: (bigI + p - 1) % p, step: 1))
                plan.dataX = Int32(colour(base: 0, senderIndex: (bigJ + 1) % p, step: -1))
                plan.dataY = Int32(colour(base: 8, senderIndex: (bigI + 1) % p, step: -1))
                plan.alignCredit = Int32(towards ? colour(base: 20, senderIndex: target, step: -1) : colour(base: 12, senderIndex: target, step: 1))
                plan.alignData = Int32(colour(base: towards ? 4 : 0, senderIndex: from, step: towards ? 1 : -1))
                plans[idx] = plan
            }
        }
        try scatter(engine, a, b)
    }

    static func ringRoute(_ e: MeshEngine, _ g: KernelGrid, from: (Int, Int), to: (Int, Int), colour: Int, source: Int) throws -> Int32 {
        try e.routeXY(from: source, to: g.core(px: to.0, py: to.1), colour: colour)
    }

    /// Colour of the route from ring index `k` to ring index `k + step`.
    func colour(base: Int, senderIndex k: Int, step: Int) -> Int {
        let to = (k + step + side) % side
        return abs(order[to] - order[k]) > 2 ? base + 3 : base + k % 3
    }

    /// How row `I` aligns A: the number of ring steps and their direction.
    func alignRounds(row bigI: Int) -> (rounds: Int, towardsSuccessor: Bool) {
        bigI <= side / 2 ? (bigI, false) : (side - bigI, true)
    }

    private func scatter(_ engine: MeshEngine, _ a: Matrix?, _ b: Matrix?) throws {
        guard let store = engine.store else { return }
        let (a, b) = try shape.inputs(a, b)
        for bigI in 0..<side {
            for bigJ in 0..<side {
                let c = grid.core(px: order[bigJ], py: order[bigI])
                store[c, 0] = a.tile(bigI, bigJ, mt, kt)
                store[c, 1] = b.tile((bigI + bigJ) % side, bigJ, kt, nt)
                store[c, 2] = [Float](repeating: 0, count: mt * nt)
            }
        }
    }

    /// Gathers C from the cores after a run with payloads.
    public func result(_ store: PayloadStore) -> Matrix {
        var c = Matrix(rows: shape.m, cols: shape.n)
        for bigI in 0..<side {
            for bigJ in 0..<side {
                c.setTile(bigI, bigJ, mt, nt, store[grid.core(px: order[bigJ], py: order[bigI]), 2])
            }
        }
        return c
    }

    // MARK: - The program

    /// - Complexity: O(1): a multiply-shift for the core's offsets and one record read.
    public func op(core: Int, pc: Int) -> MeshOp? {
        guard let (px, py) = divider.offsets(of: core) else { return nil }
        var pc = pc
        // Prologue: allocations and the invocation mark.
        if pc < 6 {
            switch pc {
            case 0: return .alloc(label: labels.a, bytes: aBytes)
            case 1: return .alloc(label: labels.a2, bytes: aBytes)
            case 2: return .alloc(label: labels.b, bytes: bBytes)
            case 3: return .alloc(label: labels.b2, bytes: bBytes)
            case 4: return .alloc(label: labels.c, bytes: cBytes)
            default: return .begin(invocation: invocation)
            }
        }
        pc -= 6
        let plan = plans[py &* side &+ px]
        // Alignment of A: per round [credit in, send, receive, credit out], 4 ops (nops at the ends).
        let rounds = Int(plan.alignRounds)
        if pc < 4 &* rounds {
            let r = pc >> 2
            switch pc & 3 {
            case 0:
                // The target's spare buffer is free again once it has passed on the previous round.
                return r >= 1 ? .recv(colour: plan.alignCredit, buffer: -1) : .nop
            case 1: return .send(route: plan.towardsSuccessor ? plan.right : plan.left, bytes: aBytes, buffer: 0)
            case 2: return .recv(colour: plan.alignData, buffer: 0)
            default:
                return r < rounds &- 1 ? .send(route: plan.towardsSuccessor ? plan.creditLeft : plan.creditRight, bytes: 4, buffer: -1) : .nop
            }
        }
        pc &-= 4 &* rounds
        // P compute–shift steps of 9 ops: credits in, sends, compute, receives, credits out.
        if pc < 9 &* side {
            let s = pc / 9, r = pc &- 9 &* s
            let last = s == side &- 1
            switch r {
            case 0: return s >= 1 && !last ? .recv(colour: plan.creditX, buffer: -1) : .nop
            case 1: return s >= 1 && !last ? .recv(colour: plan.creditY, buffer: -1) : .nop
            case 2: return last ? .nop : .send(route: plan.left, bytes: aBytes, buffer: 0)
            case 3: return last ? .nop : .send(route: plan.up, bytes: bBytes, buffer: 1)
            case 4: return .compute(macs: tileMACs, label: label, work: 0)
            case 5: return last ? .nop : .recv(colour: plan.dataX, buffer: 0)
            case 6: return last ? .nop : .recv(colour: plan.dataY, buffer: 1)
            // Credits are one wavelet.
            case 7: return s < side &- 2 ? .send(route: plan.creditRight, bytes: 4, buffer: -1) : .nop
            default: return s < side &- 2 ? .send(route: plan.creditDown, bytes: 4, buffer: -1) : .nop
            }
        }
        pc &-= 9 &* side
        switch pc {
        case 0: return .end(invocation: invocation)
        case 1: return .free(label: labels.c)
        case 2: return .free(label: labels.b2)
        case 3: return .free(label: labels.b)
        case 4: return .free(label: labels.a2)
        case 5: return .free(label: labels.a)
        default: return nil
        }
    }

    public func execute(work: Int32, core: Int, store: PayloadStore) {
        var c = store[core, 2]
        store[core, 2] = []   // keep `c` uniquely referenced: accumulate in place
        TileMath.gemmAccumulate(store[core, 0], store[core, 1], &c, m: mt, k: kt, n: nt)
        store[core, 2] = c
    }
}
