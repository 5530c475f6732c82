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

    // Phases flattened by kind, so that issuing an op copies no enum payloads and retains nothing
    // on the collective path (plans are called through unowned references).
    private enum Kind: UInt8 { case local, collective, custom, begin, end }
    private struct Local {
        let label: Int32
        let ops: @Sendable (Int) -> Int
        let work: Int32
    }
    private struct Custom {
        let op: @Sendable (Int, Int) -> MeshOp
    }
    private let kinds: [Kind]
    private let index: [Int32]
    private let locals: [Local]
    /// Keeps the plan boxes alive; `planViews` reads their memory without retain/release.
    private let plans: [LinePlanBox]
    private let planViews: [LinePlanView]
    private let customs: [Custom]
    /// Per custom phase: its op count on a core.
    private let customCounts: [@Sendable (Int) -> Int]
    private let works: [@Sendable (Int, PayloadStore) -> Void]
    private let phaseCount: Int
    /// Per core: the phase it issued last and that phase's pc range, so the next op's phase is
    /// found in O(1) with no per-core table of phase offsets (12 bytes a core, not 4 per phase).
    private let cursor: PhaseCursor
    private let divider: GridDivider

    public init(grid: KernelGrid, collectiveSlots: (acc: Int32, incoming: Int32, staging: Int32), phases: [Phase]) {
        self.grid = grid
        self.collectiveSlots = collectiveSlots
        phaseCount = phases.count
        var kinds: [Kind] = [], index: [Int32] = [], locals: [Local] = [], plans: [LinePlanBox] = []
        var customs: [Custom] = [], works: [@Sendable (Int, PayloadStore) -> Void] = []
        var customCounts: [@Sendable (Int) -> Int] = []
        for p in phases {
            switch p {
            case .local(let label, let ops, let work):
                var w: Int32 = -1
                if let work { w = Int32(works.count); works.append(work) }
                kinds.append(.local); index.append(Int32(locals.count))
                locals.append(Local(label: label, ops: ops, work: w))
            case .collective(let h):
                kinds.append(.collective); index.append(Int32(plans.count))
                plans.append(LinePlanBox(h.plan))
            case .custom(let count, let op):
                kinds.append(.custom); index.append(Int32(customs.count))
                customs.append(Custom(op: op))
                customCounts.append(count)
            case .begin(let i):
                kinds.append(.begin); index.append(i)
            case .end(let i):
                kinds.append(.end); index.append(i)
            }
        }
        self.kinds = kinds
        self.index = index
        self.locals = locals
        self.plans = plans
        planViews = plans.map(\.view)
        self.customs = customs
        self.customCounts = customCounts
        self.works = works
        cursor = PhaseCursor(coreCount: grid.geometry.coreCount)
        divider = GridDivider(grid)
    }

    /// Ops of phase `k` on `core` (at grid offsets px, py).
    @inline(__always) private func count(_ k: Int, core: Int, px: Int, py: Int) -> Int {
        switch kinds[k] {
        case .collective: return planViews[Int(index[k])].count(px: px, py: py)
        case .custom: return customCounts[Int(index[k])](core)
        default: return 1
        }
    }

    /// - Complexity: O(1) when a core's ops are asked for in order (the engine's way), else
    ///   O(phases) from the start.
    public func op(core: Int, pc: Int) -> MeshOp? {
        guard let (px, py) = divider.offsets(of: core) else { return nil }
        let cur = cursor.state + core
        var k = Int(cur.pointee.phase), start = Int(cur.pointee.start)
        if !(pc >= start && pc < Int(cur.pointee.end)) {
            // Walk the phases from the cursor (or from the start when pc went back): the phase
            // holding pc is the first whose range contains it (empty phases are skipped).
            if pc < start { k = 0; start = 0 }
            var n = 0
            while k < phaseCount {
                n = count(k, core: core, px: px, py: py)
                if pc < start &+ n { break }
                start &+= n
                k &+= 1
            }
            cur.pointee = PhaseCursor.State(phase: Int32(truncatingIfNeeded: k), start: Int32(truncatingIfNeeded: start),
                                            end: Int32(truncatingIfNeeded: k < phaseCount ? start &+ n : start))
            guard k < phaseCount else { return nil }
        }
        let local = pc &- start
        let i = Int(index[k])
        switch kinds[k] {
        case .local:
            let l = locals[i]
            return .compute(macs: l.ops(core), label: l.label, work: l.work)
        case .collective: return planViews[i].op(px: px, py: py, pc: local)
        case .custom: return customs[i].op(core, local)
        case .begin: return .begin(invocation: Int32(i))
        case .end: return .end(invocation: Int32(i))
        }
    }

    /// True: collective arithmetic and `Phase.local` work touch only the core's own buffers
    /// (a local phase's `work` must keep to that), so the engine may run them beside the simulation.
    public var executesPerCore: Bool { true }

    public func execute(work: Int32, core: Int, store: PayloadStore) {
        if LineWork.isCollective(work) {
            _ = LinePlan.execute(code: work, core: core, store: store, slots: collectiveSlots, chunk: 1)
        } else if work >= 0 && Int(work) < works.count {
            works[Int(work)](core, store)
        }
    }
}

/// The phase each core is in, shared by copies of a `PhaseProgram` (a dispatch cache only).
final class PhaseCursor: @unchecked Sendable {
    struct State {
        var phase: Int32
        /// First pc of the phase, and one past its last.
        var start: Int32
        var end: Int32
    }
    let state: UnsafeMutablePointer<State>
    init(coreCount: Int) {
        state = .allocate(capacity: max(1, coreCount))
        state.initialize(repeating: State(phase: 0, start: 0, end: 0), count: coreCount)
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

    /// The `pc`-th op of the core at grid offsets (px, py).
    ///
    /// - Complexity: O(1).
    @inline(__always) func op(px: Int, py: Int, pc: Int) -> MeshOp? {
        let line = axisIsX ? py : px, p = axisIsX ? px : py
        return table.op(line: line, position: p, pc: pc, lineElements: lineElements.map { $0[line] },
                        elementBytes: elementBytes, label: label)
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
        let y = Int(truncatingIfNeeded: (UInt64(truncatingIfNeeded: core) &* magic) >> shift)
        let px = core &- y &* width &- x0, py = y &- y0
        guard px >= 0, py >= 0, px < cols, py < rows else { return nil }
        return (px, py)
    }
}
