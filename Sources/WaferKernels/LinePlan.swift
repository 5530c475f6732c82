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
    /// The schedule's ops resolved for dispatch (shared by copies: one reference to retain).
    private(set) var table: LineOpTable
    /// Grid offsets of a core without a hardware division.
    private let divider: GridDivider

    init(engine: MeshEngine, grid: KernelGrid, axis: Axis, schedule: LineSchedule, op: ReduceOp = .sum,
         slots: (acc: Int32, incoming: Int32, staging: Int32), label: String, cache: RouteCache? = nil) throws {
        self.schedule = schedule
        self.axis = axis
        self.grid = grid
        divider = GridDivider(grid)
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
        var routeIDs: [Int32] = []
        routeIDs.reserveCapacity(lines * offsets[n])
        for line in 0..<lines {
            for p in 0..<n {
                for r in schedule.routes[p] {
                    let src = axis == .x ? grid.core(px: p, py: line) : grid.core(px: line, py: p)
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
        self.routeIDs = routeIDs
        table = LineOpTable(schedule: schedule, routeOffset: offsets, routeIDs: routeIDs, slots: slots,
                            label: self.label, elementBytes: elementBytes)
    }

    /// The same routes with another schedule of identical route structure (e.g. max instead of sum).
    func replacingSchedule(_ s: LineSchedule) -> LinePlan {
        precondition(s.routes == schedule.routes, "replacement schedule must use the same routes")
        var copy = self
        copy.schedule = s
        copy.table = LineOpTable(schedule: s, routeOffset: routeOffset, routeIDs: routeIDs, slots: slots,
                                 label: label, elementBytes: elementBytes)
        return copy
    }

    @inline(__always) func core(line: Int, position p: Int) -> Int {
        axis == .x ? grid.core(px: p, py: line) : grid.core(px: line, py: p)
    }

    /// (line, position) of a core of the grid.
    @inline(__always) func place(_ core: Int) -> (line: Int, position: Int)? {
        guard let (px, py) = divider.offsets(of: core) else { return nil }
        return axis == .x ? (py, px) : (px, py)
    }

    @inline(__always) func count(position p: Int) -> Int { table.count(position: p) }

    /// The `pc`-th op of the collective at `core`, or nil past its end.
    ///
    /// - Complexity: O(1); reads the compiled table, copies nothing.
    @inline(__always)
    func op(core: Int, pc: Int) -> MeshOp? {
        guard let (line, p) = place(core) else { return nil }
        return table.op(line: line, position: p, pc: pc, lineElements: lineElements?[line], elementBytes: elementBytes, label: label)
    }

    /// Runs a collective work code on `core`'s buffers; false when `code` is not a collective's.
    func execute(code: Int32, core: Int, store: PayloadStore) -> Bool {
        Self.execute(code: code, core: core, store: store, slots: slots, chunk: ceilDiv(schedule.elements, schedule.n))
    }

    /// Runs a collective work code on the given slots (any plan using them).
    static func execute(code: Int32, core: Int, store: PayloadStore,
                        slots: (acc: Int32, incoming: Int32, staging: Int32), chunk: Int) -> Bool {
        guard let work = LineWork(code: code) else { return false }
        if slots.acc != slots.incoming && slots.acc != slots.staging && slots.incoming != slots.staging {
            // In place: the slots a work kind changes are modified where they live.
            switch work.kind {
            case .reduce:
                // `perform`'s loop on borrowed elements (one uniqueness check, not one per element).
                let isMax = work.isMax
                store.withBuffer(core, slots.incoming) { incoming in
                    store[core, slots.acc].withUnsafeMutableBufferPointer { acc in
                        let n = min(acc.count, incoming.count)
                        if isMax {
                            for i in 0..<n { acc[i] = Swift.max(acc[i], incoming[i]) }
                        } else {
                            for i in 0..<n { acc[i] = acc[i] + incoming[i] }
                        }
                    }
                }
            case .copy:
                // `acc = incoming`, copied into acc's own buffer: the buffer is reused when no
                // message holds it (instead of freed here and allocated again by the next phase
                // that writes acc), and acc no longer shares the multicast's buffer.
                store.withBuffer(core, slots.incoming) { incoming in
                    let n = incoming.count
                    store.withMutableBuffer(core, slots.acc, count: n, zeroed: false) { acc in
                        if n > 0 { acc.baseAddress!.update(from: incoming.baseAddress!, count: n) }
                    }
                }
            case .reduceChunk, .copyChunk, .stage:
                let incoming = store[core, slots.incoming]
                LineSchedule.perform(work, chunk: chunk, acc: &store[core, slots.acc], incoming: incoming,
                                     staging: &store[core, slots.staging])
            }
            return true
        }
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

/// One op of a line schedule resolved for dispatch: buffer mapped to its payload slot, route to
/// its index within a line; with the plan's label and element size, so that `PhaseProgram` makes
/// the `MeshOp` from this record and the core's cursor alone (32 bytes).
struct FlatLineOp {
    /// 0 send, 1 receive, 2 compute.
    var kind: Int32
    var slot: Int32
    /// Send: the route's index within its line (`routeOffset[p] + r`); receive: the colour.
    var index: Int32
    /// The plan's label (compute ops).
    var label: Int32
    var elements: Int
    var work: Int32
    /// The plan's element size in bytes (send ops).
    var elementBytes: Int32
}

/// A line schedule's ops for every position, flattened into memory the table owns, plus the
/// route ids of every line: what `LinePlan.op` reads on the engine's hot path.
final class LineOpTable: @unchecked Sendable {
    let n: Int
    let routesPerLine: Int
    private let opStart: UnsafeMutablePointer<Int>
    private let ops: UnsafeMutablePointer<FlatLineOp>
    private let routes: UnsafeMutablePointer<Int32>
    private let opCount: Int, routeCount: Int

    init(schedule: LineSchedule, routeOffset: [Int], routeIDs: [Int32], slots: (acc: Int32, incoming: Int32, staging: Int32),
         label: Int32, elementBytes: Int) {
        n = schedule.n
        routesPerLine = routeOffset[schedule.n]
        func slot(_ b: LineBuffer) -> Int32 {
            switch b {
            case .acc: return slots.acc
            case .incoming: return slots.incoming
            case .staging: return slots.staging
            }
        }
        precondition(elementBytes >= 0 && elementBytes <= Int(Int32.max), "element size must fit Int32")
        let eb = Int32(elementBytes)
        var flat: [FlatLineOp] = []
        var starts = [0]
        for p in 0..<schedule.n {
            for o in schedule.ops[p] {
                switch o {
                case .send(let r, let elements, let buffer):
                    flat.append(FlatLineOp(kind: 0, slot: slot(buffer), index: Int32(routeOffset[p] + r), label: label,
                                           elements: elements, work: 0, elementBytes: eb))
                case .recv(let colour, let buffer):
                    flat.append(FlatLineOp(kind: 1, slot: slot(buffer), index: Int32(colour), label: label, elements: 0, work: 0,
                                           elementBytes: eb))
                case .compute(let elements, let work):
                    flat.append(FlatLineOp(kind: 2, slot: 0, index: 0, label: label, elements: elements, work: work.code,
                                           elementBytes: eb))
                }
            }
            starts.append(flat.count)
        }
        opCount = flat.count
        routeCount = routeIDs.count
        opStart = .allocate(capacity: starts.count)
        opStart.initialize(from: starts, count: starts.count)
        ops = .allocate(capacity: max(1, flat.count))
        ops.initialize(from: flat, count: flat.count)
        routes = .allocate(capacity: max(1, routeIDs.count))
        routes.initialize(from: routeIDs, count: routeIDs.count)
    }

    deinit {
        opStart.deallocate()
        ops.deallocate()
        routes.deallocate()
    }

    /// Ops at line position `p`.
    @inline(__always) func count(position p: Int) -> Int { view.count(position: p) }

    /// The table's memory, for callers that keep the table alive themselves.
    var view: LineOpView { LineOpView(opStart: opStart, ops: ops, routes: routes, routesPerLine: routesPerLine) }

    /// The `pc`-th op at position `p` of line `line`; `lineElements` overrides the schedule's element count.
    ///
    /// - Complexity: O(1).
    @inline(__always)
    func op(line: Int, position p: Int, pc: Int, lineElements: Int?, elementBytes: Int, label: Int32) -> MeshOp? {
        view.op(line: line, position: p, pc: pc, lineElements: lineElements, elementBytes: elementBytes, label: label)
    }
}

/// A `LineOpTable`'s memory without the reference (no retain/release per op); valid while the
/// table lives.
struct LineOpView {
    let opStart: UnsafeMutablePointer<Int>
    let ops: UnsafeMutablePointer<FlatLineOp>
    let routes: UnsafeMutablePointer<Int32>
    let routesPerLine: Int

    /// See `LineOpTable.count`.
    @inline(__always) func count(position p: Int) -> Int { opStart[p + 1] - opStart[p] }

    /// See `LineOpTable.op`.
    @inline(__always)
    func op(line: Int, position p: Int, pc: Int, lineElements: Int?, elementBytes: Int, label: Int32) -> MeshOp? {
        let start = opStart[p]
        guard pc < opStart[p + 1] - start else { return nil }
        let o = ops[start + pc]
        switch o.kind {
        case 0:
            let id = routes[line * routesPerLine + Int(o.index)]
            let n = lineElements ?? o.elements
            return .send(route: id, bytes: max(1, n) * elementBytes, buffer: o.slot)
        case 1:
            return .recv(colour: o.index, buffer: o.slot)
        default:
            let n = o.elements == 0 ? 0 : (lineElements ?? o.elements)
            return .compute(macs: n, label: label, work: o.work)
        }
    }
}
