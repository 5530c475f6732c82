import WaferMesh
import WaferSpec

/// The axis a line collective runs along.
public enum Axis: String, Sendable {
    /// Along a row (positions are x offsets; one line per row).
    case x
    /// Along a column (positions are y offsets; one line per column).
    case y
}

/// A `LineSchedule` laid on every row (or every column) of a grid: routes declared, ops bound.
struct LinePlan {
    private(set) var schedule: LineSchedule
    let axis: Axis
    let grid: KernelGrid
    let slots: (acc: Int32, incoming: Int32, staging: Int32)
    let label: Int32
    let elementBytes: Int
    let op: ReduceOp
    /// Elements per line when lines carry vectors of different lengths (K-tree and pipeline only).
    var lineElements: [Int]?
    private let routeOffset: [Int]
    private var routeIDs: [Int32]

    init(engine: MeshEngine, grid: KernelGrid, axis: Axis, schedule: LineSchedule, op: ReduceOp = .sum,
         slots: (acc: Int32, incoming: Int32, staging: Int32), label: String, cache: RouteCache? = nil) throws {
        self.schedule = schedule
        self.axis = axis
        self.grid = grid
        self.slots = slots
        self.op = op
        self.label = engine.label(label)
        elementBytes = engine.spec.elementBytes
        let n = schedule.n
        precondition(n == (axis == .x ? grid.cols : grid.rows), "schedule length \(n) does not match the grid")
        var offsets = [0]
        for p in 0..<n { offsets.append(offsets[p] + schedule.routes[p].count) }
        routeOffset = offsets
        let lines = axis == .x ? grid.rows : grid.cols
        routeIDs = []
        routeIDs.reserveCapacity(lines * offsets[n])
        for line in 0..<lines {
            for p in 0..<n {
                for r in schedule.routes[p] {
                    let src = core(line: line, position: p)
                    let hops = abs(r.to - p)
                    let dir: Direction = axis == .x ? (r.to > p ? .east : .west) : (r.to > p ? .south : .north)
                    let leg = RouteLeg(dir, hops, deliverAlong: r.multicast)
                    if let cache {
                        routeIDs.append(try cache.route(engine, from: src, colour: r.colour, leg: leg))
                    } else {
                        routeIDs.append(try engine.route(from: src, colour: r.colour, legs: [leg]))
                    }
                }
            }
        }
    }

    /// The same routes with another schedule of identical route structure (e.g. max instead of sum).
    func replacingSchedule(_ s: LineSchedule) -> LinePlan {
        precondition(s.routes == schedule.routes, "replacement schedule must use the same routes")
        var copy = self
        copy.schedule = s
        return copy
    }

    @inline(__always) func core(line: Int, position p: Int) -> Int {
        axis == .x ? grid.core(px: p, py: line) : grid.core(px: line, py: p)
    }

    /// (line, position) of a core of the grid.
    @inline(__always) func place(_ core: Int) -> (line: Int, position: Int)? {
        guard let (px, py) = grid.offsets(of: core) else { return nil }
        return axis == .x ? (py, px) : (px, py)
    }

    @inline(__always) func count(position p: Int) -> Int { schedule.ops[p].count }

    /// The `pc`-th op of the collective at `core`, or nil past its end.
    @inline(__always)
    func op(core: Int, pc: Int) -> MeshOp? {
        guard let (line, p) = place(core), pc < schedule.ops[p].count else { return nil }
        switch schedule.ops[p][pc] {
        case .send(let r, let elements, let buffer):
            let id = routeIDs[line * routeOffset[schedule.n] + routeOffset[p] + r]
            let n = lineElements?[line] ?? elements
            return .send(route: id, bytes: max(1, n) * elementBytes, buffer: slot(buffer))
        case .recv(let colour, let buffer):
            return .recv(colour: Int32(colour), buffer: slot(buffer))
        case .compute(let elements, let work):
            let n = elements == 0 ? 0 : (lineElements?[line] ?? elements)
            return .compute(macs: n, label: label, work: work.code)
        }
    }

    private func slot(_ b: LineBuffer) -> Int32 {
        switch b {
        case .acc: return slots.acc
        case .incoming: return slots.incoming
        case .staging: return slots.staging
        }
    }

    /// Runs a collective work code on `core`'s buffers; false when `code` is not a collective's.
    func execute(code: Int32, core: Int, store: PayloadStore) -> Bool {
        Self.execute(code: code, core: core, store: store, slots: slots, chunk: ceilDiv(schedule.elements, schedule.n))
    }

    /// Runs a collective work code on the given slots (any plan using them).
    static func execute(code: Int32, core: Int, store: PayloadStore,
                        slots: (acc: Int32, incoming: Int32, staging: Int32), chunk: Int) -> Bool {
        guard let work = LineWork(code: code) else { return false }
        var acc = store[core, slots.acc]
        store[core, slots.acc] = []
        var staging = store[core, slots.staging]
        LineSchedule.perform(work, chunk: chunk, acc: &acc, incoming: store[core, slots.incoming], staging: &staging)
        store[core, slots.acc] = acc
        store[core, slots.staging] = staging
        return true
    }
}

/// Shares identical single-leg routes between plans (a kernel whose steps reuse the same paths).
final class RouteCache {
    private struct Key: Hashable {
        var source: Int, colour: Int, direction: Direction, hops: Int, multicast: Bool
    }
    private var ids: [Key: Int32] = [:]

    func route(_ engine: MeshEngine, from source: Int, colour: Int, leg: RouteLeg) throws -> Int32 {
        let key = Key(source: source, colour: colour, direction: leg.direction, hops: leg.hops, multicast: leg.deliverAlong)
        if let id = ids[key] { return id }
        let id = try engine.route(from: source, colour: colour, legs: [leg])
        ids[key] = id
        return id
    }
}
