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
        let e = try MeshEngine(spec: spec, recorder: try TraceRecorder(spec: spec, detail: .summary), payloadSlots: 2)
        e.replaysRuns = replays
        e.numericsThreads = threads
        // Every tape is too long: each run is kept without it, and its numerics rerun.
        e.entriesPerCoreLimit = 0
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
}
