/// Closed-form timing of the line collectives (K-tree, pipeline and ring allreduce, broadcast) on
/// one line of `n` cores that all start at the same cycle.
///
/// The lines of a grid (every row or every column) run the same schedule on disjoint links, so one
/// line's critical path is the kernel's. Costs are `CostPath`s measured from the common start.
enum LineModel {
    /// The group layout of a K-tree on `n` positions with `groups` groups (as the kernels cut it):
    /// groups of ⌈n / groups⌉ consecutive positions, each reducing into its middle core; the global
    /// root is the middle of the middle group unless given.
    struct KTreeLayout {
        let n: Int
        let groupSize: Int
        let bounds: [(Int, Int)]
        let rootGroup: Int
        let root: Int
        let roots: [Int]

        init(n: Int, groups: Int, root given: Int? = nil) {
            self.n = n
            let size = ceilDiv(n, max(1, min(groups, n)))
            groupSize = size
            let count = ceilDiv(n, size)
            let b = (0..<count).map { k in (k * size, min(n, (k + 1) * size)) }
            bounds = b
            let rg = given.map { $0 / size } ?? count / 2
            rootGroup = rg
            let r = given ?? (b[rg].0 + b[rg].1 - 1) / 2
            root = r
            roots = b.enumerated().map { k, g in k == rg ? r : (g.0 + g.1 - 1) / 2 }
        }

        /// The longest route of the K-tree: between neighbouring group roots, or (allreduce) the
        /// root's multicast to the farther end of the line.
        func maxHops(broadcast: Bool) -> Int {
            var h = n > 1 ? 1 : 0
            for k in 1..<max(1, roots.count) { h = max(h, roots[k] - roots[k - 1]) }
            if broadcast { h = max(h, root, n - 1 - root) }
            return h
        }
    }

    /// A message's head reaching a core, its length, and a key ordering simultaneous arrivals
    /// (the engine serves them by source core id).
    struct Arrival {
        var head: CostPath
        var key: Int
        var wavelets: Int
    }

    /// Up to five messages one core takes in during a reduction (two per phase and a passive
    /// one), stored inline: the model evaluates millions of these for large GEMM-T grids.
    struct Arrivals {
        private var a0: Arrival?, a1: Arrival?, a2: Arrival?, a3: Arrival?, a4: Arrival?
        private(set) var count = 0

        init() {}

        mutating func append(_ a: Arrival?) {
            guard let a else { return }
            switch count {
            case 0: a0 = a
            case 1: a1 = a
            case 2: a2 = a
            case 3: a3 = a
            default: precondition(count == 4, "at most five arrivals"); a4 = a
            }
            count += 1
        }

        subscript(i: Int) -> Arrival {
            switch i {
            case 0: return a0!
            case 1: return a1!
            case 2: return a2!
            case 3: return a3!
            default: return a4!
            }
        }
    }

    /// A core that receives `arrivals` (in program order), reducing each: when it is done, given
    /// its own ready time; and the tail of a `passive` message that shares its ejection ramp but is
    /// received later (GEMM-T's next B tile).
    ///
    /// The messages share the core's ejection ramp first come, first served (ties: the lower
    /// source core), each holding it w cycles: a message whose head arrives while another is being
    /// taken in has its tail pushed back. Each receive completes o after its tail, then the reduce
    /// costs ⌈E/m⌉ + o.
    static func receiveAll(own: CostPath, arrivals: Arrivals, passive: Arrival? = nil, reduce: CostPath,
                           p: Primitives) -> (done: CostPath, passiveTail: CostPath?) {
        var all = arrivals
        all.append(passive)
        let n = all.count
        // Serve in arrival order (selection over at most five), recording each tail.
        var tails: (CostPath, CostPath, CostPath, CostPath, CostPath) = (.zero, .zero, .zero, .zero, .zero)
        func setTail(_ i: Int, _ t: CostPath) {
            switch i { case 0: tails.0 = t; case 1: tails.1 = t; case 2: tails.2 = t; case 3: tails.3 = t; default: tails.4 = t }
        }
        func tail(_ i: Int) -> CostPath {
            switch i { case 0: return tails.0; case 1: return tails.1; case 2: return tails.2; case 3: return tails.3; default: return tails.4 }
        }
        var served = 0   // bit mask
        var free: CostPath? = nil
        for _ in 0..<n {
            var pick = -1
            for i in 0..<n where served & (1 << i) == 0 {
                if pick < 0 || (all[i].head.total, all[i].key) < (all[pick].head.total, all[pick].key) { pick = i }
            }
            served |= 1 << pick
            var h = all[pick].head
            if let f = free { h = h.joined(f) }
            setTail(pick, h + p.transfer(all[pick].wavelets - 1))
            free = h + p.transfer(all[pick].wavelets)
        }
        var t = own
        for i in 0..<arrivals.count { t = t.joined(tail(i)) + p.op + reduce }
        return (t, passive == nil ? nil : tail(arrivals.count))
    }

    /// A K-tree reduce (no broadcast) of `elements` per core from per-position ready times:
    /// when each position is done with its part (the root holding the sum).
    ///
    /// Phase 1: in each group [a, b) the positions left of the group root form a chain a → … → r
    /// and those right of it a chain b−1 → … → r+1 → r; a chain member waits for its
    /// predecessor's message (issue o, injection when its ramp is free, α per hop, w − 1 to the
    /// tail), receives it (o), reduces (⌈E/m⌉ + o) and sends on (o). A chain link therefore costs
    /// L = o + (α + w − 1) + o + (⌈E/m⌉ + o) when everyone is ready. Phase 2: the group roots left
    /// of the root group chain towards it over pass-through routes (g hops: g·α, no relay), those
    /// right of it likewise; each group root first finishes its own phase 1. The root takes
    /// phase 1's two messages and then phase 2's two, all through one ejection ramp.
    ///
    /// - Parameters:
    ///   - rampFree: when each position's injection ramp is free (nil: free from the start).
    ///   - passive: per position, a message that arrives on the same ejection ramp during the
    ///     reduction without being part of it; its tail is returned.
    ///   - keyBase: simultaneous arrivals are served by source core id, keyBase + position here.
    static func ktreeReduceTimes(_ layout: KTreeLayout, ready: [CostPath], rampFree: [CostPath]? = nil,
                                 passive: [Arrival?]? = nil, keyBase: Int = 0,
                                 elements e: Int, p: Primitives) -> (finish: [CostPath], passiveTails: [CostPath?]) {
        let n = layout.n
        var finish = ready
        var passiveTails: [CostPath?] = (passive ?? Array(repeating: nil, count: n)).map { a in
            a.map { $0.head + p.transfer($0.wavelets - 1) }
        }
        guard n > 1 else { return (finish, passiveTails) }
        let w = p.linkWavelets(elements: e)
        let reduce = p.compute(e)
        func inject(_ q: Int, _ issue: CostPath) -> CostPath {
            let i = issue + p.op
            return rampFree.map { i.joined($0[q]) } ?? i
        }
        func receive(_ q: Int, _ arrivals: Arrivals) -> CostPath {
            guard arrivals.count > 0 else { return ready[q] }
            let (done, tail) = receiveAll(own: ready[q], arrivals: arrivals, passive: passive?[q], reduce: reduce, p: p)
            if passive?[q] != nil { passiveTails[q] = tail }
            return done
        }
        /// A chain of positions from `first` to `last` (in sending order) ending at a receiver:
        /// the head there.
        func chain(_ first: Int, _ last: Int) -> Arrival? {
            var arrival: Arrival? = nil
            guard first >= 0, last >= 0, first < n, last < n else { return nil }
            for q in stride(from: first, through: last, by: first <= last ? 1 : -1) {
                var incoming = Arrivals()
                incoming.append(arrival)
                let issue = receive(q, incoming)
                finish[q] = issue + p.op
                arrival = Arrival(head: inject(q, issue) + p.hops(1), key: keyBase + q, wavelets: w)
            }
            return arrival
        }
        var phase1: [Arrivals] = []
        phase1.reserveCapacity(layout.bounds.count)
        for (k, (a, b)) in layout.bounds.enumerated() {
            let r = layout.roots[k]
            var both = Arrivals()
            if r > a { both.append(chain(a, r - 1)) }
            if r < b - 1 { both.append(chain(b - 1, r + 1)) }
            phase1.append(both)
        }
        let rg = layout.rootGroup, roots = layout.roots
        /// Phase 2 along group roots `ks` (in sending order) towards the root group: the head there.
        func phase2(_ ks: StrideTo<Int>, towards next: (Int) -> Int) -> Arrival? {
            var arrival: Arrival? = nil
            for k in ks {
                let q = roots[k]
                var incoming = phase1[k]
                incoming.append(arrival)
                let issue = receive(q, incoming)
                finish[q] = issue + p.op
                arrival = Arrival(head: inject(q, issue) + p.hops(abs(roots[next(k)] - q)), key: keyBase + q, wavelets: w)
            }
            return arrival
        }
        let fromLeft = phase2(stride(from: 0, to: rg, by: 1)) { $0 + 1 }
        let fromRight = phase2(stride(from: roots.count - 1, to: rg, by: -1)) { $0 - 1 }
        var last = phase1[rg]
        last.append(fromLeft)
        last.append(fromRight)
        finish[layout.root] = receive(layout.root, last)
        return (finish, passiveTails)
    }

    /// The K-tree reduce from a common start: the time the root holds the sum.
    static func ktreeReduce(_ layout: KTreeLayout, elements e: Int, p: Primitives) -> CostPath {
        ktreeReduceTimes(layout, ready: Array(repeating: .zero, count: layout.n), elements: e, p: p).finish[layout.root]
    }

    /// A root that holds a vector at `start` multicasts it to both ends (west, then east); every
    /// other core receives and copies it (o + o). Returns the last core's finish.
    static func broadcast(n: Int, root: Int, elements e: Int, start: CostPath, p: Primitives) -> CostPath {
        guard n > 1 else { return start }
        var finish = start
        var issue = start
        var rampFree: CostPath? = nil
        var injections: [(CostPath, Int)] = []
        for distance in [root, n - 1 - root] where distance > 0 {
            var inject = issue + p.op
            if let f = rampFree { inject = inject.joined(f) }
            rampFree = inject + p.transfer(p.rampCycles(elements: e))
            injections.append((inject, distance))
            issue = issue + p.op
        }
        finish = finish.joined(issue)
        for (inject, distance) in injections {
            finish = finish.joined(inject + p.flight(hops: distance, elements: e) + p.op + p.op)
        }
        return finish
    }

    /// K-tree allreduce (MeshGEMV's): reduce into the middle of the middle group, then multicast.
    static func ktreeAllreduce(n: Int, elements e: Int, groups: Int, p: Primitives) -> CostPath {
        guard n > 1 else { return .zero }
        let layout = KTreeLayout(n: n, groups: groups)
        return broadcast(n: n, root: layout.root, elements: e, start: ktreeReduce(layout, elements: e, p: p), p: p)
    }

    /// Pipeline allreduce: a chain 0 → n−1 that reduces at every core, then forwards back.
    ///
    /// Forward link o + (α + w − 1) + o + (⌈E/m⌉ + o); backward link o + (α + w − 1) + o + o
    /// (receive and copy): (n − 1)·(L_fwd + L_back) in all.
    static func pipelineAllreduce(n: Int, elements e: Int, p: Primitives) -> CostPath {
        guard n > 1 else { return .zero }
        let forward = p.sendToReceive(hops: 1, elements: e) + p.compute(e)
        let backward = p.sendToReceive(hops: 1, elements: e) + p.op
        return (n - 1) * (forward + backward)
    }

    /// Hop counts of the interleaved ring's links, link k joining ring index k to k + 1.
    static func interleavedHops(_ n: Int) -> [Int] {
        let order = interleavedOrder(n)
        return (0..<n).map { k in abs(order[(k + 1) % n] - order[k]) }
    }

    /// The interleaved ring on a line: even positions ascending, then odd positions descending.
    static func interleavedOrder(_ n: Int) -> [Int] {
        guard n > 0 else { return [] }
        return Array(stride(from: 0, to: n, by: 2)) + Array(stride(from: n % 2 == 0 ? n - 1 : n - 2, through: 1, by: -2))
    }

    /// The largest sum of `count` consecutive entries of a cyclic list (a chain of messages that
    /// walks `count` ring links in a row).
    static func maxConsecutiveSum(_ hops: [Int], count: Int) -> Int {
        guard !hops.isEmpty, count > 0 else { return 0 }
        let n = hops.count
        let full = count / n, rest = count % n
        let total = hops.reduce(0, +)
        guard rest > 0 else { return full * total }
        var window = (0..<rest).reduce(0) { $0 + hops[$1] }
        var best = window
        for start in 1..<n {
            window += hops[(start + rest - 1) % n] - hops[start - 1]
            best = max(best, window)
        }
        return full * total + best
    }

    /// `maxConsecutiveSum(hops, count: k)` for every k in 0…upTo, in O(n·upTo).
    static func windowMaxima(_ hops: [Int], upTo: Int) -> [Int] {
        (0...max(0, upTo)).map { maxConsecutiveSum(hops, count: $0) }
    }

    /// Ring allreduce on the interleaved ring: reduce-scatter then allgather, 2(n − 1) steps of
    /// chunks of ⌈E/n⌉ elements.
    ///
    /// Every core receives from its ring predecessor, so the critical path is a chain of messages
    /// that walks 2(n − 1) consecutive ring links: per step o (send) + h·α + w − 1 + o (receive)
    /// + the step's compute (⌈chunk/m⌉ + o reducing, o copying), after one staging op (o).
    static func ringAllreduce(n: Int, elements e: Int, p: Primitives) -> CostPath {
        guard n > 1 else { return .zero }
        let chunk = ceilDiv(e, n)
        let steps = 2 * (n - 1)
        let perStep = p.op + p.flight(hops: 0, elements: chunk) + p.op
        let hopSum = maxConsecutiveSum(interleavedHops(n), count: steps)
        return p.op + steps * perStep + p.hops(hopSum) + (n - 1) * p.compute(chunk) + (n - 1) * p.op
    }
}
