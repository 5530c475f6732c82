import XCTest
@testable import WaferMesh
import WaferSpec
import WaferTrace

final class PLMRComplianceTests: XCTestCase {
    func testMemoryViolationAbortsNamingCoreBytesAndLabels() throws {
        // tiny has 4096 B of SRAM per core.
        XCTAssertThrowsError(try simulate { e in
            let a = e.label("A tile"), b = e.label("B tile")
            return ScriptProgram([core(2, 1): [.alloc(label: a, bytes: 3000), .alloc(label: b, bytes: 2000)]])
        }) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("PLMR-M"), text)
            XCTAssertTrue(text.contains("5000 bytes of 4096"), text)
            XCTAssertTrue(text.contains("(2,1)"), text)
            XCTAssertTrue(text.contains("A tile 3000 B") && text.contains("B tile 2000 B"), text)
        }
    }

    func testMemoryViolationsRecordedWhenAsked() throws {
        let trace = try simulate(policy: .record) { e in
            let a = e.label("cache")
            return ScriptProgram([0: [.alloc(label: a, bytes: 5000)], 1: [.alloc(label: a, bytes: 6000)],
                                  2: [.alloc(label: a, bytes: 4096)]])
        }
        XCTAssertEqual(trace.violations.map(\.core).sorted(), [0, 1])
        XCTAssertEqual(trace.violations.first { $0.core == 1 }?.value, 6000)
        XCTAssertEqual(trace.peakSramBytesPerCore, 6000)
    }

    func testFreeReturnsMemoryAndPeakIsKept() throws {
        let trace = try simulate { e in
            let a = e.label("a"), b = e.label("b")
            return ScriptProgram([0: [.alloc(label: a, bytes: 3000), .free(label: a), .alloc(label: b, bytes: 2000)]])
        }
        XCTAssertEqual(trace.coreTotals.peakSramBytes[0], 3000)
        XCTAssertTrue(trace.violations.isEmpty)
    }

    func testFreeingUnknownAllocationIsAProgramError() {
        XCTAssertThrowsError(try simulate { e in ScriptProgram([0: [.free(label: e.label("x"))]]) })
    }

    func testRoutingViolationWhenRoutesNeedMoreColoursThanR() throws {
        // tiny allows 8 colours. Nine routes on distinct colours all pass through (3,3).
        func build(_ e: MeshEngine, colours: Int) throws -> ScriptProgram {
            var ops: [Int: [MeshOp]] = [:]
            for c in 0..<colours {
                let src = core(0, 3), dst = core(7, 3)
                let r = try e.routeXY(from: src, to: dst, colour: c)
                ops[src, default: []].append(.send(route: r, bytes: 4, buffer: -1))
                ops[dst, default: []].append(.recv(colour: Int32(c), buffer: -1))
            }
            return ScriptProgram(ops)
        }
        XCTAssertNoThrow(try simulate { try build($0, colours: 8) })
        XCTAssertThrowsError(try simulate { try build($0, colours: 9) }) { error in
            XCTAssertTrue("\(error)".contains("PLMR-R"), "\(error)")
            XCTAssertTrue("\(error)".contains("9 colours of 8"), "\(error)")
        }
        let trace = try simulate(policy: .record) { try build($0, colours: 9) }
        XCTAssertEqual(trace.violations.count, 8, "every core of row 3 carries all nine routes")
        XCTAssertEqual(trace.maxColoursPerCore, 9)
        XCTAssertEqual(trace.coreTotals.colours[core(3, 2)], 0)
    }
}

final class DeterminismTests: XCTestCase {
    /// A program with real arithmetic: a chain along row 0 where each core adds its value and passes on.
    struct ChainSum: MeshProgram {
        let routes: [Int32]
        let width: Int
        let label: Int32
        func op(core: Int, pc: Int) -> MeshOp? {
            guard core < width else { return nil }
            let last = core == width - 1
            switch (core == 0, pc) {
            case (true, 0): return .compute(macs: 8, label: label, work: 0)
            case (true, 1): return .send(route: routes[core], bytes: 32, buffer: 0)
            case (false, 0): return .recv(colour: 0, buffer: 1)
            case (false, 1): return .compute(macs: 8, label: label, work: 1)
            case (false, 2): return last ? nil : .send(route: routes[core], bytes: 32, buffer: 0)
            default: return nil
            }
        }
        func execute(work: Int32, core: Int, store: PayloadStore) {
            let mine = (0..<8).map { Float(core * 8 + $0) }
            store[core, 0] = work == 0 ? mine : zip(store[core, 1], mine).map(+)
        }
    }

    func run(payloads: Bool, path: String? = nil) throws -> (Trace, PayloadStore?) {
        let rec = try TraceRecorder(spec: .tiny, detail: .full, path: path)
        let e = try MeshEngine(spec: .tiny, recorder: rec, payloadSlots: payloads ? 2 : nil)
        let routes = try (0..<7).map { try e.routeXY(from: core($0, 0), to: core($0 + 1, 0), colour: 0) }
        try e.run(ChainSum(routes: routes, width: 8, label: e.label("add")))
        e.finishRecording()
        return (try rec.finish(), e.store)
    }

    func testRealNumericsArriveAndTimingOnlyGivesIdenticalTimings() throws {
        let (withData, store) = try run(payloads: true)
        let (timingOnly, _) = try run(payloads: false)
        let expected = (0..<8).map { i in Float((0..<8).map { $0 * 8 + i }.reduce(0, +)) }
        XCTAssertEqual(store?[core(7, 0), 0], expected)
        XCTAssertEqual(withData.spans, timingOnly.spans)
        XCTAssertEqual(withData.messages, timingOnly.messages)
        XCTAssertEqual(withData.linkTotals, timingOnly.linkTotals)
        XCTAssertEqual(withData.summary, timingOnly.summary)
    }

    func testSameInputsGiveByteIdenticalTraceFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ws-det-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var files: [Data] = []
        for i in 0..<2 {
            let path = dir.appendingPathComponent("t\(i).wtrace").path
            let rec = try TraceRecorder(spec: MeshSpec.tiny, detail: .full, path: path)
            let e = try MeshEngine(spec: .tiny, recorder: rec)
            try e.run(try CommProgram(pattern: .hotspot, bytes: 64, engine: e))
            e.finishRecording()
            try rec.finish()
            files.append(try Data(contentsOf: URL(fileURLWithPath: path)))
        }
        XCTAssertEqual(files[0], files[1])
        XCTAssertGreaterThan(files[0].count, 100)
    }
}
