import WaferMesh
import WaferSpec

/// A program built from SPMD phases run one after another on every core of a grid: local work,
/// line collectives (K-tree allreduces along X or Y), point-to-point exchanges and kernel marks.
///
/// This is how whole models are composed: each phase's ops follow the previous phase's on every
/// core with no global barrier, so a core that finishes a phase early starts the next one while
/// others are still communicating. Collectives all use the same three payload slots
/// (`collectiveSlots`); local phases move data in and out of them.
public struct PhaseProgram: MeshProgram {
    /// One phase.
    public enum Phase {
        /// Every core of the grid does `ops(core)` element operations (0: none); with payloads,
        /// `work` runs the real arithmetic.
        case local(label: Int32, ops: @Sendable (Int) -> Int, work: (@Sendable (Int, PayloadStore) -> Void)?)
        /// A local phase whose op counts are data (`GridOps`, read without a call on the engine's
        /// hot path); with payloads, `work(core, row, column, store)` runs the real arithmetic.
        /// `buffers`: the payload slots `work` touches, prefetched when a replay knows the work
        /// is coming (`MeshProgram.prefetch`; a hint, results do not depend on it).
        case grid(label: Int32, ops: GridOps, work: (@Sendable (Int, Int, Int, PayloadStore) -> Void)?, buffers: [Int32] = [])
        /// A K-tree allreduce (or another line collective) on every line of an axis.
        case collective(LinePlanHandle)
        /// Explicit ops per core (point-to-point exchanges): `count(core)` ops, the k-th given by `op(core, k)`.
        case custom(count: @Sendable (Int) -> Int, op: @Sendable (Int, Int) -> MeshOp)
        /// Kernel invocation marks.
        case begin(Int32)
        case end(Int32)
    }

    public let grid: KernelGrid
    public let collectiveSlots: (acc: Int32, incoming: Int32, staging: Int32)

    /// Per core: the phase it issued last, that phase's pc range and, in a collective, where its
    /// ops are (memory `body` owns), so that the next op of a collective is found with no call.
    private let state: UnsafeMutablePointer<PhaseCursor.State>
    /// Everything else, behind one reference: a copy of the program (the engine's witness copies
    /// the fields it reads) copies two words, not the tables.
    private let body: PhaseBody

    public init(grid: KernelGrid, collectiveSlots: (acc: Int32, incoming: Int32, staging: Int32), phases: [Phase]) {
        self.grid = grid
        self.collectiveSlots = collectiveSlots
        body = PhaseBody(grid: grid, collectiveSlots: collectiveSlots, phases: phases)
        state = body.cursor.state
    }

    /// - Complexity: O(1) when a core's ops are asked for in order (the engine's way), else
    ///   O(phases) from the start.
    @inline(__always)
    public func op(core: Int, pc: Int) -> MeshOp? {
        // The common case first: the next op of the collective the core is in (no call, no walk).
        let cur = state + core
        if let ops = cur.pointee.ops, pc >= Int(cur.pointee.start), pc < Int(cur.pointee.end) {
            return PhaseBody.lineOp(ops[pc &- Int(cur.pointee.start)], cur)
        }
        return body.enter(core: core, pc: pc, cur)
    }

    /// True: collective arithmetic and `Phase.local` work touch only the core's own buffers
    /// (a local phase's `work` must keep to that), so the engine may run them beside the simulation.
    public var executesPerCore: Bool { true }
    /// True: `op` moves only the asked core's phase cursor, reads immutable tables and calls the
    /// phases' `@Sendable` closures, which must be pure functions of the core (and op index) they
    /// are asked about: a caller's `.local` and `.custom` closures keep this promise.
    public var opsPerCore: Bool { true }

    /// The program, marked as replayable under `key` (see `MeshProgram.replayKey`): the caller
    /// promises that every program it marks with an equal key has the same phases with the same
    /// op counts, routes and buffers, its kernel marks at the same places of `invocations`.
    public func replayable(key: AnyHashable, invocations: [Int32]) -> PhaseProgram {
        body.replayKey = key
        body.replayInvocations = invocations
        return self
    }

    public var replayKey: AnyHashable? { body.replayKey }
    /// What `prefetch` hints for `work` (for tests).
    func prefetchSlots(work: Int32) -> [Int32] { body.prefetchSlots(work: work) }
    public var replayInvocations: [Int32] { body.replayInvocations }

    public func execute(work: Int32, core: Int, store: PayloadStore) {
        body.execute(work: work, core: core, store: store)
    }

    /// Prefetches the buffers of a collective's work (its accumulator and incoming slots) or of
    /// a `.grid` phase's work (its `buffers`).
    public func prefetch(work: Int32, core: Int, store: PayloadStore, stage: PrefetchStage) {
        body.prefetch(work: work, core: core, store: store, stage: stage)
    }
}

/// A `PhaseProgram`'s phases flattened by kind, in memory it owns (read on the hot path with no
/// bounds checks and no reference counting); closures of `.local` and `.custom` phases in arrays.
final class PhaseBody: @unchecked Sendable {
    private let collectiveSlots: (acc: Int32, incoming: Int32, staging: Int32)
    let entries: UnsafeMutablePointer<PhaseEntry>
    /// Keeps the plan boxes alive; `planViews` reads their memory without retain/release.
    private let plans: [LinePlanBox]
    private let planViews: UnsafeMutablePointer<LinePlanView>
    let gridInts: UnsafeMutablePointer<Int>
    private let localOps: [@Sendable (Int) -> Int]
    private let customOps: [@Sendable (Int, Int) -> MeshOp]
    private let customCounts: [@Sendable (Int) -> Int]
    /// The local phases' arithmetic, boxed and unretained in memory this body owns: calling a
    /// work through its box borrows the closure (no reference-count traffic on its context, which
    /// two replay lanes would share).
    private let workBoxes: UnsafeMutablePointer<Unmanaged<PhaseWorkBox>>
    private let workCount: Int
    /// Per work, where its buffers' slots sit in `workBuffers` (start, end).
    private let workBufferRanges: UnsafeMutablePointer<(Int32, Int32)>
    private let workBuffers: UnsafeMutablePointer<Int32>
    private let phaseCount: Int
    private let rows: Int, cols: Int
    /// Set by `PhaseProgram.replayable(key:invocations:)`.
    var replayKey: AnyHashable?
    var replayInvocations: [Int32] = []
    let cursor: PhaseCursor
    private let divider: GridDivider

    init(grid: KernelGrid, collectiveSlots: (acc: Int32, incoming: Int32, staging: Int32), phases: [PhaseProgram.Phase]) {
        self.collectiveSlots = collectiveSlots
        phaseCount = phases.count
        rows = grid.rows
        cols = grid.cols
        var entries: [PhaseEntry] = [], plans: [LinePlanBox] = [], ints: [Int] = []
        var localOps: [@Sendable (Int) -> Int] = [], works: [PhaseWork] = []
        var customOps: [@Sendable (Int, Int) -> MeshOp] = [], customCounts: [@Sendable (Int) -> Int] = []
        var bufferRanges: [(Int32, Int32)] = [], bufferList: [Int32] = []
        for p in phases {
            switch p {
            case .local(let label, let ops, let work):
                var w: Int32 = -1
                if let work {
                    w = Int32(works.count)
                    works.append(.core(work))
                    bufferRanges.append((Int32(bufferList.count), Int32(bufferList.count)))
                }
                entries.append(PhaseEntry(kind: .local, label: label, work: w, index: Int32(localOps.count)))
                localOps.append(ops)
            case .grid(let label, let ops, let work, let buffers):
                precondition(ops.row.count == grid.rows && ops.rowScale.count == grid.rows
                             && ops.column.count == grid.cols && ops.columnScale.count == grid.cols,
                             "GridOps of a \(grid.cols)x\(grid.rows) grid need one entry per row and per column")
                var w: Int32 = -1
                if let work {
                    w = Int32(works.count)
                    works.append(.grid(work))
                    bufferRanges.append((Int32(bufferList.count), Int32(bufferList.count + buffers.count)))
                    bufferList += buffers
                }
                entries.append(PhaseEntry(kind: .grid, label: label, work: w, index: Int32(ints.count)))
                ints += ops.row + ops.rowScale + ops.column + ops.columnScale
            case .collective(let h):
                if let l = h.plan.lineElements {
                    precondition(l.allSatisfy { $0 >= 0 && $0 <= Int(Int32.max) }, "element counts must fit Int32")
                }
                entries.append(PhaseEntry(kind: .collective, label: 0, work: -1, index: Int32(plans.count)))
                plans.append(LinePlanBox(h.plan))
            case .custom(let count, let op):
                entries.append(PhaseEntry(kind: .custom, label: 0, work: -1, index: Int32(customOps.count)))
                customOps.append(op)
                customCounts.append(count)
            case .begin(let i):
                entries.append(PhaseEntry(kind: .begin, label: i, work: -1, index: 0))
            case .end(let i):
                entries.append(PhaseEntry(kind: .end, label: i, work: -1, index: 0))
            }
        }
        self.entries = .allocate(capacity: max(1, entries.count))
        self.entries.initialize(from: entries, count: entries.count)
        self.plans = plans
        planViews = .allocate(capacity: max(1, plans.count))
        planViews.initialize(from: plans.map(\.view), count: plans.count)
        gridInts = .allocate(capacity: max(1, ints.count))
        gridInts.initialize(from: ints, count: ints.count)
        self.localOps = localOps
        self.customOps = customOps
        self.customCounts = customCounts
        workCount = works.count
        workBoxes = .allocate(capacity: max(1, works.count))
        workBoxes.initialize(from: works.map { Unmanaged.passRetained(PhaseWorkBox($0)) }, count: works.count)
        workBufferRanges = .allocate(capacity: max(1, bufferRanges.count))
        workBufferRanges.initialize(from: bufferRanges, count: bufferRanges.count)
        workBuffers = .allocate(capacity: max(1, bufferList.count))
        workBuffers.initialize(from: bufferList, count: bufferList.count)
        divider = GridDivider(grid)
        cursor = PhaseCursor(coreCount: grid.geometry.coreCount, divider: divider)
    }

    deinit {
        entries.deallocate()
        planViews.deallocate()
        gridInts.deallocate()
        workBufferRanges.deallocate()
        workBuffers.deallocate()
        for k in 0..<workCount { workBoxes[k].release() }
        workBoxes.deallocate()
    }

    /// Ops of phase `k` on `core` (at grid offsets px, py).
    @inline(__always) private func count(_ k: Int, core: Int, px: Int, py: Int) -> Int {
        let e = entries[k]
        switch e.kind {
        case .collective: return planViews[Int(e.index)].count(px: px, py: py)
        case .custom: return customCount(Int(e.index), core: core)
        default: return 1
        }
    }

    // The closure calls out of line, so that `enter`'s common path saves fewer registers.
    @inline(never) private func customCount(_ i: Int, core: Int) -> Int { customCounts[i](core) }
    @inline(never) private func customOp(_ i: Int, core: Int, local: Int) -> MeshOp { customOps[i](core, local) }
    @inline(never) private func localOp(_ e: PhaseEntry, core: Int) -> MeshOp {
        .compute(macs: localOps[Int(e.index)](core), label: e.label, work: e.work)
    }

    /// A grid phase's count on the core at (px, py), its `GridOps` at `o` (row, rowScale, column, columnScale).
    @inline(__always)
    static func gridCount(_ o: UnsafeMutablePointer<Int>, rows: Int, cols: Int, px: Int, py: Int) -> Int {
        o[py] &+ o[rows &* 2 &+ px] &+ o[rows &+ py] &* o[rows &* 2 &+ cols &+ px]
    }

    /// A collective's op for the core whose cursor is `cur`.
    @inline(__always)
    static func lineOp(_ o: FlatLineOp, _ cur: UnsafeMutablePointer<PhaseCursor.State>) -> MeshOp {
        let override = cur.pointee.elements
        switch o.kind {
        case 0:
            let n = override != PhaseCursor.noOverride ? Int(override) : o.elements
            return .send(route: cur.pointee.routes![Int(o.index)], bytes: max(1, n) &* Int(o.elementBytes), buffer: o.slot)
        case 1:
            return .recv(colour: o.index, buffer: o.slot)
        default:
            let n = o.elements == 0 ? 0 : (override != PhaseCursor.noOverride ? Int(override) : o.elements)
            return .compute(macs: n, label: o.label, work: o.work)
        }
    }

    /// Any op but the next of a collective. The common case here, a one-op phase (kernel mark or
    /// grid phase) right after the core's current one, is entered with few registers and no
    /// walk; anything else goes to `walk`.
    @inline(never)
    func enter(core: Int, pc: Int, _ cur: UnsafeMutablePointer<PhaseCursor.State>) -> MeshOp? {
        // (Cores outside the grid keep end = -1, so they never come this way.)
        let end = Int(cur.pointee.end)
        if pc == end, case let k = Int(cur.pointee.phase) &+ 1, k < phaseCount {
            let e = entries[k]
            if e.kind == .begin || e.kind == .end || e.kind == .grid {
                cur.pointee.phase = Int32(truncatingIfNeeded: k)
                cur.pointee.start = Int32(truncatingIfNeeded: end)
                cur.pointee.end = Int32(truncatingIfNeeded: end &+ 1)
                cur.pointee.ops = nil
                if e.kind == .begin { return .begin(invocation: e.label) }
                if e.kind == .end { return .end(invocation: e.label) }
                let (px, py) = divider.offsets(of: core)!
                return .compute(macs: Self.gridCount(gridInts + Int(e.index), rows: rows, cols: cols, px: px, py: py),
                                label: e.label, work: e.work)
            }
        }
        return walk(core: core, pc: pc, cur)
    }

    /// Finds the phase holding `pc` (from the cursor's, or from the start when pc went back),
    /// moves the core's cursor there and returns the op.
    @inline(never)
    private func walk(core: Int, pc: Int, _ cur: UnsafeMutablePointer<PhaseCursor.State>) -> MeshOp? {
        guard let (px, py) = divider.offsets(of: core) else { return nil }
        var k = Int(cur.pointee.phase), start = Int(cur.pointee.start)
        if !(pc >= start && pc < Int(cur.pointee.end)) {
            // Walk the phases after the cursor's (or from the start when pc went back): the phase
            // holding pc is the first whose range contains it (empty phases are skipped).
            if pc < start { k = 0; start = 0 } else { k &+= 1; start = Int(cur.pointee.end) }
            var n = 0
            while k < phaseCount {
                n = count(k, core: core, px: px, py: py)
                if pc < start &+ n { break }
                start &+= n
                k &+= 1
            }
            cur.pointee.phase = Int32(truncatingIfNeeded: k)
            cur.pointee.start = Int32(truncatingIfNeeded: start)
            cur.pointee.end = Int32(truncatingIfNeeded: k < phaseCount ? start &+ n : start)
            cur.pointee.ops = nil
            guard k < phaseCount else { return nil }
            if entries[k].kind == .collective {
                let v = planViews[Int(entries[k].index)]
                let line = v.axisIsX ? py : px, p = v.axisIsX ? px : py
                cur.pointee.ops = UnsafePointer(v.table.ops + v.table.opStart[p])
                cur.pointee.routes = UnsafePointer(v.table.routes + line &* v.table.routesPerLine)
                cur.pointee.elements = v.lineElements.map { Int32(truncatingIfNeeded: $0[line]) } ?? PhaseCursor.noOverride
            }
        }
        let local = pc &- start
        let e = entries[k]
        switch e.kind {
        case .grid:
            return .compute(macs: Self.gridCount(gridInts + Int(e.index), rows: rows, cols: cols, px: px, py: py),
                            label: e.label, work: e.work)
        case .local: return localOp(e, core: core)
        case .collective:
            // Re-entered (pc went back into the phase): the cursor points at the core's ops.
            return Self.lineOp(cur.pointee.ops![local], cur)
        case .custom: return customOp(Int(e.index), core: core, local: local)
        case .begin: return .begin(invocation: e.label)
        case .end: return .end(invocation: e.label)
        }
    }

    func execute(work: Int32, core: Int, store: PayloadStore) {
        if LineWork.isCollective(work) {
            _ = LinePlan.execute(code: work, core: core, store: store, slots: collectiveSlots, chunk: 1)
        } else if work >= 0 && Int(work) < workCount {
            workBoxes[Int(work)]._withUnsafeGuaranteedRef { box in
                if let f = box.core {
                    f(core, store)
                } else if let f = box.grid, let (px, py) = divider.offsets(of: core) {
                    f(core, py, px, store)
                }
            }
        }
    }

    /// Calls `body` with each slot `prefetch` hints for `work`: a collective's accumulator and
    /// incoming slots, a `.grid` phase's `buffers`, nothing for other works.
    @inline(__always) private func forEachPrefetchSlot(work: Int32, _ body: (Int32) -> Void) {
        if LineWork.isCollective(work) {
            body(collectiveSlots.acc)
            body(collectiveSlots.incoming)
        } else if work >= 0 && Int(work) < workCount {
            let (start, end) = workBufferRanges[Int(work)]
            var k = start
            while k < end {
                body(workBuffers[Int(k)])
                k &+= 1
            }
        }
    }

    /// The slots `prefetch` hints for `work` (for tests).
    func prefetchSlots(work: Int32) -> [Int32] {
        var slots: [Int32] = []
        forEachPrefetchSlot(work: work) { slots.append($0) }
        return slots
    }

    func prefetch(work: Int32, core: Int, store: PayloadStore, stage: PrefetchStage) {
        forEachPrefetchSlot(work: work) { store.prefetch(core, $0, stage) }
    }
}

/// The op counts of a local phase on every core of a grid, as data: the core in row i and
/// column j does `row[i] + column[j] + rowScale[i] · columnScale[j]` ops. (Every local phase of
/// a decode step has this form; `PhaseProgram` reads it with no call on the engine's hot path.)
public struct GridOps: Sendable {
    public var row: [Int], rowScale: [Int], column: [Int], columnScale: [Int]

    /// Counts on a `rows × cols` grid; omitted terms are zero.
    public init(rows: Int, cols: Int, row: [Int]? = nil, column: [Int]? = nil, rowScale: [Int]? = nil, columnScale: [Int]? = nil) {
        self.row = row ?? Array(repeating: 0, count: rows)
        self.column = column ?? Array(repeating: 0, count: cols)
        self.rowScale = rowScale ?? Array(repeating: 0, count: rows)
        self.columnScale = columnScale ?? Array(repeating: 0, count: cols)
    }

    /// The count of the core in row `i`, column `j`.
    public func count(row i: Int, column j: Int) -> Int { row[i] + column[j] + rowScale[i] * columnScale[j] }
}

/// A local phase's arithmetic, boxed (`PhaseBody.workBoxes`).
private final class PhaseWorkBox {
    let core: (@Sendable (Int, PayloadStore) -> Void)?
    let grid: (@Sendable (Int, Int, Int, PayloadStore) -> Void)?

    init(_ w: PhaseWork) {
        switch w {
        case .core(let f): core = f; grid = nil
        case .grid(let f): core = nil; grid = f
        }
    }
}

/// A local phase's arithmetic.
private enum PhaseWork {
    case core(@Sendable (Int, PayloadStore) -> Void)
    case grid(@Sendable (Int, Int, Int, PayloadStore) -> Void)
}

/// One phase of a `PhaseProgram`, flattened.
struct PhaseEntry {
    enum Kind: UInt8 { case local, grid, collective, custom, begin, end }
    var kind: Kind
    /// Local and grid phases: the label; begin and end: the invocation.
    var label: Int32
    /// Local and grid phases: the work code (-1: none).
    var work: Int32
    /// Local, custom and collective phases: the closure's or plan's index; grid phases: where
    /// their counts start in the table's integers (row, rowScale, column, columnScale).
    var index: Int32
}

/// The phase each core is in, shared by copies of a `PhaseProgram` (a dispatch cache only).
final class PhaseCursor: @unchecked Sendable {
    /// 32 bytes a core.
    struct State {
        /// First pc of the phase, and one past its last.
        var start: Int32
        var end: Int32
        /// -1 before the first op.
        var phase: Int32
        /// In a collective: the element count of the core's line when the plan overrides the
        /// schedule's (`noOverride`: it does not).
        var elements: Int32
        /// In a collective: the ops at the core's line position, and its line's route ids (nil
        /// in any other phase).
        var ops: UnsafePointer<FlatLineOp>?
        var routes: UnsafePointer<Int32>?
    }
    static let noOverride = Int32.min
    let state: UnsafeMutablePointer<State>
    /// Every core of the grid before its first op; cores outside it with end = -1 (no pc is
    /// the end of their phase, so `PhaseProgram.op` sends them to `enter`, which returns nil).
    init(coreCount: Int, divider: GridDivider) {
        state = .allocate(capacity: max(1, coreCount))
        state.initialize(repeating: State(start: 0, end: 0, phase: -1, elements: Self.noOverride, ops: nil, routes: nil),
                         count: max(1, coreCount))
        for c in 0..<coreCount where divider.offsets(of: c) == nil { state[c].end = -1 }
    }
    deinit { state.deallocate() }
}

/// A line plan compiled for dispatch, behind a reference, so programs share it without copying.
final class LinePlanBox: @unchecked Sendable {
    let plan: LinePlan
    private let table: LineOpTable
    /// Elements per line (when the plan overrides the schedule's), in memory the box owns.
    private let lineElements: UnsafeMutablePointer<Int>?
    private let axisIsX: Bool
    private let elementBytes: Int
    private let label: Int32

    init(_ plan: LinePlan) {
        self.plan = plan
        table = plan.table
        if let l = plan.lineElements {
            let p = UnsafeMutablePointer<Int>.allocate(capacity: max(1, l.count))
            p.initialize(from: l, count: l.count)
            lineElements = p
        } else {
            lineElements = nil
        }
        axisIsX = plan.axis == .x
        elementBytes = plan.elementBytes
        label = plan.label
    }

    deinit { lineElements?.deallocate() }

    /// Ops of the core at grid offsets (px, py).
    @inline(__always) func count(px: Int, py: Int) -> Int { table.count(position: axisIsX ? px : py) }

    /// The box's memory, valid while the box lives.
    var view: LinePlanView {
        LinePlanView(table: table.view, lineElements: lineElements, axisIsX: axisIsX, elementBytes: elementBytes, label: label)
    }
}

/// A `LinePlanBox` read without its reference: what `PhaseProgram.op` calls per collective op.
struct LinePlanView {
    let table: LineOpView
    let lineElements: UnsafeMutablePointer<Int>?
    let axisIsX: Bool
    let elementBytes: Int
    let label: Int32

    /// Ops of the core at grid offsets (px, py).
    @inline(__always) func count(px: Int, py: Int) -> Int {
        let p = axisIsX ? px : py
        return table.opStart[p + 1] - table.opStart[p]
    }
}

/// A K-tree allreduce laid on every row or column of a grid, made once and reused by many phases
/// (routes are declared once); `elements` says how long the vectors are for one use.
public struct LinePlanHandle {
    var plan: LinePlan
    /// K-tree groups along the axis.
    public let groups: Int
    let colourBase: Int

    /// Declares the routes of a K-tree allreduce along `axis` (colours `colourBase…+8`).
    public init(engine: MeshEngine, grid: KernelGrid, axis: Axis, groups: Int? = nil, op: ReduceOp = .sum,
                colourBase: Int, slots: (acc: Int32, incoming: Int32, staging: Int32), label: String) throws {
        let n = axis == .x ? grid.cols : grid.rows
        self.groups = groups ?? LineAlgorithm.defaultGroups(n)
        self.colourBase = colourBase
        let sched = LineSchedule.ktree(n: n, elements: 1, groups: self.groups, broadcast: true, op: op, colourBase: colourBase)
        plan = try LinePlan(engine: engine, grid: grid, axis: axis, schedule: sched, op: op, slots: slots, label: label)
    }

    /// The same routes reducing with `op`.
    public func reducing(_ op: ReduceOp) -> LinePlanHandle {
        var h = self
        h.plan = plan.replacingSchedule(LineSchedule.ktree(n: plan.schedule.n, elements: 1, groups: groups, broadcast: true,
                                                           op: op, colourBase: colourBase))
        return h
    }

    /// The same routes and schedule carrying `elements` per line (one count for every line, or one per line).
    public func carrying(_ elements: Int) -> LinePlanHandle {
        var h = self
        h.plan.lineElements = Array(repeating: elements, count: h.lines)
        return h
    }

    public func carrying(perLine elements: [Int]) -> LinePlanHandle {
        var h = self
        h.plan.lineElements = elements
        return h
    }

    public var lines: Int { plan.axis == .x ? plan.grid.rows : plan.grid.cols }
    public var axis: Axis { plan.axis }
}

/// A core's offsets inside a grid without a hardware division: `core / width` as a multiply and
/// a shift (exact for every core id below 2^30, the largest mesh the spec allows).
struct GridDivider: Sendable {
    let width: Int, x0: Int, y0: Int, rows: Int, cols: Int
    private let magic: UInt64
    private let shift: UInt64

    init(_ grid: KernelGrid) {
        width = grid.geometry.width
        x0 = grid.x0; y0 = grid.y0; rows = grid.rows; cols = grid.cols
        // m = ⌈2^(30+l) / width⌉ with l = ⌈log2 width⌉: ⌊n·m / 2^(30+l)⌋ = ⌊n / width⌋ for n < 2^30.
        var l = 0
        while (1 << l) < width { l += 1 }
        shift = UInt64(30 + l)
        magic = ((UInt64(1) << shift) + UInt64(width) - 1) / UInt64(width)
    }

    /// Offsets (column px, row py) of `core` inside the grid, or nil outside it.
    @inline(__always) func offsets(of core: Int) -> (px: Int, py: Int)? {
        let y = Int(truncatingIfNeeded: (UInt64(truncatingIfNeeded: core) &* magic) &>> shift)
        let px = core &- y &* width &- x0, py = y &- y0
        guard px >= 0, py >= 0, px < cols, py < rows else { return nil }
        return (px, py)
    }
}
