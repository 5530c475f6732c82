import XCTest
@testable import WaferMesh
import WaferSpec
import WaferTrace

/// The link epoch (`MeshEngine.linkEpoch`) under replays, and the recorder's 32-bit per-core
/// accumulators under replayed differences: a replay that leaves far links, and totals that
/// cross 2³² (written by a second reader of the change).
final class LinkEpochReplayTests: XCTestCase {
    /// Every core computes `macs` cycles, then sends two messages to its east neighbour (west on
    /// the last column) and takes the two it gets.
    struct Neighbours: MeshProgram {
        let routes: [Int32]
        let incoming: [Int]
        let macs: Int
        let label: Int32
        let key: Int?

        var replayKey: AnyHashable? { key.map { AnyHashable($0) } }
        var executesPerCore: Bool { true }
        func execute(work: Int32, core: Int, store: PayloadStore) {}

        func op(core: Int, pc: Int) -> MeshOp? {
            var ops: [MeshOp] = [.compute(macs: macs + core % 7, label: label, work: -1),
                                 .send(route: routes[core], bytes: 64, buffer: 0),
                                 .send(route: routes[core], bytes: 40 + core % 3, buffer: 0)]
            ops += Array(repeating: MeshOp.recv(colour: 0, buffer: 0), count: incoming[core])
            return pc < ops.count ? ops[pc] : nil
        }
    }

    struct Result: Equatable {
        var links: LinkTotals
        var cores: CoreTotals
        var summary: RunSummary
        var makespan: Int64
        var times: [Int64]
    }

    func sequence(replays: Bool) throws -> (Result, EngineStats, Int64) {
        var spec = MeshSpec.tiny
        spec.width = 40
        spec.height = 40
        let rec = try TraceRecorder(spec: spec, detail: .summary)
        let e = try MeshEngine(spec: spec, recorder: rec)
        e.replaysRuns = replays
        let g = e.geometry
        let label = e.label("delay")
        var routes: [Int32] = []
        var incoming = [Int](repeating: 0, count: g.coreCount)
        for c in 0..<g.coreCount {
            let east = g.x(of: c) + 1 < g.width
            routes.append(try e.route(from: c, colour: 0, legs: [RouteLeg(east ? .east : .west, 1)]))
            incoming[east ? c + 1 : c - 1] += 2
        }
        let long = Neighbours(routes: routes, incoming: incoming, macs: 4_200_000_000, label: label, key: 1)
        let short = Neighbours(routes: routes, incoming: incoming, macs: 10, label: label, key: 2)
        let all = 0..<g.coreCount
        try e.run(long)                                  // recorded from epoch 0, near links only
        e.hold(all, until: 4_300_000_000)
        try e.run(short)                                 // moves the epoch to its start
        e.hold(all, until: 4_300_000_000 + 500_000_000)
        try e.run(long)                                  // replayed: its links land past 2^32 from the epoch
        let farAfterReplay = Int64(e.farLinkFree.count)
        try e.run(short)                                 // runs straight after, on the far links
        try e.run(long)
        e.hold(all, until: e.makespanCycles + 10)
        try e.run(long)
        let times = (0..<g.coreCount).map { e.cores[$0].time }
        let makespan = e.makespanCycles
        e.finishRecording()
        let t = try rec.finish()
        return (Result(links: t.linkTotals, cores: t.coreTotals, summary: t.summary, makespan: makespan, times: times),
                e.stats, farAfterReplay)
    }

    func testReplaysThatLeaveFarLinksLeaveWhatSimulatingLeaves() throws {
        let (simulated, _, _) = try sequence(replays: false)
        let (replayed, stats, far) = try sequence(replays: true)
        XCTAssertGreaterThan(stats.replayedRuns, 0)
        XCTAssertGreaterThan(far, 0, "the replay should leave far links")
        XCTAssertEqual(replayed.makespan, simulated.makespan)
        XCTAssertEqual(replayed.times, simulated.times)
        XCTAssertEqual(replayed.links, simulated.links)
        XCTAssertEqual(replayed.cores, simulated.cores)
        XCTAssertEqual(replayed.summary, simulated.summary)
        XCTAssertGreaterThan(simulated.cores.computeCycles.max()!, Int64(1) << 32)
    }

    /// Totals crossing 2³² through compute and wait spans, runs' differences added back, and a
    /// negative span (`add` of a negative value) all give the 64-bit sums.
    func testAccumulatorsMatch64BitSums() throws {
        let rec = try TraceRecorder(spec: .tiny, detail: .summary)
        let l = rec.label("k")
        var cycles = [Int64](repeating: 0, count: 64), waits = cycles
        let values: [Int64] = [0xFFFF_FFFF, 1, 0x1_0000_0000, -1, -0x1_0000_0001, 7, 0xFFFF_FFFF_FFFF, -3, Int64(UInt32.max) * 3]
        var snapshots: [RecorderTotals] = [rec.runningTotals()]
        for (i, v) in values.enumerated() {
            let c = i % 3
            rec.span(Span(core: Int32(c), kind: .compute, label: l, start: 0, end: v, macs: v))
            rec.span(Span(core: Int32(c), kind: .wait, label: l, start: 0, end: v, macs: 0))
            cycles[c] &+= v
            waits[c] &+= v
            snapshots.append(rec.runningTotals())
            XCTAssertEqual(rec.coreTotals.computeCycles, cycles, "after \(v)")
            XCTAssertEqual(rec.coreTotals.waitCycles, waits, "after \(v)")
            XCTAssertEqual(rec.coreTotals.macs, cycles, "after \(v)")
        }
        // Every pair's difference added back adds exactly that difference.
        for i in snapshots.indices { for j in snapshots.indices where j > i {
            let before = rec.runningTotals()
            let d = snapshots[j].difference(since: snapshots[i])
            rec.add(d)
            let after = rec.runningTotals()
            XCTAssertEqual(after.difference(since: before).computeCycles, d.computeCycles)
            XCTAssertEqual(after.difference(since: before).waitCycles, d.waitCycles)
            XCTAssertEqual(after.difference(since: before).macs, d.macs)
        } }
    }
}
