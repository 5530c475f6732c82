import WaferMesh
import WaferSpec

/// Allreduce and broadcast algorithms on a line of cores (a row or a column of a grid).
public enum LineAlgorithm: Hashable, Sendable {
    /// MeshGEMV's K-tree with K = 2: reduce inside `groups` groups into their middle cores,
    /// then across group roots over pass-through routes, then multicast back.
    case ktree(groups: Int)
    /// Chain to the far end, adding on the way, then forward back hop by hop.
    case pipeline
    /// Reduce-scatter then allgather on the interleaved ring (neighbours ≤ 2 hops apart).
    case ring

    /// About √n groups, the paper's default.
    public static func defaultGroups(_ n: Int) -> Int { max(1, Int((Double(n)).squareRoot().rounded())) }

    public var name: String {
        switch self {
        case .ktree: return "ktree"
        case .pipeline: return "pipeline"
        case .ring: return "ring"
        }
    }
}

/// What a collective does with the vectors: the element-wise operation of a reduction.
public enum ReduceOp: String, Sendable { case sum, max }

/// Abstract buffers of a collective; a kernel maps them to its payload slots.
enum LineBuffer: Int32 { case acc = 0, incoming = 1, staging = 2 }

/// The real arithmetic a collective asks for, packed into a `MeshOp.compute` work code.
///
/// Layout of the code: kind in bits 28–30, a max-reduction flag in bit 27, the incoming chunk in
/// bits 14–26 and the outgoing chunk in bits 0–13. Kernel-specific work codes stay below 2^27.
struct LineWork: Hashable {
    enum Kind: Int32 { case reduce = 1, copy = 2, reduceChunk = 3, copyChunk = 4, stage = 5 }
    var kind: Kind
    var isMax: Bool
    var chunkIn: Int32
    var chunkOut: Int32

    var code: Int32 { kind.rawValue << 28 | (isMax ? 1 << 27 : 0) | (chunkIn & 0x1FFF) << 14 | (chunkOut & 0x3FFF) }

    init(_ kind: Kind, op: ReduceOp = .sum, chunkIn: Int = 0, chunkOut: Int = 0) {
        self.kind = kind; isMax = op == .max; self.chunkIn = Int32(chunkIn); self.chunkOut = Int32(chunkOut)
    }

    init?(code: Int32) {
        guard let k = Kind(rawValue: (code >> 28) & 0x7) else { return nil }
        kind = k; isMax = (code >> 27) & 1 == 1; chunkIn = (code >> 14) & 0x1FFF; chunkOut = code & 0x3FFF
    }

    /// Whether a work code belongs to a line collective.
    static func isCollective(_ code: Int32) -> Bool { code >= 1 << 27 }
}

/// One step of a collective at one line position.
enum LineOp: Hashable {
    /// Send `buffer` (its first `elements` elements are what counts) on this position's `route`-th route.
    case send(route: Int, elements: Int, buffer: LineBuffer)
    case recv(colour: Int, buffer: LineBuffer)
    /// `elements` element operations with real arithmetic `work`.
    case compute(elements: Int, work: LineWork)
}

/// A straight route along the line: from a position to another, optionally delivering to every
/// core on the way (multicast).
struct LineRoute: Hashable, Equatable {
    var to: Int
    var colour: Int
    var multicast: Bool
}

/// A collective's program for every position of a line of `n` cores, independent of where the
/// line lies on the mesh: every line of the same length shares it.
struct LineSchedule {
    let n: Int
    let elements: Int
    var routes: [[LineRoute]]
    var ops: [[LineOp]]

    init(n: Int, elements: Int) {
        self.n = n
        self.elements = elements
        routes = Array(repeating: [], count: n)
        ops = Array(repeating: [], count: n)
    }

    private mutating func route(_ p: Int, to q: Int, colour: Int, multicast: Bool = false) -> Int {
        routes[p].append(LineRoute(to: q, colour: colour, multicast: multicast))
        return routes[p].count - 1
    }

    private mutating func send(_ p: Int, to q: Int, colour: Int, buffer: LineBuffer = .acc, elements e: Int? = nil) {
        let r = route(p, to: q, colour: colour)
        ops[p].append(.send(route: r, elements: e ?? elements, buffer: buffer))
    }

    private mutating func receiveReduce(_ p: Int, colour: Int, op: ReduceOp) {
        ops[p].append(.recv(colour: colour, buffer: .incoming))
        ops[p].append(.compute(elements: elements, work: LineWork(.reduce, op: op)))
    }

    /// Colours used: `base + 0…8`. Each direction of each phase has its own pair of colours
    /// (alternating by sender, so a router never forwards and receives on one colour), so a
    /// core's messages from one sender are matched in order even when steps overlap.
    ///
    /// - Parameters:
    ///   - root: where the reduction lands (default: the middle of the middle group).
    ///   - broadcast: multicast the result back to every position (allreduce) or not (reduce).
    static func ktree(n: Int, elements: Int, groups: Int, root: Int? = nil, broadcast: Bool,
                      op: ReduceOp = .sum, colourBase base: Int) -> LineSchedule {
        var s = LineSchedule(n: n, elements: elements)
        let g = ceilDiv(n, max(1, min(groups, n)))
        let groupCount = ceilDiv(n, g)
        let bounds = (0..<groupCount).map { k in (k * g, min(n, (k + 1) * g)) }
        let rootGroup = root.map { $0 / g } ?? groupCount / 2
        let globalRoot = root ?? (bounds[rootGroup].0 + bounds[rootGroup].1 - 1) / 2
        let roots = bounds.enumerated().map { k, b in k == rootGroup ? globalRoot : (b.0 + b.1 - 1) / 2 }
        // Phase 1: stream into each group's root from both sides.
        for (k, (a, b)) in bounds.enumerated() {
            let r = roots[k]
            for p in a..<b {
                if p < r {
                    if p > a { s.receiveReduce(p, colour: base + (p - 1) % 2, op: op) }
                    s.send(p, to: p + 1, colour: base + p % 2)
                } else if p > r {
                    if p < b - 1 { s.receiveReduce(p, colour: base + 2 + (p + 1) % 2, op: op) }
                    s.send(p, to: p - 1, colour: base + 2 + p % 2)
                } else {
                    if r > a { s.receiveReduce(p, colour: base + (r - 1) % 2, op: op) }
                    if r < b - 1 { s.receiveReduce(p, colour: base + 2 + (r + 1) % 2, op: op) }
                }
            }
        }
        // Phase 2: across group roots, pass-through routes (α per core skipped, no relay).
        for k in 0..<groupCount {
            let p = roots[k]
            if k < rootGroup {
                if k > 0 { s.receiveReduce(p, colour: base + 4 + (k - 1) % 2, op: op) }
                s.send(p, to: roots[k + 1], colour: base + 4 + k % 2)
            } else if k > rootGroup {
                if k < groupCount - 1 { s.receiveReduce(p, colour: base + 6 + (k + 1) % 2, op: op) }
                s.send(p, to: roots[k - 1], colour: base + 6 + k % 2)
            } else {
                if k > 0 { s.receiveReduce(p, colour: base + 4 + (k - 1) % 2, op: op) }
                if k < groupCount - 1 { s.receiveReduce(p, colour: base + 6 + (k + 1) % 2, op: op) }
            }
        }
        if broadcast { s.appendBroadcast(from: globalRoot, colour: base + 8) }
        return s
    }

    /// The root multicasts its `acc` to every other position (one message each way).
    mutating func appendBroadcast(from root: Int, colour: Int) {
        if root > 0 {
            let r = route(root, to: 0, colour: colour, multicast: true)
            ops[root].append(.send(route: r, elements: elements, buffer: .acc))
        }
        if root < n - 1 {
            let r = route(root, to: n - 1, colour: colour, multicast: true)
            ops[root].append(.send(route: r, elements: elements, buffer: .acc))
        }
        for p in 0..<n where p != root {
            ops[p].append(.recv(colour: colour, buffer: .incoming))
            ops[p].append(.compute(elements: 0, work: LineWork(.copy)))
        }
    }

    /// A broadcast alone. Colour `base`.
    static func broadcast(n: Int, elements: Int, root: Int, colourBase base: Int) -> LineSchedule {
        var s = LineSchedule(n: n, elements: elements)
        s.appendBroadcast(from: root, colour: base)
        return s
    }

    /// Chain 0 → n−1 adding, then n−1 → 0 forwarding. Colours `base + 0…3`.
    static func pipeline(n: Int, elements: Int, op: ReduceOp = .sum, colourBase base: Int) -> LineSchedule {
        var s = LineSchedule(n: n, elements: elements)
        guard n > 1 else { return s }
        for p in 0..<n {
            if p > 0 { s.receiveReduce(p, colour: base + (p - 1) % 2, op: op) }
            if p < n - 1 { s.send(p, to: p + 1, colour: base + p % 2) }
        }
        for p in stride(from: n - 1, through: 0, by: -1) {
            if p < n - 1 {
                s.ops[p].append(.recv(colour: base + 2 + (p + 1) % 2, buffer: .incoming))
                s.ops[p].append(.compute(elements: 0, work: LineWork(.copy)))
            }
            if p > 0 { s.send(p, to: p - 1, colour: base + 2 + p % 2) }
        }
        return s
    }

    /// Reduce-scatter then allgather in chunks of ⌈elements / n⌉ on the interleaved ring.
    /// Colours `base + 0…2` (by the sender's ring index mod 3).
    static func ring(n: Int, elements: Int, op: ReduceOp = .sum, colourBase base: Int) -> LineSchedule {
        var s = LineSchedule(n: n, elements: elements)
        guard n > 1 else { return s }
        let order = RingOrder.interleaved(n)
        let chunk = ceilDiv(elements, n)
        for k in 0..<n {
            let p = order[k], next = order[(k + 1) % n]
            let fromColour = base + ((k + n - 1) % n) % 3
            let r = s.route(p, to: next, colour: base + k % 3)
            // Reduce-scatter: at step t send chunk (k − t), receive chunk (k − t − 1) and add it.
            s.ops[p].append(.compute(elements: 0, work: LineWork(.stage, chunkOut: k)))
            for t in 0..<(n - 1) {
                let cin = ((k - t - 1) % n + n) % n
                let cout = ((k - t - 1) % n + n) % n
                s.ops[p].append(.send(route: r, elements: chunk, buffer: .staging))
                s.ops[p].append(.recv(colour: fromColour, buffer: .incoming))
                s.ops[p].append(.compute(elements: chunk, work: LineWork(.reduceChunk, op: op, chunkIn: cin, chunkOut: cout)))
            }
            // Allgather: chunk (k + 1) is complete here; pass complete chunks on.
            for t in 0..<(n - 1) {
                let cin = ((k - t) % n + n) % n
                s.ops[p].append(.send(route: r, elements: chunk, buffer: .staging))
                s.ops[p].append(.recv(colour: fromColour, buffer: .incoming))
                s.ops[p].append(.compute(elements: 0, work: LineWork(.copyChunk, chunkIn: cin, chunkOut: cin)))
            }
        }
        return s
    }

    static func make(_ algorithm: LineAlgorithm, n: Int, elements: Int, op: ReduceOp = .sum, colourBase: Int) -> LineSchedule {
        switch algorithm {
        case .ktree(let groups): return ktree(n: n, elements: elements, groups: groups, broadcast: true, op: op, colourBase: colourBase)
        case .pipeline: return pipeline(n: n, elements: elements, op: op, colourBase: colourBase)
        case .ring: return ring(n: n, elements: elements, op: op, colourBase: colourBase)
        }
    }

    /// Performs `work` on the abstract buffers (acc, incoming, staging) of one core.
    static func perform(_ work: LineWork, chunk: Int, acc: inout [Float], incoming: [Float], staging: inout [Float]) {
        let op: ReduceOp = work.isMax ? .max : .sum
        switch work.kind {
        case .reduce:
            for i in 0..<min(acc.count, incoming.count) { acc[i] = op == .sum ? acc[i] + incoming[i] : Swift.max(acc[i], incoming[i]) }
        case .copy:
            acc = incoming
        case .reduceChunk, .copyChunk:
            let lo = Int(work.chunkIn) * chunk
            for i in 0..<chunk where lo + i < acc.count && i < incoming.count {
                if work.kind == .copyChunk { acc[lo + i] = incoming[i] }
                else { acc[lo + i] = op == .sum ? acc[lo + i] + incoming[i] : Swift.max(acc[lo + i], incoming[i]) }
            }
            fallthrough
        case .stage:
            let lo = Int(work.chunkOut) * chunk
            staging = (0..<chunk).map { lo + $0 < acc.count ? acc[lo + $0] : 0 }
        }
    }
}
