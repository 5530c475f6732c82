import XCTest
import WaferSpec
import WaferTrace
@testable import WaferMesh

/// The numerics pipeline replays a run's arithmetic and payload moves on a second thread with
/// the results of a single-threaded run, bit for bit: through more entries than its ring holds,
/// with multicast copies, and with mail left in mailboxes from one run for the next whichever
/// thread does either run's arithmetic.
final class NumericsPipelineTests: XCTestCase {
    /// Every core multicasts its buffer 0 along its row (a copy to each core it passes, two hops
    /// on), `sends` times, mixing what it receives into buffer 0 between sends; it receives only
    /// `receives` of the copies addressed to it, so the rest stay in its mailbox for a later run.
    struct Mailer: MeshProgram {
        let routes: [Int32]
        let sends: Int, receives: Int
        let salt: Int32
        let label: Int32
        let executesPerCore: Bool
        /// Each work also spins this many rounds (so the helper falls behind and the ring fills).
        var spin = 0

        init(_ e: MeshEngine, sends: Int, receives: Int, salt: Int32, piped: Bool) throws {
            let g = e.geometry
            routes = try (0..<g.coreCount).map { c in
                let x = g.x(of: c)
                let legs = x + 2 < g.width ? [RouteLeg(.east, 2, deliverAlong: true)] : [RouteLeg(.west, 2, deliverAlong: true)]
                return try e.route(from: c, colour: Int(salt) % 2, legs: legs)
            }
            self.sends = sends
            self.receives = receives
            self.salt = salt
            label = e.label("mail")
            executesPerCore = piped
        }

        /// Copies reaching each core: one from each of the (up to two) cores sending through it.
        func copies(core: Int, width: Int) -> Int {
            let x = core % width
            var n = 0
            for s in [x - 1, x - 2] where s >= 0 && s + 2 < width { n += 1 }
            for s in [x + 1, x + 2] where s < width && s + 2 >= width { n += 1 }
            return n
        }

        func op(core: Int, pc: Int) -> MeshOp? {
            // compute, send, compute … then the receives.
            if pc < 2 * sends {
                return pc % 2 == 0 ? .compute(macs: 30, label: label, work: Int32(pc / 2))
                    : .send(route: routes[core], bytes: 32, buffer: 0)
            }
            let r = pc - 2 * sends
            guard r < 2 * receives else { return nil }
            return r % 2 == 0 ? .recv(colour: salt % 2, buffer: 1) : .compute(macs: 10, label: label, work: 1000 + Int32(r / 2))
        }

        func execute(work: Int32, core: Int, store: PayloadStore) {
            var x = Double(work)
            for _ in 0..<spin { x = x * 1.000001 + 1 }
            if x < -1 { return }
            if store[core, 0].isEmpty { store[core, 0] = (0..<8).map { Float(core * 8 + $0) * 0.01 + Float(salt) } }
            let incoming = store[core, 1]
            for i in 0..<8 {
                let v = i < incoming.count ? incoming[i] : 0
                store[core, 0][i] = (store[core, 0][i] * 0.5 + v.squareRoot() + Float(work) * 0.25)
                    .truncatingRemainder(dividingBy: 53)
            }
        }
    }

    /// Runs `first` (leaving mail behind), then `second` (taking it), each piped or not; returns
    /// every core's buffers 0 and 1 and the engine.
    func simulate(threads: Int, firstPiped: Bool, secondPiped: Bool, sends: Int = 6, spin: Int = 0)
        throws -> (buffers: [[Float]], engine: MeshEngine) {
        let spec = try MeshSpec.wse2.subgrid(width: 12, height: 5)
        let rec = try TraceRecorder(spec: spec, detail: .summary)
        let e = try MeshEngine(spec: spec, recorder: rec, payloadSlots: 2)
        e.numericsThreads = threads
        var first = try Mailer(e, sends: sends, receives: 0, salt: 0, piped: firstPiped)
        first.spin = spin
        let width = spec.width
        // The first run receives all but one round of its copies.
        let firstReceives = (0..<spec.coreCount).map { first.copies(core: $0, width: width) * (sends - 1) }
        try e.run(Receiving(base: first, receives: firstReceives))
        // The second run sends once more on the other colour, then takes the copies left behind.
        let second = try Mailer(e, sends: 1, receives: 0, salt: 1, piped: secondPiped)
        let left = (0..<spec.coreCount).map { first.copies(core: $0, width: width) }
        try e.run(Receiving(base: second, receives: (0..<spec.coreCount).map { second.copies(core: $0, width: width) },
                            thenOld: left, oldColour: 0))
        let store = try XCTUnwrap(e.store)
        return ((0..<spec.coreCount).flatMap { [store[$0, 0], store[$0, 1]] }, e)
    }

    /// A `Mailer` whose receive counts differ per core, optionally followed by receives on
    /// another colour (mail an earlier run left behind).
    struct Receiving: MeshProgram {
        let base: Mailer
        let receives: [Int]
        var thenOld: [Int] = []
        var oldColour: Int32 = 0
        var executesPerCore: Bool { base.executesPerCore }

        func op(core: Int, pc: Int) -> MeshOp? {
            let sendOps = 2 * base.sends
            if pc < sendOps { return base.op(core: core, pc: pc) }
            var r = pc - sendOps
            let own = receives[core]
            if r < 2 * own {
                return r % 2 == 0 ? .recv(colour: base.salt % 2, buffer: 1)
                    : .compute(macs: 10, label: base.label, work: 1000 + Int32(r / 2))
            }
            r -= 2 * own
            let old = thenOld.isEmpty ? 0 : thenOld[core]
            guard r < 2 * old else { return nil }
            return r % 2 == 0 ? .recv(colour: oldColour, buffer: 1) : .compute(macs: 10, label: base.label, work: 2000 + Int32(r / 2))
        }

        func execute(work: Int32, core: Int, store: PayloadStore) { base.execute(work: work, core: core, store: store) }
    }

    func testMailLeftBetweenRunsCarriesOverWhicheverThreadComputes() throws {
        let (reference, _) = try simulate(threads: 1, firstPiped: false, secondPiped: false)
        XCTAssertTrue(reference.contains { !$0.isEmpty })
        for (a, b) in [(true, false), (false, true), (true, true)] {
            let (buffers, engine) = try simulate(threads: 2, firstPiped: a, secondPiped: b)
            XCTAssertNil(firstDifference(buffers, reference), "first run piped \(a), second \(b)")
            XCTAssertGreaterThan(engine.stats.numericsWorks, 0)
        }
    }

    func testMoreEntriesThanTheRingHoldsReplayInOrder() throws {
        let sends = 400
        // Slow works: the helper falls more than a ring behind, and the engine waits for room.
        let (reference, _) = try simulate(threads: 1, firstPiped: true, secondPiped: true, sends: sends, spin: 400)
        let (buffers, engine) = try simulate(threads: 2, firstPiped: true, secondPiped: true, sends: sends, spin: 400)
        XCTAssertNil(firstDifference(buffers, reference))
        XCTAssertGreaterThan(engine.stats.numericsEntries, NumericsPipeline.capacity, "the ring wrapped")
        XCTAssertGreaterThan(engine.stats.numericsStalls, 0, "the engine waited for room")
        // Per core: a work per send and per receive; a snapshot per send; a copy handed over and a
        // store per copy received (every copy is received by the end).
        let width = 12, cores = 60
        let probe = try Mailer(engine, sends: sends, receives: 0, salt: 0, piped: true)
        let copies = (0..<cores).map { probe.copies(core: $0, width: width) }.reduce(0, +)
        let works = cores * (sends + 1) + copies * (sends + 1)
        XCTAssertEqual(engine.stats.numericsWorks, works)
        XCTAssertEqual(engine.stats.numericsEntries, works + cores * (sends + 1) + 2 * copies * (sends + 1))
    }

    /// Random programs (computes of four kinds, sends and receives with and without a buffer,
    /// multicast copies, mail left for later runs), each run piped or not at random: two threads
    /// leave every buffer as one does, bit for bit.
    func testRandomProgramsGiveTheResultsOfOneThread() throws {
        for seed in UInt64(1)...12 {
            var rng = SplitMix(seed: seed &* 77)
            let piped = (0..<5).map { _ in rng.next() % 2 == 0 }
            let one = try RandomRuns.simulate(threads: 1, seed: seed, runs: 6, piped: piped)
            let two = try RandomRuns.simulate(threads: 2, seed: seed, runs: 6, piped: piped)
            XCTAssertEqual(one, two, "seed \(seed), runs piped \(piped)")
        }
    }

    /// The first buffer (core × 2 + slot) whose bits differ, or nil.
    private func firstDifference(_ a: [[Float]], _ b: [[Float]]) -> Int? {
        guard a.count == b.count else { return -1 }
        return a.indices.first { a[$0].map(\.bitPattern) != b[$0].map(\.bitPattern) }
    }
}

/// Random multi-run programs for `testRandomProgramsGiveTheResultsOfOneThread` (after a
/// reviewer's stress test).
enum RandomRuns {
    struct Program: MeshProgram {
        let ops: [[MeshOp]]
        let executesPerCore: Bool
        func op(core: Int, pc: Int) -> MeshOp? { pc < ops[core].count ? ops[core][pc] : nil }

        func execute(work: Int32, core: Int, store: PayloadStore) {
            switch Int(work) % 4 {
            case 0:
                if store[core, 0].isEmpty { store[core, 0] = (0..<8).map { Float(core * 8 + $0) * 0.01 + Float(work) } }
                while store[core, 0].count < 8 { store[core, 0].append(Float(store[core, 0].count)) }
                let incoming = store[core, 1]
                for i in 0..<8 {
                    let v = i < incoming.count ? incoming[i] : 0.3
                    store[core, 0][i] = (store[core, 0][i] * 0.5 + v.magnitude.squareRoot() + Float(work) * 0.25)
                        .truncatingRemainder(dividingBy: 53)
                }
            case 1:
                // Contents on entry are unspecified: equal only if buffers are shared alike.
                store.withMutableBuffer(core, 2, count: 8, zeroed: false) { b in
                    for i in 0..<8 { b[i] = (b[i] * 0.9 + Float(i) + Float(work)).truncatingRemainder(dividingBy: 31) }
                }
            case 2:
                store[core, 1] = store[core, 2]
            default:
                store[core, 0] = store[core, 2] + [Float(work)]
                if store[core, 0].count > 16 { store[core, 0].removeFirst(store[core, 0].count - 8) }
            }
        }
    }

    /// Every core's three buffers' bits after `runs` random runs.
    static func simulate(threads: Int, seed: UInt64, runs: Int, piped: [Bool]) throws -> [[UInt32]] {
        let spec = try MeshSpec.wse2.subgrid(width: 10, height: 4)
        let e = try MeshEngine(spec: spec, recorder: try TraceRecorder(spec: spec, detail: .summary), payloadSlots: 3)
        e.numericsThreads = threads
        let g = e.geometry
        func targets(_ s: Int) -> [Int] { g.x(of: s) + 2 < g.width ? [s + 1, s + 2] : [s - 1, s - 2] }
        let routes: [Int32] = try (0..<g.coreCount).map { c in
            let legs = g.x(of: c) + 2 < g.width ? [RouteLeg(.east, 2, deliverAlong: true)] : [RouteLeg(.west, 2, deliverAlong: true)]
            return try e.route(from: c, colour: 0, legs: legs)
        }
        let label = e.label("random")
        var rng = SplitMix(seed: seed)
        var waiting = [Int](repeating: 0, count: g.coreCount)
        for r in 0..<runs {
            var ops = [[MeshOp]](repeating: [], count: g.coreCount)
            let rounds = Int(rng.next() % 300) + 1
            for c in 0..<g.coreCount {
                for _ in 0..<rounds {
                    if rng.next() % 3 != 0 { ops[c].append(.compute(macs: Int(rng.next() % 40), label: label, work: Int32(rng.next() % 1000))) }
                    if rng.next() % 2 == 0 {
                        ops[c].append(.send(route: routes[c], bytes: 32, buffer: Int32(Int(rng.next() % 4) - 1)))
                        for t in targets(c) { waiting[t] += 1 }
                    }
                }
            }
            // Each core receives some of the copies waiting for it (the rest stay for later runs).
            for c in 0..<g.coreCount {
                let n = waiting[c] == 0 ? 0 : Int(rng.next() % UInt64(waiting[c] + 1))
                waiting[c] -= n
                for _ in 0..<n {
                    ops[c].append(.recv(colour: 0, buffer: Int32(Int(rng.next() % 4) - 1)))
                    if rng.next() % 2 == 0 { ops[c].append(.compute(macs: 3, label: label, work: Int32(rng.next() % 1000))) }
                }
            }
            try e.run(Program(ops: ops, executesPerCore: piped[r % piped.count]))
        }
        let store = try XCTUnwrap(e.store)
        return (0..<g.coreCount).flatMap { c in (0..<3).map { store[c, Int32($0)].map(\.bitPattern) } }
    }
}
