import Foundation
import Synchronization

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
    private let coreCount: Int
    private let stepOffsets: (Int, Int, Int, Int)
    /// Per (core << 32 | colour) received on from more than one route: those routes in arrival order.
    private let mixed: [Int: [Int32]]
    /// `deliveryCores(of:)`'s walks.
    private var walker: RouteDeliveries?

    deinit { walker?.free() }

    /// Reads `routes` as they are now (the run's routes are all declared before it starts).
    init(routes: RouteTable, coreCount: Int, stepOffsets: (Int, Int, Int, Int), mixed: [Int: [Int32]] = [:]) {
        self.routes = routes
        self.coreCount = coreCount
        self.stepOffsets = stepOffsets
        self.mixed = mixed
    }

    /// How long each lane of a rerun on two threads worked (waits for the other lane left out),
    /// and how many cores it had: what the next split can be balanced by.
    struct LaneTimes {
        var cores: (Int, Int)
        var busyNanoseconds: (UInt64, UInt64)

        /// The share of cores the first lane should get for both to take equally long, had each
        /// kept its speed per core.
        var balancedShare: Double? {
            guard busyNanoseconds.0 > 0, busyNanoseconds.1 > 0, cores.0 > 0, cores.1 > 0 else { return nil }
            let r0 = Double(cores.0) / Double(busyNanoseconds.0), r1 = Double(cores.1) / Double(busyNanoseconds.1)
            return r0 / (r0 + r1)
        }
    }

    /// Whether a rerun of `program` on `coreCount` cores can run in two lanes: its ops and works
    /// keep to their own core (`MeshProgram.opsPerCore`, `executesPerCore`), and there are two cores.
    static func splits<P: MeshProgram>(_ program: P, coreCount: Int) -> Bool {
        coreCount >= 2 && program.opsPerCore && program.executesPerCore
    }

    /// Issues every core's ops of `program` from pc 0 to the end, doing its arithmetic on `store`.
    ///
    /// With `helper` (a way to run a closure on another host thread, which the caller waits for
    /// after this returns) and a program whose ops and works keep to their own core
    /// (`MeshProgram.opsPerCore`, `executesPerCore`), the cores are split in two lanes, cores
    /// `0..<split` (default: half of them) and the rest, one per thread (`RerunExchange`); the
    /// bits are the same as on one thread, whatever the split, since every receive still takes
    /// the copy it took there. Returns the lanes' times then (nil on one thread).
    ///
    /// - Throws: `MeshError.deadlock` if cores are left waiting or copies unreceived (the program's
    ///   ops are not the recorded run's); `MeshError.badProgram` for a send on an undeclared route.
    @discardableResult
    func run<P: MeshProgram>(_ program: P, store: PayloadStore, split: Int? = nil,
                             helper: ((@escaping @Sendable () -> Void) -> Void)? = nil) throws -> LaneTimes? {
        let n = coreCount
        guard let helper, Self.splits(program, coreCount: n) else {
            let lane = RerunLane(lane: 0, cores: 0..<n, routes: routes, coreCount: n, stepOffsets: stepOffsets, mixed: mixed)
            defer { lane.free() }
            try lane.run(program, store: store, exchange: nil)
            try lane.checkDone()
            return nil
        }
        let split = min(n - 1, max(1, split ?? (n + 1) / 2))
        let exchange = RerunExchange()
        let lanes = [RerunLane(lane: 0, cores: 0..<split, routes: routes, coreCount: n, stepOffsets: stepOffsets, mixed: mixed),
                     RerunLane(lane: 1, cores: split..<n, routes: routes, coreCount: n, stepOffsets: stepOffsets, mixed: mixed)]
        defer { for l in lanes { l.free() } }
        let lane1 = lanes[1]
        let second = UncheckedBox({ try lane1.run(program, store: store, exchange: exchange) })
        helper {
            do { try second.value() } catch {
                lane1.failure = error
                exchange.state(1).value.store(RerunExchange.failed, ordering: .sequentiallyConsistent)
            }
            exchange.done.value.store(1, ordering: .releasing)
        }
        var failure: Error?
        do { try lanes[0].run(program, store: store, exchange: exchange) } catch {
            failure = error
            exchange.state(0).value.store(RerunExchange.failed, ordering: .sequentiallyConsistent)
        }
        var spun = 0
        while exchange.done.value.load(ordering: .acquiring) == 0 {
            spun += 1
            if spun > 1_000 { sched_yield() }
        }
        if let failure { throw failure }
        if let failure = lanes[1].failure { throw failure }
        for l in lanes {
            l.drain(exchange)
            try l.checkDone()
        }
        return LaneTimes(cores: (split, n - split), busyNanoseconds: (lanes[0].busyNanoseconds, lanes[1].busyNanoseconds))
    }

    /// The cores route `r` delivers to, in order.
    ///
    /// - Complexity: O(its length) the first time a route is asked for, O(its deliveries) after.
    func deliveryCores(of r: Int) -> [Int32] {
        if walker == nil { walker = RouteDeliveries(routes: routes, stepOffsets: stepOffsets) }
        let (first, count, _) = walker!.deliveries(r)
        return (first..<(first + count)).map { walker!.targets[$0] }
    }
}

/// A value handed to another thread whose user keeps to the parts that thread may touch.
private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Where each route delivers its copies, worked out the first time it is sent on.
private struct RouteDeliveries {
    let routes: RouteTable
    let routeCount: Int
    let offsets: (Int, Int, Int, Int)
    /// Per route (8 bytes, read on every send): where its deliveries sit in `targets` and its
    /// colour (start −1: neither worked out yet).
    let routeInfo: UnsafeMutablePointer<(start: Int32, colour: Int32)>
    /// Per route, once worked out: how many cores it delivers to, then those cores (in the order
    /// routes are first sent on, so a sweep reads it nearly in order).
    var targets = RawVec<Int32>(capacity: 1024)

    init(routes: RouteTable, stepOffsets: (Int, Int, Int, Int)) {
        self.routes = routes
        routeCount = routes.count
        offsets = stepOffsets
        routeInfo = .allocate(capacity: max(1, routeCount))
        routeInfo.initialize(repeating: (-1, 0), count: max(1, routeCount))
    }

    mutating func free() {
        routeInfo.deallocate()
        targets.free()
    }

    /// The cores route `r` delivers a copy to: every core entered on a leg that delivers along
    /// it, then the destination (as `MeshEngine.hop` ejects them); their place in `targets`, and
    /// the route's colour.
    @inline(__always) mutating func deliveries(_ r: Int) -> (start: Int, count: Int, colour: Int32) {
        var info = routeInfo[r]
        if info.start < 0 { info = workOut(r) }
        let s = Int(info.start)
        return (s &+ 1, Int(targets[s]), info.colour)
    }

    /// Walks route `r` once (the first time it is sent on), from the engine's route table.
    private mutating func workOut(_ r: Int) -> (start: Int32, colour: Int32) {
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
}

/// A copy bound for a core of the other lane.
struct RerunCrossing: Sendable {
    var core: Int32
    var colour: Int32
    var route: Int32
    var payload: [Float]
}

/// What two rerun lanes share: each lane's inbox of copies from the other, and counters that
/// tell a lane with nothing to do whether more can come.
///
/// A lane counts the copies it pushes to the other (`pushed`) and the copies it took in
/// (`consumed`), and says whether it is running, idle (every core of it waiting, its inbox
/// empty), finished or failed. An idle lane waits until its inbox has copies, or until the other
/// lane is not running and has taken in every copy this one pushed: then neither can go on, and
/// the rerun ends (a deadlock, unless every core finished). The counter is read before the
/// other's state, so an idle state seen is one the other entered after taking those copies.
final class RerunExchange: Sendable {
    static let running = 0, idle = 1, finished = 2, failed = 3
    private let inbox0 = Mutex<[RerunCrossing]>([])
    private let inbox1 = Mutex<[RerunCrossing]>([])
    private let pushed0 = PaddedAtomic(), pushed1 = PaddedAtomic()
    private let consumed0 = PaddedAtomic(), consumed1 = PaddedAtomic()
    private let state0 = PaddedAtomic(), state1 = PaddedAtomic()
    /// 1 once the second lane has returned.
    let done = PaddedAtomic()

    func pushed(_ l: Int) -> PaddedAtomic { l == 0 ? pushed0 : pushed1 }
    func consumed(_ l: Int) -> PaddedAtomic { l == 0 ? consumed0 : consumed1 }
    func state(_ l: Int) -> PaddedAtomic { l == 0 ? state0 : state1 }

    /// Appends `copies` to lane `to`'s inbox (emptying `copies`), then counts them.
    func push(_ copies: inout [RerunCrossing], to l: Int) {
        let k = copies.count
        if l == 0 { inbox0.withLock { $0.append(contentsOf: copies) } } else { inbox1.withLock { $0.append(contentsOf: copies) } }
        copies.removeAll(keepingCapacity: true)
        pushed(1 - l).value.add(k, ordering: .sequentiallyConsistent)
    }

    /// Lane `l`'s inbox, emptied.
    func take(for l: Int) -> [RerunCrossing] {
        if l == 0 { return inbox0.withLock { b in let out = b; b = []; return out } }
        return inbox1.withLock { b in let out = b; b = []; return out }
    }

    /// Called by lane `l` when none of its cores can issue and it has pushed what it had: true
    /// once its inbox has copies (the lane is running again), false when no copy can come (the
    /// other lane is not running and has taken in all of this one's) or the other lane failed.
    func awaitCopies(lane l: Int) -> Bool {
        let o = 1 - l
        state(l).value.store(Self.idle, ordering: .sequentiallyConsistent)
        var spun = 0
        while true {
            if pushed(o).value.load(ordering: .sequentiallyConsistent) > consumed(l).value.load(ordering: .sequentiallyConsistent) {
                state(l).value.store(Self.running, ordering: .sequentiallyConsistent)
                return true
            }
            let theirs = consumed(o).value.load(ordering: .sequentiallyConsistent)
            let other = state(o).value.load(ordering: .sequentiallyConsistent)
            if other == Self.failed { return false }
            if other == Self.finished || (other == Self.idle && theirs == pushed(l).value.load(ordering: .sequentiallyConsistent)) {
                // The other lane is done, or can wake only on this one's copies and there are none:
                // whatever it pushed before it stopped is counted by now.
                if pushed(o).value.load(ordering: .sequentiallyConsistent) > consumed(l).value.load(ordering: .sequentiallyConsistent) {
                    state(l).value.store(Self.running, ordering: .sequentiallyConsistent)
                    return true
                }
                return false
            }
            spun += 1
            if spun > 1_000 { sched_yield() }
        }
    }
}

/// One lane of a rerun: its cores (a contiguous range), their mailboxes, and the copies it
/// sends to the other lane's cores. One thread runs it; the caller reads it after that thread
/// says it is done (`RerunExchange.done`).
private final class RerunLane: @unchecked Sendable {
    let lane: Int
    let cores: Range<Int>
    private var walk: RouteDeliveries
    private let mixed: [Int: [Int32]]
    private var mixedTaken: [Int: Int] = [:]
    /// Per core (of the whole mesh; only this lane's used): whether any of its colours is in `mixed`.
    private let hasMixed: UnsafeMutablePointer<Bool>
    /// Mailboxes: per core the first and last copy waiting; per copy its colour, route, successor
    /// and payload (a pool, its free copies chained through `next`).
    private let mailHead: UnsafeMutablePointer<Int32>, mailTail: UnsafeMutablePointer<Int32>
    private var mail = RawVec<Mail>(capacity: 1024)
    private var payloads: UnsafeMutablePointer<[Float]>
    private var payloadCapacity = 1024
    private var freeMail: Int32 = -1
    /// Per core: the next pc, and −1 ready to issue, −2 finished, else the colour it waits on.
    private let pc: UnsafeMutablePointer<Int>
    private let waiting: UnsafeMutablePointer<Int32>
    private var finished = 0
    /// Copies for the other lane's cores, pushed after each core's turn.
    private var outbox: [RerunCrossing] = []
    /// Set by the thread that ran the lane when it threw.
    var failure: Error?
    /// How long `run` took, less the time it waited for copies from the other lane.
    private(set) var busyNanoseconds: UInt64 = 0

    private struct Mail {
        var colour: Int32
        var route: Int32
        var next: Int32
    }

    init(lane: Int, cores: Range<Int>, routes: RouteTable, coreCount: Int, stepOffsets: (Int, Int, Int, Int), mixed: [Int: [Int32]]) {
        self.lane = lane
        self.cores = cores
        walk = RouteDeliveries(routes: routes, stepOffsets: stepOffsets)
        self.mixed = mixed
        let n = max(1, coreCount)
        hasMixed = .allocate(capacity: n)
        hasMixed.initialize(repeating: false, count: n)
        for k in mixed.keys { hasMixed[k >> 32] = true }
        mailHead = .allocate(capacity: n)
        mailHead.initialize(repeating: -1, count: n)
        mailTail = .allocate(capacity: n)
        mailTail.initialize(repeating: -1, count: n)
        payloads = .allocate(capacity: payloadCapacity)
        payloads.initialize(repeating: [], count: payloadCapacity)
        pc = .allocate(capacity: n)
        pc.initialize(repeating: 0, count: n)
        waiting = .allocate(capacity: n)
        waiting.initialize(repeating: -1, count: n)
    }

    /// Releases the lane's memory (once, after its thread is done with it).
    func free() {
        walk.free()
        hasMixed.deallocate()
        mailHead.deallocate()
        mailTail.deallocate()
        payloads.deinitialize(count: payloadCapacity)
        payloads.deallocate()
        mail.free()
        pc.deallocate()
        waiting.deallocate()
    }

    /// Puts a copy of `payload` in `core`'s mailbox (the last copy of a message takes the payload
    /// itself: `payload` is left empty) and wakes the core if it waits on `colour`.
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
        if waiting[core] == colour { waiting[core] = -1 }
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

    /// Posts the copies the other lane sent this one.
    func drain(_ exchange: RerunExchange) {
        var got = exchange.take(for: lane)
        guard !got.isEmpty else { return }
        for i in got.indices {
            post(&got[i].payload, last: true, colour: got[i].colour, route: got[i].route, to: Int(got[i].core))
        }
        exchange.consumed(lane).value.add(got.count, ordering: .sequentiallyConsistent)
    }

    /// Sweeps the lane's cores in order, each issuing until it waits or finishes, until none can
    /// go on (and, with an exchange, no copy can come from the other lane).
    func run<P: MeshProgram>(_ program: P, store: PayloadStore, exchange: RerunExchange?) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        var waited: UInt64 = 0
        defer { busyNanoseconds = DispatchTime.now().uptimeNanoseconds &- start &- waited }
        while true {
            if let exchange { drain(exchange) }
            var progress = false
            for c in cores where waiting[c] == -1 {
                progress = true
                try issue(program, core: c, store: store)
                if let exchange, !outbox.isEmpty { exchange.push(&outbox, to: 1 - lane) }
            }
            if finished == cores.count {
                exchange?.state(lane).value.store(RerunExchange.finished, ordering: .sequentiallyConsistent)
                return
            }
            if progress { continue }
            guard let exchange else { return }
            let idle = DispatchTime.now().uptimeNanoseconds
            let more = exchange.awaitCopies(lane: lane)
            waited &+= DispatchTime.now().uptimeNanoseconds &- idle
            guard more else { return }
        }
    }

    /// Core `c` issues ops until it waits on a colour or finishes.
    @inline(__always) private func issue<P: MeshProgram>(_ program: P, core c: Int, store: PayloadStore) throws {
        while true {
            guard let op = program.op(core: c, pc: pc[c]) else {
                waiting[c] = -2
                finished += 1
                return
            }
            switch op {
            case .compute(_, _, let work):
                if work >= 0 { program.execute(work: work, core: c, store: store) }
            case .send(let r, _, let buffer):
                guard r >= 0 && Int(r) < walk.routeCount else {
                    throw MeshError.badProgram("core \(c) sends on undeclared route \(r) in a replay's numerics rerun")
                }
                var payload = buffer >= 0 ? store[c, buffer] : []
                let (first, count, colour) = walk.deliveries(Int(r))
                for i in first..<(first + count) {
                    let d = Int(walk.targets[i])
                    let last = i == first + count - 1
                    if cores.contains(d) {
                        post(&payload, last: last, colour: colour, route: r, to: d)
                    } else {
                        outbox.append(RerunCrossing(core: Int32(d), colour: colour, route: r, payload: payload))
                        if last { payload = [] }
                    }
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
                    return
                }
                if route >= 0 { mixedTaken[key, default: 0] += 1 }
            case .waitSends, .alloc, .free, .begin, .end, .nop:
                break
            }
            pc[c] += 1
        }
    }

    /// Throws unless every core of the lane finished and took every copy sent to it.
    func checkDone() throws {
        var unreceived = false
        for c in cores where mailHead[c] >= 0 { unreceived = true }
        guard finished == cores.count, !unreceived else {
            throw MeshError.deadlock("a replay's numerics rerun left \(cores.count - finished) core(s) waiting or copies unreceived: the program's ops are not the recorded run's")
        }
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
