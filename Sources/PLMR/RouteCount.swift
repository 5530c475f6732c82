/// Counting the routes (colours) a kernel's schedule puts on each core of a line.
///
/// A route touches its source, every router it passes and its destination; a router holds one
/// entry per distinct colour, so PLMR-R is the number of distinct colours touching a core. The
/// kernels lay the same routes on every row (or column), so one line's count is every line's.
struct LineRoutes {
    let n: Int
    private(set) var colours: [Set<Int>]

    init(n: Int) {
        self.n = n
        colours = Array(repeating: [], count: max(0, n))
    }

    /// Adds a straight route from position `a` to `b` on `colour`.
    mutating func add(_ a: Int, _ b: Int, colour: Int) {
        guard a != b else { return }
        for q in min(a, b)...max(a, b) { colours[q].insert(colour) }
    }

    /// Adds every route of another set (a union, as when several schedules share the line).
    mutating func formUnion(_ other: LineRoutes) {
        for q in 0..<min(n, other.n) { colours[q].formUnion(other.colours[q]) }
    }

    /// Distinct colours at each position.
    var counts: [Int] { colours.map(\.count) }

    /// The busiest position's count.
    var maxCount: Int { counts.max() ?? 0 }

    /// The ring routes of a compute–shift ring GEMM on a line laid out in `order`: each ring index
    /// k sends to k + step on colour `base + k mod 3`, or `base + 3` when the route is longer than
    /// 2 hops (Cannon's wraparound).
    static func ring(order: [Int], step: Int, base: Int) -> LineRoutes {
        let n = order.count
        var r = LineRoutes(n: n)
        guard n > 1 else { return r }
        for k in 0..<n {
            let to = order[((k + step) % n + n) % n]
            r.add(order[k], to, colour: abs(to - order[k]) > 2 ? base + 3 : base + k % 3)
        }
        return r
    }

    /// The routes of a K-tree on a line (colours 0…3 phase 1, 4…7 phase 2, 8 the multicast).
    static func ktree(_ layout: LineModel.KTreeLayout, broadcast: Bool) -> LineRoutes {
        var r = LineRoutes(n: layout.n)
        for (k, (a, b)) in layout.bounds.enumerated() {
            let root = layout.roots[k]
            for q in a..<b where q != root {
                if q < root { r.add(q, q + 1, colour: q % 2) } else { r.add(q, q - 1, colour: 2 + q % 2) }
            }
        }
        let rg = layout.rootGroup
        for k in layout.roots.indices where k != rg {
            if k < rg { r.add(layout.roots[k], layout.roots[k + 1], colour: 4 + k % 2) }
            else { r.add(layout.roots[k], layout.roots[k - 1], colour: 6 + k % 2) }
        }
        if broadcast && layout.n > 1 {
            r.add(layout.root, 0, colour: 8)
            r.add(layout.root, layout.n - 1, colour: 8)
        }
        return r
    }

    /// The pipeline allreduce's routes: p → p+1 on colour p mod 2, p → p−1 on 2 + p mod 2.
    static func pipeline(n: Int) -> LineRoutes {
        var r = LineRoutes(n: n)
        guard n > 1 else { return r }
        for q in 0..<(n - 1) { r.add(q, q + 1, colour: q % 2) }
        for q in 1..<n { r.add(q, q - 1, colour: 2 + q % 2) }
        return r
    }

    /// The ring allreduce's routes on the interleaved ring: ring index k → k+1 on colour k mod 3.
    static func ringAllreduce(n: Int) -> LineRoutes {
        var r = LineRoutes(n: n)
        guard n > 1 else { return r }
        let order = LineModel.interleavedOrder(n)
        for k in 0..<n { r.add(order[k], order[(k + 1) % n], colour: k % 3) }
        return r
    }

    /// A broadcast's two multicast routes from `root`.
    static func broadcast(n: Int, root: Int) -> LineRoutes {
        var r = LineRoutes(n: n)
        if n > 1 { r.add(root, 0, colour: 0); r.add(root, n - 1, colour: 0) }
        return r
    }
}
