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

    // Phases flattened by kind, so that issuing an op copies no enum payloads.
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
    private let plans: [LinePlanBox]
    private let customs: [Custom]
    private let works: [@Sendable (Int, PayloadStore) -> Void]
    /// `offsets[core * (phases + 1) + k]`: first pc of phase k on that core.
    private let offsets: [Int32]
    private let phaseCount: Int

    public init(grid: KernelGrid, collectiveSlots: (acc: Int32, incoming: Int32, staging: Int32), phases: [Phase]) {
        self.grid = grid
        self.collectiveSlots = collectiveSlots
        phaseCount = phases.count
        var kinds: [Kind] = [], index: [Int32] = [], locals: [Local] = [], plans: [LinePlanBox] = []
        var customs: [Custom] = [], works: [@Sendable (Int, PayloadStore) -> Void] = []
        var counters: [@Sendable (Int) -> Int] = []
        for p in phases {
            switch p {
            case .local(let label, let ops, let work):
                var w: Int32 = -1
                if let work { w = Int32(works.count); works.append(work) }
                kinds.append(.local); index.append(Int32(locals.count))
                locals.append(Local(label: label, ops: ops, work: w))
                counters.append { _ in 1 }
            case .collective(let h):
                let box = LinePlanBox(h.plan)
                kinds.append(.collective); index.append(Int32(plans.count))
                plans.append(box)
                counters.append { c in box.plan.place(c).map { box.plan.count(position: $0.position) } ?? 0 }
            case .custom(let count, let op):
                kinds.append(.custom); index.append(Int32(customs.count))
                customs.append(Custom(op: op))
                counters.append(count)
            case .begin(let i):
                kinds.append(.begin); index.append(i)
                counters.append { _ in 1 }
            case .end(let i):
                kinds.append(.end); index.append(i)
                counters.append { _ in 1 }
            }
        }
        self.kinds = kinds
        self.index = index
        self.locals = locals
        self.plans = plans
        self.customs = customs
        self.works = works
        let n = grid.geometry.coreCount, stride = phases.count + 1
        var offsets = [Int32](repeating: 0, count: n * stride)
        for py in 0..<grid.rows {
            for px in 0..<grid.cols {
                let c = grid.core(px: px, py: py)
                var pc = 0
                for k in 0..<phases.count {
                    offsets[c * stride + k] = Int32(pc)
                    pc += counters[k](c)
                }
                offsets[c * stride + phases.count] = Int32(pc)
            }
        }
        self.offsets = offsets
    }

    /// - Complexity: O(log phases).
    public func op(core: Int, pc: Int) -> MeshOp? {
        guard grid.offsets(of: core) != nil else { return nil }
        let base = core &* (phaseCount &+ 1)
        guard pc < Int(offsets[base &+ phaseCount]) else { return nil }
        // The last phase whose first pc is ≤ pc (empty phases share offsets with the next one).
        var lo = 0, hi = phaseCount - 1
        while lo < hi {
            let mid = (lo &+ hi &+ 1) >> 1
            if Int(offsets[base &+ mid]) <= pc { lo = mid } else { hi = mid &- 1 }
        }
        let k = pc &- Int(offsets[base &+ lo])
        let i = Int(index[lo])
        switch kinds[lo] {
        case .local:
            let l = locals[i]
            return .compute(macs: l.ops(core), label: l.label, work: l.work)
        case .collective: return plans[i].plan.op(core: core, pc: k)
        case .custom: return customs[i].op(core, k)
        case .begin: return .begin(invocation: Int32(i))
        case .end: return .end(invocation: Int32(i))
        }
    }

    public func execute(work: Int32, core: Int, store: PayloadStore) {
        if LineWork.isCollective(work) {
            _ = LinePlan.execute(code: work, core: core, store: store, slots: collectiveSlots, chunk: 1)
        } else if work >= 0 && Int(work) < works.count {
            works[Int(work)](core, store)
        }
    }
}

/// A line plan behind a reference, so programs share it without copying its arrays.
final class LinePlanBox: @unchecked Sendable {
    let plan: LinePlan
    init(_ plan: LinePlan) { self.plan = plan }
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
