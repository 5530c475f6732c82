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
    let phases: [Phase]
    let works: [@Sendable (Int, PayloadStore) -> Void]
    /// `offsets[core * (phases + 1) + k]`: first pc of phase k on that core.
    let offsets: [Int32]
    let phaseCount: Int
    /// Index into `works` of each phase's work (−1: none).
    let workIndex: [Int32]

    public init(grid: KernelGrid, collectiveSlots: (acc: Int32, incoming: Int32, staging: Int32), phases: [Phase]) {
        self.grid = grid
        self.collectiveSlots = collectiveSlots
        self.phases = phases
        phaseCount = phases.count
        var works: [@Sendable (Int, PayloadStore) -> Void] = []
        var workIndex: [Int32] = []
        for p in phases {
            if case .local(_, _, let w?) = p {
                workIndex.append(Int32(works.count))
                works.append(w)
            } else {
                workIndex.append(-1)
            }
        }
        self.works = works
        self.workIndex = workIndex
        let n = grid.geometry.coreCount
        var offsets = [Int32](repeating: 0, count: n * (phases.count + 1))
        for py in 0..<grid.rows {
            for px in 0..<grid.cols {
                let c = grid.core(px: px, py: py)
                var pc = 0
                for (k, p) in phases.enumerated() {
                    offsets[c * (phases.count + 1) + k] = Int32(pc)
                    pc += Self.count(p, core: c)
                }
                offsets[c * (phases.count + 1) + phases.count] = Int32(pc)
            }
        }
        self.offsets = offsets
    }

    static func count(_ p: Phase, core: Int) -> Int {
        switch p {
        case .local: return 1
        case .collective(let h): return h.plan.place(core).map { h.plan.count(position: $0.position) } ?? 0
        case .custom(let count, _): return count(core)
        case .begin, .end: return 1
        }
    }

    public func op(core: Int, pc: Int) -> MeshOp? {
        guard grid.offsets(of: core) != nil else { return nil }
        let base = core * (phaseCount + 1)
        guard pc < Int(offsets[base + phaseCount]) else { return nil }
        // Binary search for the phase holding pc.
        var lo = 0, hi = phaseCount - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if Int(offsets[base + mid]) <= pc { lo = mid } else { hi = mid - 1 }
        }
        // Skip empty phases that share the offset.
        while lo < phaseCount - 1 && Int(offsets[base + lo + 1]) <= pc { lo += 1 }
        let k = pc - Int(offsets[base + lo])
        switch phases[lo] {
        case .local(let label, let ops, _):
            return .compute(macs: ops(core), label: label, work: workIndex[lo])
        case .collective(let h): return h.plan.op(core: core, pc: k)
        case .custom(_, let op): return op(core, k)
        case .begin(let i): return .begin(invocation: i)
        case .end(let i): return .end(invocation: i)
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
