import XCTest
import WaferSpec
import WaferTrace
@testable import WaferMesh

/// A replayed run whose numerics tape was too long to keep redoes its numerics from the
/// program's ops (`NumericsRerun`): each receive takes the copy the simulation gave it, also
/// where two routes feed one core's colour and the copies arrive in another order than the
/// cores are issued in.
final class NumericsRerunTests: XCTestCase {
    /// On a 3×1 mesh, core 0 computes a long while and then sends its value two hops east; core 1
    /// sends its value one hop east at once; both on colour 0. Core 2 receives twice on colour 0
    /// and folds each copy into its accumulator, `acc = acc · 3 + copy`: the order matters.
    struct TwoSenders: MeshProgram {
        let routes: (Int32, Int32)
        let label: Int32

        var replayKey: AnyHashable? { AnyHashable("two senders") }
        var executesPerCore: Bool { true }

        func op(core: Int, pc: Int) -> MeshOp? {
            let ops: [MeshOp]
            switch core {
            case 0: ops = [.compute(macs: 4000, label: label, work: 0), .send(route: routes.0, bytes: 4, buffer: 0)]
            case 1: ops = [.compute(macs: 1, label: label, work: 1), .send(route: routes.1, bytes: 4, buffer: 0)]
            default: ops = [.recv(colour: 0, buffer: 1), .compute(macs: 1, label: label, work: 2),
                            .recv(colour: 0, buffer: 1), .compute(macs: 1, label: label, work: 2)]
            }
            return pc < ops.count ? ops[pc] : nil
        }

        func execute(work: Int32, core: Int, store: PayloadStore) {
            switch work {
            case 0: store[core, 0] = [2]
            case 1: store[core, 0] = [5]
            default: store[core, 0] = [(store[core, 0].first ?? 0) * 3 + store[core, 1][0]]
            }
        }
    }

    /// Core 2's accumulator after `runs` runs (the host waiting for the mesh between them), and
    /// the engine's counts.
    func accumulate(runs: Int, replays: Bool, threads: Int = 1) throws -> (Float, EngineStats) {
        let spec = try MeshSpec.wse2.subgrid(width: 3, height: 1)
        // Every tape is too long: each run is kept without it, and its numerics rerun.
        let e = try rerunEngine(spec, replays: replays, threads: threads)
        let routes = (try e.route(from: 0, colour: 0, legs: [RouteLeg(.east, 2)]), try e.route(from: 1, colour: 0, legs: [RouteLeg(.east, 1)]))
        let program = TwoSenders(routes: routes, label: e.label("fold"))
        for _ in 0..<runs {
            e.hold(0..<spec.coreCount, until: e.makespanCycles)
            try e.run(program)
        }
        return (try XCTUnwrap(e.store?[2, 0].first), e.stats)
    }

    func testRerunTakesCopiesInTheRecordedOrderWhereTwoRoutesFeedOneColour() throws {
        // Core 1's copy arrives first: 0 · 3 + 5 = 5, then 5 · 3 + 2 = 17; the second run 17 → 56 → 170.
        let (simulated, s0) = try accumulate(runs: 2, replays: false)
        XCTAssertEqual(simulated, 170)
        XCTAssertEqual(s0.replayedRuns, 0)
        for threads in [1, 2] {
            let (replayed, stats) = try accumulate(runs: 3, replays: true, threads: threads)
            XCTAssertEqual(stats.replayedRuns, 2, "\(threads) thread(s)")
            XCTAssertEqual(stats.rerunNumerics, 2, "\(threads) thread(s)")
            // Taken in issue order (core 0's copy first), runs 2 and 3 would give 17 → 53 → 164 and 164 → 494 → 1487.
            XCTAssertEqual(replayed, (170 * 3 + 5) * 3 + 2, "\(threads) thread(s)")
        }
    }

    func testRerunGivesTheSimulatedBitsOfAThreeRunSequence() throws {
        let (simulated, _) = try accumulate(runs: 3, replays: false)
        let (replayed, stats) = try accumulate(runs: 3, replays: true)
        XCTAssertEqual(stats.rerunNumerics, 2)
        XCTAssertEqual(replayed.bitPattern, simulated.bitPattern)
    }

    /// Core 0 sends [1], then [2], on a route that delivers along 7 hops east and turns back west 6
    /// hops, so it enters core 1 twice; core 1 folds its four copies, `acc = acc · 3 + copy`, core 2
    /// takes its two. At core 1 the copies interleave pass by pass (1, 2, 1, 2), which a rerun
    /// posting each message's copies at once would not give: such a run is simulated every time.
    struct TurningBack: MeshProgram {
        let route: Int32
        let label: Int32
        var replayKey: AnyHashable? { AnyHashable("turning back") }
        var executesPerCore: Bool { true }
        func op(core: Int, pc: Int) -> MeshOp? {
            let ops: [MeshOp]
            switch core {
            case 0: ops = [.compute(macs: 1, label: label, work: 0), .send(route: route, bytes: 4, buffer: 0),
                           .compute(macs: 0, label: label, work: 1), .send(route: route, bytes: 4, buffer: 0)]
            case 1: ops = (0..<4).flatMap { _ in [MeshOp.recv(colour: 0, buffer: 1), .compute(macs: 1, label: label, work: 2)] }
            default: ops = [.recv(colour: 0, buffer: 1), .recv(colour: 0, buffer: 1)]
            }
            return pc < ops.count ? ops[pc] : nil
        }
        func execute(work: Int32, core: Int, store: PayloadStore) {
            switch work {
            case 0: store[core, 0] = [1]
            case 1: store[core, 0] = [2]
            default: store[core, 0] = [(store[core, 0].first ?? 0) * 3 + store[core, 1][0]]
            }
        }
    }

    func testRunsWhoseRouteEntersACoreTwiceAreNotRerun() throws {
        func folds(replays: Bool) throws -> ([Float], EngineStats) {
            let spec = try MeshSpec.tiny.subgrid(width: 8, height: 1)
            let e = try MeshEngine(spec: spec, recorder: try TraceRecorder(spec: spec, detail: .summary), payloadSlots: 2)
            e.replaysRuns = replays
            e.entriesPerCoreLimit = 0
            let r = try e.route(from: 0, colour: 0, legs: [RouteLeg(.east, 7, deliverAlong: true), RouteLeg(.west, 6)])
            let program = TurningBack(route: r, label: e.label("fold"))
            var out: [Float] = []
            for _ in 0..<3 {
                e.hold(0..<spec.coreCount, until: e.makespanCycles)
                try e.run(program)
                out.append(try XCTUnwrap(e.store?[1, 0].first))
            }
            return (out, e.stats)
        }
        let (simulated, _) = try folds(replays: false)
        // 1, 2, 1, 2 folded: ((1 · 3 + 2) · 3 + 1) · 3 + 2 = 50 after the first run.
        XCTAssertEqual(simulated.first, 50)
        let (replayed, stats) = try folds(replays: true)
        XCTAssertEqual(stats.rerunNumerics, 0)
        XCTAssertEqual(stats.replayedRuns, 0)
        XCTAssertEqual(replayed, simulated)
    }

    struct OneSend: MeshProgram {
        let route: Int32, source: Int
        func op(core: Int, pc: Int) -> MeshOp? { core == source && pc == 0 ? .send(route: route, bytes: 40, buffer: 0) : nil }
    }

    /// A rerun delivers each copy where the engine does, in the same order: 300 routes of 1–4
    /// legs on 6×6, delivering along some legs and relaying at the ends of some.
    func testRerunDeliversWhereTheEngineEjects() throws {
        let spec = try MeshSpec.wse2.subgrid(width: 6, height: 6)
        var random = TestRandom(seed: 0x9E37_79B9_7F4A_7C15)
        var multicasts = 0, relays = 0
        for trial in 0..<300 {
            let e = try MeshEngine(spec: spec, recorder: try TraceRecorder(spec: spec, detail: .summary), payloadSlots: 1)
            let x = random.next(6), y = random.next(6)
            let source = y * 6 + x
            let legs = random.legs(x: x, y: y, side: 6, maxLegs: 4, alongOneIn: 2)
            multicasts += legs.filter(\.deliverAlong).count
            relays += legs.filter(\.relayAtEnd).count
            let r = try e.route(from: source, colour: 0, legs: legs)
            e.tracksRoutes = true
            try e.run(OneSend(route: r, source: source))
            let ejected = e.arrivalLog.map { Int32($0 >> 32) }
            let rerun = NumericsRerun(routes: e.routes, coreCount: spec.coreCount, stepOffsets: e.stepOffset)
            XCTAssertEqual(rerun.deliveryCores(of: Int(r)), ejected, "trial \(trial), legs \(legs)")
        }
        XCTAssertGreaterThan(multicasts, 100)
        XCTAssertGreaterThan(relays, 50)
    }
}
