/// Redoes a replayed run's numerics by issuing every core's ops again, without time.
///
/// A replay takes a run's timing from its record; its numbers it usually redoes from the
/// record's numerics tape. Some runs' tapes are far too long to keep (a MeshGEMM prefill's GEMMs
/// tape 950–1,410 entries a core, 141–208 MB a run, and a dozen of them recur). Their numerics
/// can be redone from the program itself instead: every core issues its ops in order; a compute
/// runs its work, a send snapshots its buffer into a copy for every core the route delivers to,
/// a receive takes the oldest copy on its colour from the core's mailbox (a core with none
/// waits until one comes), and allocations, marks and waits do nothing.
///
/// This gives the bits simulating gives as long as every receive takes the copy it took in the
/// simulation. A core's copies on one colour from one route arrive in the order they were sent
/// (one source ramp, the same links claimed in turn, one ejection ramp), so where a core receives
/// on a colour from one route only, the oldest copy is the right one whatever the order cores
/// run in here. Where it receives on a colour from two or more routes (a GEMM-T's ReduceAdd
/// whose root moves step by step), the record keeps the routes its copies came from, in the
/// order they arrived (`mixed`), and each receive there takes the oldest copy from the next of
/// them. A run that used a route delivering to one core twice (turning back through it) is not
/// kept: there two messages' copies interleave pass by pass. Works touch only their own core's
/// buffers (a replay key's promise), so the order in which cores run between receives changes
/// nothing else.
///
/// - Complexity: O(ops + copies) for the run, plus O(routes) to set up (each route used is
///   walked once, from the engine's route table).
final class NumericsRerun {
    private let routes: RouteTable
    private let routeCount: Int
    private let offsets: (Int, Int, Int, Int)
    private let coreCount: Int
    /// Per route (8 bytes, read on every send): where its deliveries sit in `targets` and its
    /// colour (start −1: neither worked out yet).
    private let routeInfo: UnsafeMutablePointer<(start: Int32, colour: Int32)>
    /// Per route, once worked out: how many cores it delivers to, then those cores (in the order
    /// routes are first sent on, so a sweep reads it nearly in order).
    private var targets = RawVec<Int32>(capacity: 1024)
    /// Mailboxes: per core the first and last copy waiting; per copy its colour, route, successor
    /// and payload (a pool, its free copies chained through `next`).
    private let mailHead: UnsafeMutablePointer<Int32>, mailTail: UnsafeMutablePointer<Int32>
    private var mail = RawVec<Mail>(capacity: 1024)
    private var payloads: UnsafeMutablePointer<[Float]>
    private var payloadCapacity = 1024
    private var freeMail: Int32 = -1
    /// Per (core << 32 | colour) received on from more than one route: those routes in arrival order.
    private let mixed: [Int: [Int32]]
    private var mixedTaken: [Int: Int] = [:]
    /// Per core: whether any of its colours is in `mixed`.
    private let hasMixed: UnsafeMutablePointer<Bool>

    private struct Mail {
        var colour: Int32
        var route: Int32
        var next: Int32
    }

    /// Reads `routes` as they are now (the run's routes are all declared before it starts).
    init(routes: RouteTable, coreCount: Int, stepOffsets: (Int, Int, Int, Int), mixed: [Int: [Int32]] = [:]) {
        self.routes = routes
        routeCount = routes.count
        offsets = stepOffsets
        self.coreCount = coreCount
        routeInfo = .allocate(capacity: max(1, routeCount))
        routeInfo.initialize(repeating: (-1, 0), count: max(1, routeCount))
        mailHead = .allocate(capacity: max(1, coreCount))
        mailHead.initialize(repeating: -1, count: max(1, coreCount))
        mailTail = .allocate(capacity: max(1, coreCount))
        mailTail.initialize(repeating: -1, count: max(1, coreCount))
        payloads = .allocate(capacity: payloadCapacity)
        payloads.initialize(repeating: [], count: payloadCapacity)
        self.mixed = mixed
        hasMixed = .allocate(capacity: max(1, coreCount))
        hasMixed.initialize(repeating: false, count: max(1, coreCount))
        for k in mixed.keys { hasMixed[k >> 32] = true }
    }

    deinit {
        routeInfo.deallocate()
        mailHead.deallocate()
        mailTail.deallocate()
        payloads.deinitialize(count: payloadCapacity)
        payloads.deallocate()
        hasMixed.deallocate()
        targets.free()
        mail.free()
    }

    /// The cores route `r` delivers a copy to: every core entered on a leg that delivers along
    /// it, then the destination (as `MeshEngine.hop` ejects them); their place in `targets`, and
    /// the route's colour.
    @inline(__always) private func deliveries(_ r: Int) -> (start: Int, count: Int, colour: Int32) {
        var info = routeInfo[r]
        if info.start < 0 { info = workOutDeliveries(r) }
        let s = Int(info.start)
        return (s &+ 1, Int(targets[s]), info.colour)
    }

    /// Walks route `r` once (the first time it is sent on), from the engine's route table.
    private func workOutDeliveries(_ r: Int) -> (start: Int32, colour: Int32) {
        let route = routes.routes[r]
        let start = targets.count
        targets.append(0)
        var p = Int(route.source)
        let last = Int(route.legEnd) - 1
        for l in Int(route.firstLeg)...last {
            let leg = routes.legs[l]
            let step: Int
            switch leg.direction {
            case 0: step = offsets.0
            case 1: step = offsets.1
            case 2: step = offsets.2
            default: step = offsets.3
            }
            for h in stride(from: 1, through: Int(leg.hops), by: 1) {
                p += step
                if leg.flags & 1 != 0 && !(l == last && h == Int(leg.hops)) { targets.append(Int32(p)) }
            }
        }
        targets.append(route.destination)
        targets[start] = Int32(targets.count - start - 1)
        routeInfo[r] = (Int32(start), route.colour)
        return routeInfo[r]
    }

    /// Puts a copy of `payload` in `core`'s mailbox; the last copy of a message takes the payload
    /// itself (`payload` is left empty).
    @inline(__always) private func post(_ payload: inout [Float], last: Bool, colour: Int32, route: Int32, to core: Int) {
        let k: Int
        if freeMail >= 0 {
            k = Int(freeMail)
            freeMail = mail[k].next
            mail[k] = Mail(colour: colour, route: route, next: -1)
        } else {
            k = mail.count
            mail.append(Mail(colour: colour, route: route, next: -1))
            if k >= payloadCapacity { growPayloads() }
        }
        if last { swap(&payloads[k], &payload) } else { payloads[k] = payload }
        if mailTail[core] >= 0 { mail[Int(mailTail[core])].next = Int32(k) } else { mailHead[core] = Int32(k) }
        mailTail[core] = Int32(k)
    }

    private func growPayloads() {
        let bigger = UnsafeMutablePointer<[Float]>.allocate(capacity: 2 * payloadCapacity)
        bigger.moveInitialize(from: payloads, count: payloadCapacity)
        (bigger + payloadCapacity).initialize(repeating: [], count: payloadCapacity)
        payloads.deallocate()
        payloads = bigger
        payloadCapacity *= 2
    }

    /// Takes the oldest copy on `colour` (from `route`, unless negative) out of `core`'s mailbox
    /// into `buffer` of `store` (dropped when `buffer` is negative); false when there is none.
    @inline(__always) private func take(core: Int, colour: Int32, route: Int32, into buffer: Int32, store: PayloadStore) -> Bool {
        var prev: Int32 = -1
        var k = mailHead[core]
        while k >= 0 {
            let i = Int(k)
            let m = mail[i]
            if m.colour == colour && (route < 0 || m.route == route) {
                if prev < 0 { mailHead[core] = m.next } else { mail[Int(prev)].next = m.next }
                if mailTail[core] == k { mailTail[core] = prev }
                if buffer >= 0 { swap(&store[core, buffer], &payloads[i]) }
                payloads[i] = []
                mail[i].next = freeMail
                freeMail = k
                return true
            }
            prev = k
            k = m.next
        }
        return false
    }

    /// Issues every core's ops of `program` from pc 0 to the end, doing its arithmetic on `store`.
    ///
    /// - Throws: `MeshError.deadlock` if cores are left waiting or copies unreceived (the program's
    ///   ops are not the recorded run's).
    func run<P: MeshProgram>(_ program: P, store: PayloadStore) throws {
        let n = coreCount
        let pc = UnsafeMutablePointer<Int>.allocate(capacity: max(1, n))
        pc.initialize(repeating: 0, count: max(1, n))
        // Per core: −1 ready to issue, −2 finished, else the colour it waits on.
        let waiting = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, n))
        waiting.initialize(repeating: -1, count: max(1, n))
        defer { pc.deallocate(); waiting.deallocate() }
        var finished = 0
        // Sweeps in core order over the cores that can issue (neighbouring cores' routes, buffers
        // and mailboxes lie side by side), until a sweep finds none.
        var progress = true
        while progress {
            progress = false
            for c in 0..<n where waiting[c] == -1 {
                progress = true
                issuing: while true {
                    guard let op = program.op(core: c, pc: pc[c]) else {
                        waiting[c] = -2
                        finished += 1
                        break issuing
                    }
                    switch op {
                    case .compute(_, _, let work):
                        if work >= 0 { program.execute(work: work, core: c, store: store) }
                    case .send(let r, _, let buffer):
                        guard r >= 0 && Int(r) < routeCount else {
                            throw MeshError.badProgram("core \(c) sends on undeclared route \(r) in a replay's numerics rerun")
                        }
                        var payload = buffer >= 0 ? store[c, buffer] : []
                        let (first, count, colour) = deliveries(Int(r))
                        for i in first..<(first + count) {
                            let d = Int(targets[i])
                            post(&payload, last: i == first + count - 1, colour: colour, route: r, to: d)
                            if waiting[d] == colour { waiting[d] = -1 }
                        }
                    case .recv(let colour, let buffer):
                        var route: Int32 = -1, key = 0
                        if hasMixed[c] {
                            key = c << 32 | Int(colour)
                            if let order = mixed[key] {
                                let taken = mixedTaken[key] ?? 0
                                guard taken < order.count else {
                                    throw MeshError.deadlock("a replay's numerics rerun receives more on colour \(colour) at core \(c) than the recorded run")
                                }
                                route = order[taken]
                            }
                        }
                        guard take(core: c, colour: colour, route: route, into: buffer, store: store) else {
                            waiting[c] = colour
                            break issuing
                        }
                        if route >= 0 { mixedTaken[key, default: 0] += 1 }
                    case .waitSends, .alloc, .free, .begin, .end, .nop:
                        break
                    }
                    pc[c] += 1
                }
            }
        }
        var unreceived = false
        for c in 0..<n where mailHead[c] >= 0 { unreceived = true }
        guard finished == n, !unreceived else {
            throw MeshError.deadlock("a replay's numerics rerun left \(n - finished) core(s) waiting or copies unreceived: the program's ops are not the recorded run's")
        }
    }

    /// The cores route `r` delivers to, in order.
    func deliveryCores(of r: Int) -> [Int32] {
        let (first, count, _) = deliveries(r)
        return (first..<(first + count)).map { targets[$0] }
    }
}

extension MeshEngine {
    /// For every (core << 32 | colour) that received copies from two or more routes in a recorded
    /// run, the routes of its copies in the order they arrived (`arrivals`: one `core << 32 | route`
    /// per copy, in the engine's order); empty when every core received on each colour from one
    /// route. Nil when a route the run used delivers to one core twice (a route that turns back
    /// through a core it delivered to): two messages' copies there interleave pass by pass, which
    /// the rerun, posting a message's copies at once, would not reproduce.
    ///
    /// - Complexity: O(arrivals + routes), plus O(cores the routes used deliver to) hash
    ///   operations.
    func mixedArrivals(_ arrivals: [Int]) -> [Int: [Int32]]? {
        var used = [Bool](repeating: false, count: routes.count)
        for a in arrivals { used[Int(Int32(truncatingIfNeeded: a))] = true }
        var feeder: [Int: Int32] = [:], mixed = Set<Int>()
        let rerun = NumericsRerun(routes: routes, coreCount: geometry.coreCount, stepOffsets: stepOffset)
        for r in used.indices where used[r] {
            let colour = Int(routes.routes[r].colour)
            let cores = rerun.deliveryCores(of: r)
            if Set(cores).count < cores.count { return nil }
            for core in cores {
                let k = Int(core) << 32 | colour
                if let f = feeder[k], f != Int32(r) { mixed.insert(k) }
                feeder[k] = Int32(r)
            }
        }
        guard !mixed.isEmpty else { return [:] }
        var out: [Int: [Int32]] = [:]
        for a in arrivals {
            let route = Int32(truncatingIfNeeded: a)
            let k = (a >> 32) << 32 | Int(routes.routes[Int(route)].colour)
            if mixed.contains(k) { out[k, default: []].append(route) }
        }
        return out
    }
}
