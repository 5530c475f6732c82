import XCTest
@testable import WaferMesh
import WaferSpec
import WaferTrace

/// Receives and `waitSends` running ahead of the clock (`kernel` and `summary` detail) against
/// stepping op by op (`full` detail): the same timings and totals.
final class RunAheadTests: XCTestCase {
    /// Rounds of sends then receives on every core (unicast and multicast routes, no relays), with
    /// compute between sends so some find their injection ramp idle and some busy.
    static func roundsProgram(_ e: MeshEngine, seed: UInt64, rounds: Int) throws -> ScriptProgram {
        var rng = SplitMix(seed: seed)
        let g = e.geometry
        let inv = e.invocation(name: "rounds", params: ["seed": "\(seed)"])
        let label = e.label("work")
        var ops: [Int: [MeshOp]] = [:]
        for c in 0..<g.coreCount { ops[c] = [.begin(invocation: inv)] }
        for _ in 0..<rounds {
            var sends: [Int: [MeshOp]] = [:], recvs: [Int: [MeshOp]] = [:]
            for _ in 0..<g.coreCount {
                let src = Int(rng.next() % UInt64(g.coreCount))
                let colour = Int(rng.next() % 3)
                let bytes = 1 + Int(rng.next() % 120)
                let x = g.x(of: src), y = g.y(of: src)
                var route: Int32
                var receivers: [Int]
                if rng.next() % 4 == 0 && y + 2 < g.height {
                    route = try e.route(from: src, colour: colour, legs: [RouteLeg(.south, 2, deliverAlong: true)])
                    receivers = [g.core(x: x, y: y + 1), g.core(x: x, y: y + 2)]
                } else {
                    var dst = Int(rng.next() % UInt64(g.coreCount))
                    if dst == src { dst = (dst + 1) % g.coreCount }
                    route = try e.routeXY(from: src, to: dst, colour: colour)
                    receivers = [dst]
                }
                sends[src, default: []].append(.send(route: route, bytes: bytes, buffer: -1))
                if rng.next() % 2 == 0 { sends[src, default: []].append(.compute(macs: Int(rng.next() % 400), label: label, work: -1)) }
                for r in receivers { recvs[r, default: []].append(.recv(colour: Int32(colour), buffer: -1)) }
            }
            for c in 0..<g.coreCount {
                ops[c]! += sends[c] ?? []
                if rng.next() % 2 == 0 { ops[c]!.append(.waitSends) }
                ops[c]!.append(.compute(macs: Int(rng.next() % 600), label: label, work: -1))
                ops[c]! += recvs[c] ?? []
            }
        }
        for c in 0..<g.coreCount { ops[c]!.append(.end(invocation: inv)) }
        return ScriptProgram(ops)
    }

    func testReceivesAndWaitSendsAheadGiveTheTimingsOfSteppingOpByOp() throws {
        let overheadSpec = try MeshSpec.wse2.subgrid(width: 8, height: 6)
        try assertDetailsAgree(specs: [overheadSpec, MeshSpec.tiny], seeds: 1...4) { try Self.roundsProgram($0, seed: $1, rounds: 4) }
    }

    /// One message from (0,0) to (3,0); the receiver computes `macs` first, so its receive comes
    /// before the message is in (it blocks ahead of the clock) or after (the copy waits for it).
    static func lateOrEarlyProgram(_ e: MeshEngine, macs: Int) throws -> ScriptProgram {
        let g = e.geometry
        let inv = e.invocation(name: "one", params: [:])
        let label = e.label("work")
        let r = try e.routeXY(from: g.core(x: 0, y: 0), to: g.core(x: 3, y: 0), colour: 0)
        return ScriptProgram([
            g.core(x: 0, y: 0): [.begin(invocation: inv), .compute(macs: 100, label: label, work: -1),
                                 .send(route: r, bytes: 64, buffer: -1), .end(invocation: inv)],
            g.core(x: 3, y: 0): [.begin(invocation: inv), .compute(macs: macs, label: label, work: -1),
                                 .recv(colour: 0, buffer: -1), .end(invocation: inv)],
        ])
    }

    /// A receive that finds no mail ahead of the clock blocks there, waiting from its own cycle:
    /// the same timings as stepping op by op whether the copy comes before that cycle or after,
    /// and no core event at the receive's cycle: sender and receiver take two core events each (a
    /// start, then the send's own cycle or the wake-up), the two idle cores one each.
    func testAReceiveBlocksAheadOfTheClockWithTheTimingsOfSteppingOpByOp() throws {
        let spec = try MeshSpec.wse2.subgrid(width: 4, height: 1)
        let early = 4, late = 4000   // MACs before the receive: it comes before / after the copy
        try assertDetailsAgree(specs: [spec], seeds: 0...1) { e, seed in
            try Self.lateOrEarlyProgram(e, macs: seed == 0 ? early : late)
        }
        var waits: [Int64] = []
        for macs in [early, late] {
            let rec = try TraceRecorder(spec: spec, detail: .summary, keepsRecords: false)
            let e = try MeshEngine(spec: spec, recorder: rec)
            try e.run(try Self.lateOrEarlyProgram(e, macs: macs))
            XCTAssertEqual(e.stats.coreEvents, 6, "macs \(macs)")
            e.finishRecording()
            waits.append(try rec.finish().coreTotals.waitCycles[3])
        }
        XCTAssertGreaterThan(waits[0], 0, "the early receive waits for the copy")
        XCTAssertEqual(waits[1], 0, "the late receive finds the copy in")
    }

    /// Prefetching (chosen by the size of the mesh against the host's L2; off on a mesh this
    /// small) changes no result.
    func testPrefetchingOnOrOffGivesTheSameTrace() throws {
        if ProcessInfo.processInfo.environment["WAFERSCOPE_PREFETCH"] == nil
            && ProcessInfo.processInfo.environment["WAFERSCOPE_NO_PREFETCH"] == nil {
            XCTAssertFalse(MeshEngine.prefetchPays(coreCount: 48), "48 cores' records fit any L2")
            XCTAssertTrue(MeshEngine.prefetchPays(coreCount: 750 * 994), "a full fabric's records fit no L2")
        }
        let spec = try MeshSpec.wse2.subgrid(width: 8, height: 6)
        for detail in [TraceDetail.full, .summary] {
            var traces: [Trace] = []
            for on in [false, true] {
                let rec = try TraceRecorder(spec: spec, detail: detail)
                let e = try MeshEngine(spec: spec, recorder: rec)
                e.prefetches = on
                try e.run(try Self.roundsProgram(e, seed: 11, rounds: 3))
                e.finishRecording()
                traces.append(try rec.finish())
            }
            let (a, b) = (traces[0], traces[1])
            XCTAssertEqual(a.summary, b.summary, "\(detail)")
            XCTAssertEqual(a.spans, b.spans, "\(detail)")
            XCTAssertEqual(a.messages, b.messages, "\(detail)")
            XCTAssertEqual(a.kernels, b.kernels, "\(detail)")
            XCTAssertEqual(a.linkTotals, b.linkTotals, "\(detail)")
            XCTAssertEqual(a.coreTotals, b.coreTotals, "\(detail)")
            XCTAssertGreaterThan(a.summary.messages, 0)
        }
    }

    /// The fast paths are taken: summary detail needs fewer core events than full detail, and
    /// declaring a relayed route turns `waitSends` ahead off (its core's ramp is then shared).
    func testWaitSendsRunAheadOnlyWithoutRelays() throws {
        let spec = try MeshSpec.wse2.subgrid(width: 8, height: 6)
        var coreEvents: [Int64] = []
        var makespans: [Int64] = []
        for relay in [false, true] {
            let rec = try TraceRecorder(spec: spec, detail: .summary)
            let e = try MeshEngine(spec: spec, recorder: rec)
            let program = try Self.roundsProgram(e, seed: 5, rounds: 3)
            // An unused relayed route: same program, waitSends no longer runs ahead.
            if relay { _ = try e.route(from: 0, colour: 7, legs: [RouteLeg(.east, 1, relayAtEnd: true), RouteLeg(.south, 1)]) }
            try e.run(program)
            coreEvents.append(e.stats.coreEvents)
            makespans.append(e.makespanCycles)
            XCTAssertEqual(e.waitSendsAhead, !relay)
        }
        XCTAssertEqual(makespans[0], makespans[1])
        XCTAssertLessThan(coreEvents[0], coreEvents[1])
    }

    /// Paged peak queues read like a plain array: raise keeps the maximum, reset clears, and pages
    /// are allocated only where a link queued.
    func testPagedPeaksMatchAPlainArray() {
        let n = 5 * PagedPeaks.pageSize + 17
        var paged = PagedPeaks(count: n)
        defer { paged.free() }
        var plain = [Int32](repeating: 0, count: n)
        var rng = SplitMix(seed: 3)
        for _ in 0..<2_000 {
            let i = Int(rng.next() % UInt64(2 * PagedPeaks.pageSize)) + (rng.next() % 2 == 0 ? 0 : 3 * PagedPeaks.pageSize)
            let v = Int32(rng.next() % 1000)
            paged.raise(i, to: v)
            plain[i] = max(plain[i], v)
            if rng.next() % 50 == 0 { paged.reset(i); plain[i] = 0 }
        }
        for i in 0..<n { XCTAssertEqual(paged[i], plain[i], "link \(i)") }
        XCTAssertEqual(paged.pageCount, 4)   // pages 0, 1, 3 and 4; never 2 or 5
    }
}
