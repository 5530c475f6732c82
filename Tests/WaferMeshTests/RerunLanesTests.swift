import XCTest
import WaferSpec
import WaferTrace
@testable import WaferMesh

/// A numerics rerun on two host threads (`NumericsRerun` with a helper: the mesh's two halves in
/// two lanes, copies for the other half through `RerunExchange`) gives the bits of the
/// simulation, and stops with an error instead of hanging when the program breaks its promise.
final class RerunLanesTests: XCTestCase {
    /// Random exchanges on a 6×6 mesh: in each of three rounds every core mixes its accumulator,
    /// sends it on its route of the round (colour = round; multicasts and relays, across the
    /// halves too) and folds in every copy the round delivers to it, `acc = acc / 2 + 1.25 · copy`
    /// (the order of the copies matters; two routes feed one core's colour often).
    struct RandomExchange: MeshProgram {
        /// Per round, per core: its route, and how many copies the round delivers to it.
        let routes: [[Int32]]
        let receives: [[Int]]
        let label: Int32
        /// Receives one copy more on core `extraAt` in the last round (breaks the replay promise).
        var extraAt = -1

        var replayKey: AnyHashable? { AnyHashable("random exchange") }
        var executesPerCore: Bool { true }
        var opsPerCore: Bool { true }

        func op(core: Int, pc: Int) -> MeshOp? {
            var k = pc
            for (round, routes) in self.routes.enumerated() {
                let folds = receives[round][core] + (core == extraAt && round == self.routes.count - 1 ? 1 : 0)
                let length = 2 + 2 * folds
                if k < length {
                    switch k {
                    case 0: return .compute(macs: 1 + core % 5, label: label, work: Int32(round))
                    case 1: return .send(route: routes[core], bytes: 4 * (1 + core % 3), buffer: 0)
                    default: return (k - 2) % 2 == 0 ? .recv(colour: Int32(round), buffer: 1) : .compute(macs: 2, label: label, work: 100)
                    }
                }
                k -= length
            }
            return nil
        }

        func execute(work: Int32, core: Int, store: PayloadStore) {
            let acc = store[core, 0].first ?? 0
            if work == 100 {
                store[core, 0] = [acc / 2 + 1.25 * store[core, 1][0]]
            } else {
                store[core, 0] = [acc * 0.75 + Float(core) + 0.125 * Float(work)]
            }
        }
    }

    /// The random program of `trial`: routes that never enter a core twice, and how many copies
    /// reach each core per round; also how many copies cross between the mesh's halves.
    func program(trial: Int, engine e: MeshEngine, side: Int) throws -> (RandomExchange, crossings: Int) {
        var random = TestRandom(seed: UInt64(0x51_7CC1_B727_220A) &+ UInt64(trial) &* 0x9E37_79B9_7F4A_7C15)
        let n = side * side, split = (n + 1) / 2
        var routes: [[Int32]] = [], receives: [[Int]] = [], crossings = 0
        for round in 0..<3 {
            var mine: [Int32] = [], got = [Int](repeating: 0, count: n)
            for source in 0..<n {
                while true {
                    let legs = random.legs(x: source % side, y: source / side, side: side, maxLegs: 3, alongOneIn: 3)
                    let r = try e.route(from: source, colour: round, legs: legs)
                    let cores = NumericsRerun(routes: e.routes, coreCount: n, stepOffsets: e.stepOffset).deliveryCores(of: Int(r))
                    guard Set(cores).count == cores.count else { continue }
                    for c in cores {
                        got[Int(c)] += 1
                        if (Int(c) < split) != (source < split) { crossings += 1 }
                    }
                    mine.append(r)
                    break
                }
            }
            routes.append(mine)
            receives.append(got)
        }
        return (RandomExchange(routes: routes, receives: receives, label: e.label("fold")), crossings)
    }

    /// An engine on 6×6 whose every numerics tape is too long to keep (runs are kept without it
    /// and their numerics rerun), with two payload slots.
    func engine(replays: Bool, threads: Int, share: Double = 0.5) throws -> (MeshEngine, MeshSpec) {
        let spec = try MeshSpec.wse2.subgrid(width: 6, height: 6)
        let e = try rerunEngine(spec, replays: replays, threads: threads)
        e.rerunShare = share
        return (e, spec)
    }

    /// Every core's accumulator after three runs, and the engine's counts.
    func accumulators(trial: Int, replays: Bool, threads: Int, share: Double = 0.5) throws -> ([UInt32], EngineStats, Int) {
        let (e, spec) = try engine(replays: replays, threads: threads, share: share)
        let (p, crossings) = try program(trial: trial, engine: e, side: spec.width)
        for _ in 0..<3 {
            e.hold(0..<spec.coreCount, until: e.makespanCycles)
            try e.run(p)
        }
        let store = try XCTUnwrap(e.store)
        return ((0..<spec.coreCount).map { (store[$0, 0].first ?? .nan).bitPattern }, e.stats, crossings)
    }

    func testTwoLaneRerunsGiveTheSimulatedBits() throws {
        var reruns = 0, crossings = 0
        for trial in 0..<12 {
            let (simulated, s0, _) = try accumulators(trial: trial, replays: false, threads: 1)
            XCTAssertEqual(s0.rerunNumerics, 0)
            // One thread; two, the first lane with a third, half or four fifths of the cores to start
            // with (the split moves after each rerun towards balancing the lanes' times).
            for (threads, share) in [(1, 0.5), (2, 0.5), (2, 0.3), (2, 0.8)] {
                let (replayed, stats, crossed) = try accumulators(trial: trial, replays: true, threads: threads, share: share)
                XCTAssertEqual(replayed, simulated, "trial \(trial), \(threads) thread(s)")
                XCTAssertEqual(stats.rerunNumerics, 2, "trial \(trial), \(threads) thread(s)")
                XCTAssertEqual(stats.rerunNumericsOnTwoThreads, threads == 2 ? 2 : 0, "trial \(trial)")
                if threads == 2 && share == 0.5 { reruns += stats.rerunNumerics; crossings += crossed }
            }
        }
        XCTAssertEqual(reruns, 24)
        // Copies cross between the halves every round (3 rounds × 36 routes per trial).
        XCTAssertGreaterThan(crossings, 12 * 20)
    }

    func testBalancedShareGivesTheFasterLaneMoreCores() {
        let t = NumericsRerun.LaneTimes(cores: (10, 10), busyNanoseconds: (1_000, 3_000))
        XCTAssertEqual(t.balancedShare ?? 0, 0.75, accuracy: 1e-12)
        XCTAssertNil(NumericsRerun.LaneTimes(cores: (10, 10), busyNanoseconds: (0, 3_000)).balancedShare)
    }

    /// A program that receives once more than its recorded run did, on a core of either half:
    /// the rerun stops with a deadlock error on one thread and on two (no lane waits forever).
    func testBrokenPromiseEndsInADeadlockErrorOnTwoLanes() throws {
        for threads in [1, 2] {
            for core in [3, 30] {
                let (e, spec) = try engine(replays: true, threads: threads)
                var (p, _) = try program(trial: 99, engine: e, side: spec.width)
                try e.run(p)
                e.hold(0..<spec.coreCount, until: e.makespanCycles)
                p.extraAt = core
                XCTAssertThrowsError(try e.run(p), "core \(core), \(threads) thread(s)") { error in
                    XCTAssertTrue("\(error)".contains("deadlock"), "\(error)")
                }
                XCTAssertEqual(e.stats.rerunNumerics, 0)
            }
        }
    }
}
