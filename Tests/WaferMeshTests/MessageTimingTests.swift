import XCTest
@testable import WaferMesh
import WaferSpec
import WaferTrace

/// Hand-computed timings on the `tiny` preset: α = 1, β = 4, 4 B per cycle, no op overhead.
final class MessageTimingTests: XCTestCase {
    func testKHopMessageArrivesAtAlphaKPlusWMinusOne() throws {
        for (dst, k) in [((3, 0), 3), ((2, 3), 5), ((0, 7), 7)] {
            let w = 10
            let trace = try simulate { e in
                let r = try e.routeXY(from: core(0, 0), to: core(dst.0, dst.1), colour: 0)
                return ScriptProgram([core(0, 0): [.send(route: r, bytes: w * 4, buffer: -1)],
                                      core(dst.0, dst.1): [.recv(colour: 0, buffer: -1)]])
            }
            let m = try XCTUnwrap(trace.messages.first)
            XCTAssertEqual(m.hops, Int32(k))
            XCTAssertEqual(m.injection, 0)
            XCTAssertEqual(m.headArrival, Int64(k))
            XCTAssertEqual(m.tailArrival, Int64(k + w - 1), "k=\(k)")
            XCTAssertEqual(trace.summary.makespanCycles, Int64(k + w - 1))
            // Every link on the path is busy exactly w cycles.
            XCTAssertEqual(trace.linkTotals.busyCycles.filter { $0 > 0 }.count, k)
            XCTAssertTrue(trace.linkTotals.busyCycles.allSatisfy { $0 == 0 || $0 == Int64(w) })
        }
    }

    func testHopLatencyScalesHeadNotBody() throws {
        var spec = MeshSpec.tiny
        spec.hopLatencyCycles = 3
        let trace = try simulate(spec) { e in
            let r = try e.routeXY(from: core(0, 0), to: core(4, 0), colour: 0)
            return ScriptProgram([core(0, 0): [.send(route: r, bytes: 8, buffer: -1)],
                                  core(4, 0): [.recv(colour: 0, buffer: -1)]])
        }
        XCTAssertEqual(trace.messages[0].tailArrival, 3 * 4 + 2 - 1)
    }

    func testTwoMessagesSharingALinkSerialise() throws {
        // B (from x=1) takes link (1,0)→(2,0) at cycle 0 for 10 cycles; A's head reaches that
        // router at cycle 1 and must wait until 10, so it reaches (2,0) at 11 and its tail at 20.
        let trace = try simulate { e in
            let a = try e.routeXY(from: core(0, 0), to: core(2, 0), colour: 0)
            let b = try e.routeXY(from: core(1, 0), to: core(2, 0), colour: 0)
            return ScriptProgram([core(0, 0): [.send(route: a, bytes: 40, buffer: -1)],
                                  core(1, 0): [.send(route: b, bytes: 40, buffer: -1)],
                                  core(2, 0): [.recv(colour: 0, buffer: -1), .recv(colour: 0, buffer: -1)]])
        }
        let bySource = Dictionary(uniqueKeysWithValues: trace.messages.map { ($0.source, $0) })
        XCTAssertEqual(bySource[Int32(core(1, 0))]?.tailArrival, 10)
        XCTAssertEqual(bySource[Int32(core(0, 0))]?.tailArrival, 20)
        let shared = MeshGeometry.tiny.link(from: core(1, 0), .east)
        XCTAssertEqual(trace.linkTotals.busyCycles[shared], 20)
        XCTAssertEqual(trace.linkTotals.peakQueue[shared], 9, "A found 9 wavelets of B still waiting")
    }

    func testEjectionRampTakesOneWaveletPerCycle() throws {
        // Two messages reach (2,2) from the west and the north at the same cycle over disjoint links;
        // the ramp into the core serialises them: one tail at 2+10-1 = 11, the other at 21.
        let trace = try simulate { e in
            let a = try e.routeXY(from: core(0, 2), to: core(2, 2), colour: 0)
            let b = try e.routeXY(from: core(2, 0), to: core(2, 2), colour: 0)
            return ScriptProgram([core(0, 2): [.send(route: a, bytes: 40, buffer: -1)],
                                  core(2, 0): [.send(route: b, bytes: 40, buffer: -1)],
                                  core(2, 2): [.recv(colour: 0, buffer: -1), .recv(colour: 0, buffer: -1)]])
        }
        XCTAssertEqual(trace.messages.map(\.tailArrival).sorted(), [11, 21])
        // Ties at one cycle go to the lower message id: the source with the lower core index.
        let first = trace.messages.min { $0.tailArrival < $1.tailArrival }!
        XCTAssertEqual(first.source, Int32(core(2, 0)))
    }

    func testInjectionRampSerialisesOneCoresSends() throws {
        let trace = try simulate { e in
            let a = try e.routeXY(from: core(0, 0), to: core(1, 0), colour: 0)
            let b = try e.routeXY(from: core(0, 0), to: core(0, 1), colour: 1)
            return ScriptProgram([core(0, 0): [.send(route: a, bytes: 40, buffer: -1), .send(route: b, bytes: 40, buffer: -1)],
                                  core(1, 0): [.recv(colour: 0, buffer: -1)],
                                  core(0, 1): [.recv(colour: 1, buffer: -1)]])
        }
        let inj = trace.messages.sorted { $0.sequence < $1.sequence }.map(\.injection)
        XCTAssertEqual(inj, [0, 10])
    }

    func testRelayAddsStoreAndForwardPlusBeta() throws {
        // Direct: 4 hops, w = 10 → tail at 13. Relayed at x=2: the relay holds the tail at
        // 2 + 9 = 11, re-sends at 11 + β = 15, head at x=4 at 17, tail at 26 = 13 + (w − 1) + β.
        let w = 10
        let trace = try simulate { e in
            let r = try e.route(from: core(0, 0), colour: 0,
                                legs: [RouteLeg(.east, 2, relayAtEnd: true), RouteLeg(.east, 2)])
            return ScriptProgram([core(0, 0): [.send(route: r, bytes: w * 4, buffer: -1)],
                                  core(4, 0): [.recv(colour: 0, buffer: -1)]])
        }
        let m = trace.messages[0]
        XCTAssertEqual(m.relays, 1)
        XCTAssertEqual(m.hops, 4)
        XCTAssertEqual(m.tailArrival, Int64(4 + w - 1 + (w - 1) + MeshSpec.tiny.relayLatencyCycles))
    }

    func testMulticastDeliversToEveryCoreAlongTheLeg() throws {
        let trace = try simulate { e in
            let r = try e.route(from: core(0, 1), colour: 3, legs: [RouteLeg(.east, 5, deliverAlong: true)])
            var ops: [Int: [MeshOp]] = [core(0, 1): [.send(route: r, bytes: 16, buffer: -1)]]
            for x in 1...5 { ops[core(x, 1)] = [.recv(colour: 3, buffer: -1)] }
            return ScriptProgram(ops)
        }
        XCTAssertEqual(trace.messages.count, 1, "one message, recorded at its final destination")
        XCTAssertEqual(trace.messages[0].tailArrival, 5 + 4 - 1)
        for x in 1...5 {
            XCTAssertEqual(trace.coreTotals.finish[core(x, 1)], Int64(x + 3), "core x=\(x) gets its copy at x + w − 1")
        }
        XCTAssertEqual(trace.linkTotals.busyCycles.reduce(0, +), 5 * 4, "each link carries the message once")
    }

    func testComputeOverlapsCommunication() throws {
        // Core 0 sends 40 B then computes 100 cycles; the message arrives while it computes.
        let trace = try simulate { e in
            let r = try e.routeXY(from: core(0, 0), to: core(1, 0), colour: 0)
            let l = e.label("work")
            return ScriptProgram([core(0, 0): [.send(route: r, bytes: 40, buffer: -1), .compute(macs: 100, label: l, work: -1)],
                                  core(1, 0): [.recv(colour: 0, buffer: -1)]])
        }
        XCTAssertEqual(trace.summary.makespanCycles, 100)
        XCTAssertEqual(trace.messages[0].tailArrival, 10)
        XCTAssertEqual(trace.coreTotals.computeCycles[core(0, 0)], 100)
    }

    func testReceiveWaitIsRecorded() throws {
        let trace = try simulate { e in
            let r = try e.routeXY(from: core(0, 0), to: core(3, 0), colour: 0)
            let l = e.label("work")
            return ScriptProgram([core(0, 0): [.compute(macs: 50, label: l, work: -1), .send(route: r, bytes: 4, buffer: -1)],
                                  core(3, 0): [.recv(colour: 0, buffer: -1)]])
        }
        let wait = try XCTUnwrap(trace.spans.first { $0.kind == .wait })
        XCTAssertEqual(wait.core, Int32(core(3, 0)))
        XCTAssertEqual(wait.start, 0)
        XCTAssertEqual(wait.end, 53)
        XCTAssertEqual(trace.coreTotals.waitCycles[core(3, 0)], 53)
    }

    func testOpOverheadDelaysIssue() throws {
        var spec = MeshSpec.tiny
        spec.opOverheadCycles = 5
        spec.macsPerCycle = 4
        let trace = try simulate(spec) { e in
            let r = try e.routeXY(from: core(0, 0), to: core(1, 0), colour: 0)
            let l = e.label("work")
            return ScriptProgram([core(0, 0): [.compute(macs: 10, label: l, work: -1), .send(route: r, bytes: 4, buffer: -1)],
                                  core(1, 0): [.recv(colour: 0, buffer: -1)]])
        }
        // compute: ⌈10/4⌉ + 5 = 8; send issues at 8 + 5 = 13; 1 hop, 1 wavelet: tail 14; recv overhead: 19.
        XCTAssertEqual(trace.messages[0].injection, 13)
        XCTAssertEqual(trace.messages[0].tailArrival, 14)
        XCTAssertEqual(trace.coreTotals.finish[core(1, 0)], 19)
    }

    func testDeadlockIsReported() {
        XCTAssertThrowsError(try simulate { _ in ScriptProgram([core(1, 1): [.recv(colour: 2, buffer: -1)]]) }) { error in
            XCTAssertTrue("\(error)".contains("deadlock"), "\(error)")
            XCTAssertTrue("\(error)".contains("(1,1)"), "\(error)")
        }
    }

    func testBadRoutesAreRejected() throws {
        let rec = try TraceRecorder(spec: .tiny, detail: .summary)
        let e = try MeshEngine(spec: .tiny, recorder: rec)
        XCTAssertThrowsError(try e.route(from: core(6, 0), colour: 0, legs: [RouteLeg(.east, 3)]))
        XCTAssertThrowsError(try e.route(from: core(0, 0), colour: 0, legs: []))
        XCTAssertThrowsError(try e.route(from: core(0, 0), colour: 0, legs: [RouteLeg(.east, 0)]))
        XCTAssertThrowsError(try e.routeXY(from: 3, to: 3, colour: 0))
    }
}
