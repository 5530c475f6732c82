import WaferMesh
import WaferSpec

/// A MeshGEMM or GEMM-T whose operands already live in the cores' payload slots: the prefill
/// projections and attention products of a model whose weights and KV cache stay where decode
/// keeps them.
///
/// Blocks are named by *physical* row and column of a P×P grid. Both axes are laid out as
/// interleaved rings internally, so every shift is a ring step of at most 2 hops.
///
/// - `.meshgemm`: `C(I, J) = Σ_K A(I, K) · B(K, J)` with A(I, K) on core (column K, row I),
///   B(K, J) on core (column J, row K) — the standard blocked placement — and C(I, J) built on
///   core (J, I). Cannon-style compute–shift: A's rows and B's columns are first aligned (ring
///   steps the shorter way round), then P steps of local product plus shift (A towards the ring
///   predecessor along X, B along Y). B is the *resident* operand (weights, a V cache): it takes
///   one more step, which brings it back to its aligned position, and is then un-aligned, so it
///   ends where it started.
/// - `.gemmt`: `C(I, J) = Σ_K A(I, K) ⋆ B(J, K)` with B(J, K) on core (column K, row J): only B
///   moves (P steps along Y, after which it is home again); each step's partial products are
///   summed along X with a K-tree ReduceAdd into the column whose index is the B block's home
///   row, and that core keeps C(I, J). Nothing is transposed.
///
/// Every shift sequence is double-buffered with credit flow control: before a sequence each core
/// tells the core that will send to it that its spare buffer is free, and after each receive it
/// frees it again, so no core ever sends into memory that is still in use.
///
/// The tile arithmetic is the caller's (`Product`): the same schedule runs a plain GEMM, A·Bᵀ and
/// head-aware attention products. The engine is charged `Tiles` — padded per-step sizes, the
/// same on every core, as a fixed-size SPMD kernel would be compiled.
///
/// Colours: `.meshgemm` uses 0–23 (A: data to predecessor 0–2, to successor 3–5, credits to
/// successor 6–8, to predecessor 9–11; B the same from 12); `.gemmt` uses 0–7 for the ReduceAdd,
/// 8–10 for B and 14–16 for its credits.
public struct ResidentGEMM: MeshProgram {
    public enum Form: String, Sendable { case meshgemm, gemmt }

    /// The payload slots the kernel reads and writes on every core.
    public struct Slots: Sendable {
        /// A tile (consumed by `.meshgemm`: it ends wherever the shifts leave it).
        public var a: Int32
        /// The resident B tile (ends where it started).
        public var b: Int32
        /// C: accumulated in place by `.meshgemm` (the caller zeroes it); written by `.gemmt`'s keep.
        public var c: Int32
        /// `.gemmt`: the partial products and the ReduceAdd's buffers.
        public var acc: Int32, incoming: Int32, staging: Int32
        public init(a: Int32, b: Int32, c: Int32, acc: Int32, incoming: Int32, staging: Int32) {
            self.a = a; self.b = b; self.c = c; self.acc = acc; self.incoming = incoming; self.staging = staging
        }
    }

    /// What one step costs on every core: padded sizes, in elements.
    public struct Tiles: Sendable {
        public var macs: Int
        public var aElements: Int
        public var bElements: Int
        /// `.gemmt`: elements of one partial tile (what the ReduceAdd carries); also C's size.
        public var cElements: Int
        public init(macs: Int, aElements: Int, bElements: Int, cElements: Int) {
            self.macs = macs; self.aElements = aElements; self.bElements = bElements; self.cElements = cElements
        }
    }

    /// The local product of one step on `core`. `block` is the physical index of the K block the
    /// core holds (`.meshgemm`: A's column block and B's row block) or of the B tile's home row
    /// (`.gemmt`). `.meshgemm` accumulates into `slots.c`; `.gemmt` writes the partial to `slots.acc`.
    public typealias Product = @Sendable (_ core: Int, _ block: Int, _ store: PayloadStore) -> Void

    /// The routes of one form on one grid, declared once and shared by every use.
    public final class Routes {
        public let form: Form
        public let grid: KernelGrid
        public let side: Int
        let order: [Int], inverse: [Int]
        /// Per physical core (`py * side + px`): its routes and the colours it receives on.
        let info: UnsafeMutablePointer<CoreRing>
        /// `.gemmt`: one ReduceAdd plan per root column (routes shared), and op counts per (root, column).
        let plans: [LinePlan]
        let reduceCounts: UnsafeMutablePointer<Int>
        /// The plans' op tables, read through views (no reference counting on the hot path).
        let tables: [LineOpTable]
        let views: UnsafeMutablePointer<LineOpView>
        /// `.gemmt`: the ReduceAdd's buffers the plans receive into (every use must pass these).
        let reduceSlots: (acc: Int32, incoming: Int32, staging: Int32)

        /// Declares the routes on `engine`.
        ///
        /// - Parameters:
        ///   - grid: a square grid (P×P).
        ///   - groups: K-tree groups of `.gemmt`'s ReduceAdd (default ≈ √P).
        ///   - slots: `.gemmt`: the ReduceAdd's buffers (acc, incoming, staging).
        public init(_ form: Form, engine: MeshEngine, grid: KernelGrid, groups: Int? = nil,
                    slots: (acc: Int32, incoming: Int32, staging: Int32) = (0, 1, 2), label: String = "reduce-add") throws {
            guard grid.rows == grid.cols else {
                throw KernelError.shape("a resident GEMM needs a square grid, not \(grid.cols)x\(grid.rows)")
            }
            let p = grid.rows
            reduceSlots = slots
            self.form = form
            self.grid = grid
            side = p
            let order = RingOrder.interleaved(p)
            self.order = order
            inverse = RingOrder.inverse(order)
            let none = [Int32](repeating: -1, count: p * p)
            var aP = none, aS = none, aCP = none, aCS = none, bP = none, bS = none, bCP = none, bCS = none
            func ring(_ from: Int, _ to: Int, along x: Bool, line: Int, colour: Int) throws -> Int32 {
                let src = x ? grid.core(px: order[from], py: line) : grid.core(px: line, py: order[from])
                let dst = x ? grid.core(px: order[to], py: line) : grid.core(px: line, py: order[to])
                return try engine.routeXY(from: src, to: dst, colour: colour)
            }
            if p > 1 {
                for line in 0..<p {
                    for k in 0..<p {
                        let pred = (k + p - 1) % p, succ = (k + 1) % p
                        let xi = line * p + order[k]          // core (order[k], line): ring index k along X
                        let yi = order[k] * p + line          // core (line, order[k]): ring index k along Y
                        switch form {
                        case .meshgemm:
                            aP[xi] = try ring(k, pred, along: true, line: line, colour: 0 + k % 3)
                            aS[xi] = try ring(k, succ, along: true, line: line, colour: 3 + k % 3)
                            aCS[xi] = try ring(k, succ, along: true, line: line, colour: 6 + k % 3)
                            aCP[xi] = try ring(k, pred, along: true, line: line, colour: 9 + k % 3)
                            bP[yi] = try ring(k, pred, along: false, line: line, colour: 12 + k % 3)
                            bS[yi] = try ring(k, succ, along: false, line: line, colour: 15 + k % 3)
                            bCS[yi] = try ring(k, succ, along: false, line: line, colour: 18 + k % 3)
                            bCP[yi] = try ring(k, pred, along: false, line: line, colour: 21 + k % 3)
                        case .gemmt:
                            bP[yi] = try ring(k, pred, along: false, line: line, colour: 8 + k % 3)
                            bCS[yi] = try ring(k, succ, along: false, line: line, colour: 14 + k % 3)
                        }
                    }
                }
            }
            info = .allocate(capacity: max(1, p * p))
            let inverse = self.inverse
            for py in 0..<p {
                for px in 0..<p {
                    let idx = py * p + px
                    // A travels along X (ring index of px), B along Y (ring index of py).
                    let ka = inverse[px], kb = inverse[py]
                    let aPredK = (ka + p - 1) % p, aSuccK = (ka + 1) % p, bPredK = (kb + p - 1) % p, bSuccK = (kb + 1) % p
                    let bData = form == .gemmt ? 8 : 12, bCredit = form == .gemmt ? 14 : 18
                    info[idx] = CoreRing(
                        routes: (aP[idx], aS[idx], aCP[idx], aCS[idx], bP[idx], bS[idx], bCP[idx], bCS[idx]),
                        colours: (Int32(0 + aSuccK % 3), Int32(3 + aPredK % 3), Int32(6 + aPredK % 3), Int32(9 + aSuccK % 3),
                                  Int32(bData + bSuccK % 3), Int32(bData + 3 + bPredK % 3),
                                  Int32(bCredit + bPredK % 3), Int32(bCredit + 3 + bSuccK % 3)),
                        ringA: Int32(ka), ringB: Int32(kb))
                }
            }
            var plans: [LinePlan] = [], counts: [Int] = []
            if form == .gemmt {
                let g = groups ?? LineAlgorithm.defaultGroups(p)
                let cache = RouteCache()
                for root in 0..<p {
                    let sched = LineSchedule.ktree(n: p, elements: 1, groups: g, root: root, broadcast: false, colourBase: 0)
                    let plan = try LinePlan(engine: engine, grid: grid, axis: .x, schedule: sched, slots: slots, label: label, cache: cache)
                    plans.append(plan)
                    for j in 0..<p { counts.append(plan.count(position: j)) }
                }
            }
            self.plans = plans
            reduceCounts = .allocate(capacity: max(1, counts.count))
            reduceCounts.initialize(from: counts, count: counts.count)
            tables = plans.map(\.table)
            views = .allocate(capacity: max(1, plans.count))
            views.initialize(from: tables.map(\.view), count: plans.count)
        }

        deinit {
            info.deallocate()
            reduceCounts.deallocate()
            views.deallocate()
        }
    }

    /// One core's part of the rings: route ids (−1: none) and the colours of what it receives.
    struct CoreRing {
        /// A to predecessor, A to successor, A credit to predecessor, A credit to successor, then B's four.
        var routes: (Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32)
        /// A data from successor, A data from predecessor, A credit from predecessor, A credit from
        /// successor, then B's four.
        var colours: (Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32)
        var ringA: Int32, ringB: Int32
    }

    public var form: Form { routes.form }
    public var grid: KernelGrid { routes.grid }
    public let side: Int
    public let slots: Slots
    public let tiles: Tiles
    let routes: Routes
    let order: [Int], inverse: [Int]
    let invocation: Int32
    let label: Int32, keepLabel: Int32
    let spareLabels: (a: Int32, b: Int32)
    let elementBytes: Int
    let product: Product?
    let info: UnsafeMutablePointer<CoreRing>
    /// `.gemmt`: the ReduceAdd plans' tables and op counts per (root, column).
    let views: UnsafeMutablePointer<LineOpView>
    let reduceCounts: UnsafeMutablePointer<Int>
    let reduceLabel: Int32
    let hasProduct: Bool
    let cursor: StepCursor
    let divider: GridDivider
    /// The caller's part of the replay key (`replayable(key:)`); nil: always simulated.
    private(set) var callerKey: AnyHashable?
    static let keepWork = Int32(1), productWorkBase = Int32(16)

    /// One use of declared routes.
    ///
    /// - Parameters:
    ///   - slots: the payload slots (for `.gemmt`, acc/incoming/staging must be the routes' own).
    ///   - invocation: the kernel mark the run is recorded under (`MeshEngine.invocation`).
    ///   - product: the real arithmetic (nil for timing-only runs).
    public init(routes: Routes, engine: MeshEngine, slots: Slots, tiles: Tiles, invocation: Int32, label: String,
                product: Product?) {
        precondition(routes.form == .meshgemm || (slots.acc, slots.incoming, slots.staging) == routes.reduceSlots,
                     "a GEMM-T use must pass the ReduceAdd slots its routes were declared with")
        self.routes = routes
        side = routes.side
        self.slots = slots
        self.tiles = tiles
        self.invocation = invocation
        self.product = product
        order = routes.order
        inverse = routes.inverse
        elementBytes = engine.spec.elementBytes
        self.label = engine.label(label)
        keepLabel = engine.label("\(label): keep C")
        spareLabels = (engine.label("A next"), engine.label("B next"))
        divider = GridDivider(routes.grid)
        cursor = StepCursor(coreCount: routes.form == .gemmt ? routes.grid.geometry.coreCount : 0)
        info = routes.info
        views = routes.views
        reduceCounts = routes.reduceCounts
        reduceLabel = routes.plans.first?.label ?? -1
        hasProduct = product != nil
    }

    /// Declares the routes and makes one use of them (a single run).
    public init(_ form: Form, engine: MeshEngine, grid: KernelGrid, slots: Slots, tiles: Tiles,
                invocation: Int32, label: String, groups: Int? = nil, product: Product?) throws {
        let routes = try Routes(form, engine: engine, grid: grid, groups: groups, slots: (slots.acc, slots.incoming, slots.staging),
                                label: "\(label): reduce-add")
        self.init(routes: routes, engine: engine, slots: slots, tiles: tiles, invocation: invocation, label: label, product: product)
    }

    // MARK: - Ring bookkeeping

    /// Ring steps aligning line `k` (row k of A, column k of B): count, and whether towards the successor.
    @inline(__always) func alignment(_ k: Int) -> (rounds: Int, towardsSuccessor: Bool) {
        side < 2 ? (0, false) : (k <= side / 2 ? (k, false) : (side - k, true))
    }

    /// One operand's shift sequence on one core: its rounds and direction.
    struct Sequence {
        var rounds: Int
        var towardsSuccessor: Bool
    }

    /// The four ops of round `r` of a sequence (`slot`: 0 credit in, 1 send, 2 receive, 3 credit
    /// out) plus the ready credit (`slot` −1), for operand A (`isA`) or B on physical core `idx`.
    ///
    /// - Complexity: O(1), no division: routes and colours come from the core's `CoreRing`.
    @inline(__always)
    private func shiftOp(_ seq: Sequence, round r: Int, slot: Int, isA: Bool, idx: Int, buffer: Int32, elements: Int) -> MeshOp {
        guard r < seq.rounds || slot == -1, seq.rounds > 0 else { return .nop }
        let succ = seq.towardsSuccessor
        let ring = info[idx]
        let credit = 4
        switch slot {
        case -1:   // ready: "my spare buffer is free", to the source (against the data's direction)
            return .send(route: isA ? (succ ? ring.routes.2 : ring.routes.3) : (succ ? ring.routes.6 : ring.routes.7), bytes: credit, buffer: -1)
        case 0:    // the target's credit
            return .recv(colour: isA ? (succ ? ring.colours.3 : ring.colours.2) : (succ ? ring.colours.7 : ring.colours.6), buffer: -1)
        case 1:
            return .send(route: isA ? (succ ? ring.routes.1 : ring.routes.0) : (succ ? ring.routes.5 : ring.routes.4),
                         bytes: elements * elementBytes, buffer: buffer)
        case 2:    // data from the source
            return .recv(colour: isA ? (succ ? ring.colours.1 : ring.colours.0) : (succ ? ring.colours.5 : ring.colours.4), buffer: buffer)
        default:
            guard r < seq.rounds - 1 else { return .nop }
            return .send(route: isA ? (succ ? ring.routes.2 : ring.routes.3) : (succ ? ring.routes.6 : ring.routes.7), bytes: credit, buffer: -1)
        }
    }

    // MARK: - The program

    /// Prologue: spare-buffer allocations and the begin mark.
    private static let prologue = 3

    public func op(core: Int, pc: Int) -> MeshOp? {
        guard let (px, py) = divider.offsets(of: core) else { return nil }
        let idx = py * side + px
        let eb = elementBytes
        switch pc {
        case 0: return form == .meshgemm ? .alloc(label: spareLabels.a, bytes: tiles.aElements * eb) : .nop
        case 1: return .alloc(label: spareLabels.b, bytes: tiles.bElements * eb)
        case 2: return .begin(invocation: invocation)
        default: break
        }
        let k = pc - Self.prologue
        switch form {
        case .meshgemm: return meshOp(core: core, idx: idx, px: px, py: py, k: k)
        case .gemmt: return gemmtOp(core: core, idx: idx, px: px, py: py, k: k)
        }
    }

    /// The epilogue after the body: end mark and frees.
    @inline(__always) private func epilogue(_ k: Int) -> MeshOp? {
        switch k {
        case 0: return .end(invocation: invocation)
        case 1: return .free(label: spareLabels.b)
        case 2: return form == .meshgemm ? .free(label: spareLabels.a) : .nop
        default: return nil
        }
    }

    private func meshOp(core: Int, idx: Int, px: Int, py: Int, k pc: Int) -> MeshOp? {
        var k = pc
        let ring = info[idx]
        let bigI = Int(ring.ringB), bigJ = Int(ring.ringA)
        let alignA = alignment(bigI), alignB = alignment(bigJ)
        let seqA1 = Sequence(rounds: alignA.rounds, towardsSuccessor: alignA.towardsSuccessor)
        let seqB1 = Sequence(rounds: alignB.rounds, towardsSuccessor: alignB.towardsSuccessor)
        let seqA2 = Sequence(rounds: side - 1, towardsSuccessor: false)
        let seqB2 = Sequence(rounds: side > 1 ? side : 0, towardsSuccessor: false)
        let seqB3 = Sequence(rounds: alignB.rounds, towardsSuccessor: !alignB.towardsSuccessor)
        let aE = tiles.aElements, bE = tiles.bElements
        // Alignment: 2 ready credits, then per round [A cin, B cin, A send, B send, A recv, B recv, A cout, B cout].
        let alignRounds = max(seqA1.rounds, seqB1.rounds)
        let alignOps = alignRounds > 0 ? 2 + 8 * alignRounds : 0
        if k < alignOps {
            if k < 2 { return shiftOp(k == 0 ? seqA1 : seqB1, round: 0, slot: -1, isA: k == 0, idx: idx, buffer: -1, elements: 0) }
            let r = (k - 2) / 8, o = (k - 2) % 8
            let isA = o % 2 == 0
            return shiftOp(isA ? seqA1 : seqB1, round: r, slot: o / 2, isA: isA, idx: idx,
                           buffer: isA ? slots.a : slots.b, elements: isA ? aE : bE)
        }
        k -= alignOps
        // Compute–shift: 2 ready credits, then per step [A cin, B cin, A send, B send, product, A recv, B recv, A cout, B cout].
        let stepOps = 2 + 9 * side
        if k < stepOps {
            if k < 2 { return shiftOp(k == 0 ? seqA2 : seqB2, round: 0, slot: -1, isA: k == 0, idx: idx, buffer: -1, elements: 0) }
            let s = (k - 2) / 9, o = (k - 2) % 9
            if o == 4 {
                let block = order[(bigI + bigJ + s) % side]
                return .compute(macs: tiles.macs, label: label, work: !hasProduct ? -1 : Self.productWorkBase + Int32(block))
            }
            let slot = o < 4 ? o : o - 1
            let isA = slot % 2 == 0
            return shiftOp(isA ? seqA2 : seqB2, round: s, slot: slot / 2, isA: isA, idx: idx,
                           buffer: isA ? slots.a : slots.b, elements: isA ? aE : bE)
        }
        k -= stepOps
        // Restore B: 1 ready credit, then per round [cin, send, recv, cout].
        let restoreOps = seqB3.rounds > 0 ? 1 + 4 * seqB3.rounds : 0
        if k < restoreOps {
            if k == 0 { return shiftOp(seqB3, round: 0, slot: -1, isA: false, idx: idx, buffer: -1, elements: 0) }
            return shiftOp(seqB3, round: (k - 1) / 4, slot: (k - 1) % 4, isA: false, idx: idx, buffer: slots.b, elements: bE)
        }
        return epilogue(k - restoreOps)
    }

    /// Ops of `.gemmt` step `s` on the core in ring row `bigI`, column `px`:
    /// [credit in, send B, partial, ReduceAdd…, keep (root only), receive B, credit out].
    @inline(__always) private func gemmtStepLength(root: Int, px: Int) -> Int {
        5 + reduceCounts[root * side + px] + (px == root ? 1 : 0)
    }

    private func gemmtOp(core: Int, idx: Int, px: Int, py: Int, k pc: Int) -> MeshOp? {
        let bigI = Int(info[idx].ringB)
        let seq = Sequence(rounds: side > 1 ? side : 0, towardsSuccessor: false)
        if pc == 0 { return shiftOp(seq, round: 0, slot: -1, isA: false, idx: idx, buffer: -1, elements: 0) }
        var k = pc - 1
        // Find the step holding k from the core's cursor (ops are asked for in order).
        let cur = cursor.state + core
        var s = Int(cur.pointee.step), start = Int(cur.pointee.start)
        if k < start { s = 0; start = 0 }
        while s < side {
            let n = gemmtStepLength(root: order[(bigI + s) % side], px: px)
            if k < start + n { break }
            start += n
            s += 1
        }
        cur.pointee = StepCursor.State(step: Int32(s), start: Int32(start))
        guard s < side else { return epilogue(k - start) }
        k -= start
        let root = order[(bigI + s) % side]
        switch k {
        case 0: return shiftOp(seq, round: s, slot: 0, isA: false, idx: idx, buffer: slots.b, elements: tiles.bElements)
        case 1: return shiftOp(seq, round: s, slot: 1, isA: false, idx: idx, buffer: slots.b, elements: tiles.bElements)
        case 2: return .compute(macs: tiles.macs, label: label, work: !hasProduct ? -1 : Self.productWorkBase + Int32(root))
        default: break
        }
        k -= 3
        let r = reduceCounts[root * side + px]
        if k < r {
            return views[root].op(line: py, position: px, pc: k, lineElements: tiles.cElements, elementBytes: elementBytes, label: reduceLabel)
        }
        k -= r
        if px == root {
            if k == 0 { return .compute(macs: 0, label: keepLabel, work: !hasProduct ? -1 : Self.keepWork) }
            k -= 1
        }
        return shiftOp(seq, round: s, slot: k == 0 ? 2 : 3, isA: false, idx: idx, buffer: slots.b, elements: tiles.bElements)
    }

    public var executesPerCore: Bool { true }
    /// True: `op` reads immutable tables and moves only the asked core's step cursor.
    public var opsPerCore: Bool { true }

    // MARK: - Replay

    /// What a use's ops depend on besides its operand slots and kernel mark.
    struct ReplayKey: Hashable {
        let caller: AnyHashable
        let routes: ObjectIdentifier
        let side: Int
        let macs: Int, aElements: Int, bElements: Int, cElements: Int
        let labels: [Int32]
        let reduceSlots: [Int32]
        let numerics: Bool
    }

    /// The use, marked as replayable under `key` (`MeshProgram.replayKey`): the caller promises
    /// that its `product` does the same work on every use it marks with an equal key, on the
    /// operand slots it is given. The kernel adds what its ops depend on (routes, tiles, labels,
    /// the ReduceAdd's buffers, whether it carries numbers); A, B and C may be other slots on
    /// another use (they are its `replayBuffers`): the prefill's layers multiply by their own
    /// weights and caches with one record.
    public func replayable(key: AnyHashable) -> ResidentGEMM {
        var g = self
        g.callerKey = key
        return g
    }

    public var replayKey: AnyHashable? {
        guard let callerKey else { return nil }
        let own = [slots.a, slots.b, slots.c], reduce = [slots.acc, slots.incoming, slots.staging]
        // The operand slots must be told apart from each other and from the fixed ones.
        guard Set(own + reduce).count == 6 else { return nil }
        return AnyHashable(ReplayKey(caller: callerKey, routes: ObjectIdentifier(routes), side: side, macs: tiles.macs,
                                     aElements: tiles.aElements, bElements: tiles.bElements, cElements: tiles.cElements,
                                     labels: [label, keepLabel, spareLabels.a, spareLabels.b, reduceLabel], reduceSlots: reduce,
                                     numerics: hasProduct))
    }

    public var replayInvocations: [Int32] { [invocation] }
    public var replayBuffers: [Int32] { [slots.a, slots.b, slots.c] }

    public func execute(work: Int32, core: Int, store: PayloadStore) {
        if LineWork.isCollective(work) {
            _ = LinePlan.execute(code: work, core: core, store: store, slots: (slots.acc, slots.incoming, slots.staging), chunk: 1)
        } else if work >= Self.productWorkBase {
            product?(core, Int(work - Self.productWorkBase), store)
        } else if work == Self.keepWork {
            store[core, slots.c] = store[core, slots.acc]
        }
    }
}

/// The step each core of a `.gemmt` run is in (a dispatch cache: ops are asked for in order).
final class StepCursor: @unchecked Sendable {
    struct State {
        var step: Int32
        var start: Int32
    }
    let state: UnsafeMutablePointer<State>
    init(coreCount: Int) {
        state = .allocate(capacity: max(1, coreCount))
        state.initialize(repeating: State(step: 0, start: 0), count: max(1, coreCount))
    }
    deinit { state.deallocate() }
}
