import XCTest
@testable import WaferMesh
import WaferSpec
import WaferTrace

/// Links keep their free cycle in 32 bits from an epoch (`MeshEngine.linkEpoch`); cycles further
/// out go to `farLinkFree`, and the epoch moves up when they pile up. None of it may show: a
/// program delayed by D cycles must give every message D cycles later and the same link totals,
/// whether D crosses 2³² or not.
final class LinkEpochTests: XCTestCase {
    /// What a run gave, and where the engine's link epoch ended.
    struct Outcome {
        var messages: [MessageRecord]
        var links: LinkTotals
        var makespan: Int64
        var epoch: Int64
        var farLinks: Int
        /// Far links at which the engine next looks for a later epoch.
        var look = 0
    }

    /// Pairs of columns on the 8×8 tiny mesh: every core of an even column computes `delay + 13·y`
    /// cycles, then sends three messages east (two to its neighbour, one on east-then-south to a
    /// core two rows away), so links and ejection ramps queue; the odd columns wait for theirs
    /// from cycle 0 (their clocks keep the epoch at 0: every booking past 2³² is a far link).
    func pairs(delay: Int64) throws -> Outcome {
        let spec = MeshSpec.tiny
        let rec = try TraceRecorder(spec: spec, detail: .full)
        let e = try MeshEngine(spec: spec, recorder: rec)
        let g = e.geometry
        var ops: [Int: [MeshOp]] = [:]
        var incoming = [Int: [Int]]()
        let label = e.label("delay")
        for y in 0..<g.height {
            for x in stride(from: 0, to: g.width, by: 2) {
                let c = g.core(x: x, y: y)
                let down = y + 2 < g.height
                let near = try e.route(from: c, colour: 0, legs: [RouteLeg(.east, 1)])
                let far = try e.route(from: c, colour: 1, legs: [RouteLeg(.east, 1), RouteLeg(down ? .south : .north, 2)])
                ops[c] = [.compute(macs: Int(delay) + 13 * y, label: label, work: -1),
                          .send(route: near, bytes: 64, buffer: 0), .send(route: far, bytes: 96, buffer: 0),
                          .send(route: near, bytes: 32, buffer: 0)]
                incoming[g.core(x: x + 1, y: y), default: [0, 0]][0] += 2
                incoming[g.core(x: x + 1, y: down ? y + 2 : y - 2), default: [0, 0]][1] += 1
            }
        }
        for (c, n) in incoming {
            ops[c] = Array(repeating: MeshOp.recv(colour: 0, buffer: 0), count: n[0])
                + Array(repeating: MeshOp.recv(colour: 1, buffer: 0), count: n[1])
        }
        try e.run(ScriptProgram(ops))
        let outcome = (e.makespanCycles, e.linkEpoch, e.farLinkFree.count)
        e.finishRecording()
        let t = try rec.finish()
        return Outcome(messages: t.messages.sorted { ($0.source, $0.sequence) < ($1.source, $1.sequence) }, links: t.linkTotals,
                       makespan: outcome.0, epoch: outcome.1, farLinks: outcome.2)
    }

    /// A 40×40 mesh where every core computes `delay` cycles, then sends two messages to its east
    /// neighbour (west on the last column) and takes the two it gets; more than 1024 links are
    /// booked past 2³², so the epoch moves up during the run, unless an `idle` core 0 (no ops,
    /// finished at cycle 0, nobody sends to it) holds it back.
    func neighbours(delay: Int64, idle: Bool) throws -> Outcome {
        var spec = MeshSpec.tiny
        spec.width = 40
        spec.height = 40
        let rec = try TraceRecorder(spec: spec, detail: .summary)
        let e = try MeshEngine(spec: spec, recorder: rec)
        let g = e.geometry
        let label = e.label("delay")
        var ops: [Int: [MeshOp]] = [:]
        for c in 0..<g.coreCount where !(idle && c == 0) {
            let east = g.x(of: c) + 1 < g.width
            let r = try e.route(from: c, colour: 0, legs: [RouteLeg(east ? .east : .west, 1)])
            ops[c] = [.compute(macs: Int(delay) + (c % 7), label: label, work: -1),
                      .send(route: r, bytes: 64, buffer: 0), .send(route: r, bytes: 40, buffer: 0)]
        }
        for c in 0..<g.coreCount {
            // Messages from the west neighbour, and on the last column also from the east one.
            let x = g.x(of: c)
            var senders = x > 0 ? [c - 1] : []
            if x == g.width - 2 { senders.append(c + 1) }
            let n = 2 * senders.filter { !(idle && $0 == 0) }.count
            ops[c, default: []] += Array(repeating: MeshOp.recv(colour: 0, buffer: 0), count: n)
        }
        if idle { ops[0] = [] }
        try e.run(ScriptProgram(ops))
        let outcome = (e.makespanCycles, e.linkEpoch, e.farLinkFree.count, e.farLinksLook)
        e.finishRecording()
        let t = try rec.finish()
        return Outcome(messages: [], links: t.linkTotals, makespan: outcome.0, epoch: outcome.1, farLinks: outcome.2, look: outcome.3)
    }

    private func assertShifted(_ late: Outcome, _ early: Outcome, by d: Int64, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(late.makespan - early.makespan, d, file: file, line: line)
        XCTAssertEqual(late.links, early.links, file: file, line: line)
        XCTAssertEqual(late.messages.count, early.messages.count, file: file, line: line)
        for (a, b) in zip(late.messages, early.messages) {
            var shifted = b
            shifted.injection += d
            shifted.headArrival += d
            shifted.tailArrival += d
            XCTAssertEqual(a, shifted, file: file, line: line)
        }
    }

    func testLinksBookedPast32BitsFromTheEpochKeepTheirCycles() throws {
        let early = try pairs(delay: 0)
        XCTAssertGreaterThan(early.links.peakQueue.max() ?? 0, 0, "links must queue for waits to be compared")
        XCTAssertEqual(early.messages.count, 96)
        for d: Int64 in [1_000, 4_294_967_000, 5_000_000_000] {
            let late = try pairs(delay: d)
            assertShifted(late, early, by: d)
            // Waiting cores hold the epoch at 0: the late bookings are far links.
            XCTAssertEqual(late.epoch, 0)
            if d > Int64(UInt32.max) { XCTAssertGreaterThan(late.farLinks, 0) }
        }
    }

    /// `neighbours` delayed by 5·10⁹ cycles, checked against it undelayed.
    private func delayedNeighbours(idle: Bool, file: StaticString = #filePath, line: UInt = #line) throws -> Outcome {
        let d: Int64 = 5_000_000_000
        let late = try neighbours(delay: d, idle: idle)
        assertShifted(late, try neighbours(delay: 0, idle: idle), by: d, file: file, line: line)
        return late
    }

    func testTheEpochMovesUpDuringALongRunAndNothingShows() throws {
        let late = try delayedNeighbours(idle: false)
        XCTAssertGreaterThan(late.epoch, 4_000_000_000, "1024 far links must move the epoch up")
        XCTAssertLessThan(late.farLinks, 1024)
    }

    func testACoreFinishedEarlyHoldsTheEpochAndFarLinksStayExact() throws {
        let late = try delayedNeighbours(idle: true)
        XCTAssertEqual(late.epoch, 0, "a core finished at cycle 0 starts its next run there")
        XCTAssertGreaterThan(late.farLinks, 1024)
        // The look over every core's clock found nothing to move to: the next waits for twice as
        // many far links (not one look per booking).
        XCTAssertEqual(late.look, 2048)
    }

    /// A run that starts far from the epoch moves it to its start; a later run on links booked
    /// before that gets them right.
    func testRunsStartingFarFromTheEpochMoveIt() throws {
        func twice(gap: Int64) throws -> (Int64, Int64, LinkTotals) {
            let spec = MeshSpec.tiny
            let rec = try TraceRecorder(spec: spec, detail: .summary)
            let e = try MeshEngine(spec: spec, recorder: rec)
            let r = try e.route(from: 0, colour: 0, legs: [RouteLeg(.east, 3)])
            let label = e.label("work")
            // A long message still on its links when the core ends: the next run queues behind it.
            let program = ScriptProgram([0: [.compute(macs: 10, label: label, work: -1), .send(route: r, bytes: 4000, buffer: 0)],
                                         3: [.recv(colour: 0, buffer: 0)]])
            try e.run(program)
            e.hold(0..<spec.coreCount, until: e.cores[0].time + gap)
            try e.run(program)
            let epoch = e.linkEpoch
            let end = e.makespanCycles
            e.finishRecording()
            return (end, epoch, try rec.finish().linkTotals)
        }
        let (near, nearEpoch, nearLinks) = try twice(gap: 0)
        let (far, farEpoch, farLinks) = try twice(gap: 3_000_000_000)
        XCTAssertEqual(nearEpoch, 0)
        XCTAssertGreaterThan(farEpoch, 2_000_000_000)
        XCTAssertEqual(nearLinks, farLinks)
        XCTAssertGreaterThan(far - near, 3_000_000_000 - 1_100, "the second message no longer queues behind the first")
        XCTAssertLessThanOrEqual(far - near, 3_000_000_000)
    }
}
