import XCTest
@testable import WaferMesh
import WaferSpec
import WaferTrace

/// A program given as explicit op lists per core (tests only).
struct ScriptProgram: MeshProgram {
    var ops: [Int: [MeshOp]]
    var work: (@Sendable (Int32, Int, PayloadStore) -> Void)?

    init(_ ops: [Int: [MeshOp]], work: (@Sendable (Int32, Int, PayloadStore) -> Void)? = nil) {
        self.ops = ops
        self.work = work
    }

    func op(core: Int, pc: Int) -> MeshOp? {
        guard let list = ops[core], pc < list.count else { return nil }
        return list[pc]
    }

    func execute(work w: Int32, core: Int, store: PayloadStore) { work?(w, core, store) }
}

/// Builds an engine on `spec`, lets `build` declare routes and a program, runs it, returns the trace.
func simulate(_ spec: MeshSpec = .tiny, detail: TraceDetail = .full, payloadSlots: Int? = nil,
              policy: ViolationPolicy = .abort, keepsRecords: Bool = true,
              _ build: (MeshEngine) throws -> ScriptProgram) throws -> Trace {
    let rec = try TraceRecorder(spec: spec, detail: detail, keepsRecords: keepsRecords)
    let engine = try MeshEngine(spec: spec, recorder: rec, payloadSlots: payloadSlots, policy: policy)
    let program = try build(engine)
    try engine.run(program)
    engine.finishRecording()
    return try rec.finish()
}

extension MeshGeometry {
    static let tiny = MeshGeometry(MeshSpec.tiny)
}

func core(_ x: Int, _ y: Int, _ g: MeshGeometry = .tiny) -> Int { g.core(x: x, y: y) }

/// Runs the program `build` makes for each spec and seed at full, kernel and summary detail (and at
/// summary detail with no records kept, where `end` ops also run ahead), and checks that the
/// coarser details give full detail's summary, totals, kernels and kernel spans (the engine's fast
/// paths at kernel and summary detail must not change any timing).
func assertDetailsAgree(specs: [MeshSpec], seeds: ClosedRange<UInt64>,
                        _ build: (MeshEngine, UInt64) throws -> ScriptProgram,
                        file: StaticString = #filePath, line: UInt = #line) throws {
    for spec in specs {
        for seed in seeds {
            var traces: [TraceDetail: Trace] = [:]
            for detail in [TraceDetail.full, .kernel, .summary] {
                traces[detail] = try simulate(spec, detail: detail) { try build($0, seed) }
            }
            let full = traces[.full]!
            let bare = try simulate(spec, detail: .summary, keepsRecords: false) { try build($0, seed) }
            let what = "\(spec.name) seed \(seed) summary, no records"
            XCTAssertEqual(bare.summary, full.summary, what, file: file, line: line)
            XCTAssertEqual(bare.linkTotals, full.linkTotals, what, file: file, line: line)
            XCTAssertEqual(bare.coreTotals, full.coreTotals, what, file: file, line: line)
            XCTAssertEqual(bare.kernels, full.kernels, what, file: file, line: line)
            XCTAssertTrue(bare.spans.isEmpty, what, file: file, line: line)
            for detail in [TraceDetail.kernel, .summary] {
                let t = traces[detail]!
                let what = "\(spec.name) seed \(seed) \(detail)"
                XCTAssertEqual(t.summary, full.summary, what, file: file, line: line)
                XCTAssertEqual(t.linkTotals, full.linkTotals, what, file: file, line: line)
                XCTAssertEqual(t.coreTotals, full.coreTotals, what, file: file, line: line)
                XCTAssertEqual(t.kernels, full.kernels, what, file: file, line: line)
                XCTAssertEqual(t.spans, full.spans.filter { $0.kind == .kernel }, "kernel spans in the same order: \(what)",
                               file: file, line: line)
            }
            XCTAssertGreaterThan(full.summary.messages, 0, file: file, line: line)
        }
    }
}

/// Seeded random choices for generated test cases (a 64-bit LCG's high bits): the same cases on
/// every run.
struct TestRandom {
    var seed: UInt64

    /// A number in 0..<n.
    mutating func next(_ n: Int) -> Int {
        seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((seed >> 33) % UInt64(n))
    }

    /// The legs of a route of 1…`maxLegs` legs from (x, y) on a side × side mesh, each of 1 or more
    /// hops that stay on the mesh: a leg delivers along its way with chance 1 in `alongOneIn`, and
    /// every leg but the last relays at its end with chance 1 in 2.
    mutating func legs(x: Int, y: Int, side: Int, maxLegs: Int, alongOneIn: Int) -> [RouteLeg] {
        var x = x, y = y, legs: [RouteLeg] = []
        let count = 1 + next(maxLegs)
        for i in 0..<count {
            var options: [(Direction, Int)] = []
            for d in [Direction.east, .west, .north, .south] {
                var h = 1
                while (0..<side).contains(x + d.step.dx * h) && (0..<side).contains(y + d.step.dy * h) { options.append((d, h)); h += 1 }
            }
            let (d, h) = options[next(options.count)]
            let along = next(alongOneIn) == alongOneIn - 1, relay = i < count - 1 && next(2) == 1
            legs.append(RouteLeg(d, h, deliverAlong: along, relayAtEnd: relay))
            x += d.step.dx * h
            y += d.step.dy * h
        }
        return legs
    }
}

/// An engine on `spec` (summary detail) whose every numerics tape is too long to keep: runs with a
/// replay key are kept without one, and their replays rerun the numerics from the ops.
func rerunEngine(_ spec: MeshSpec, replays: Bool, threads: Int, payloadSlots: Int = 2) throws -> MeshEngine {
    let e = try MeshEngine(spec: spec, recorder: try TraceRecorder(spec: spec, detail: .summary), payloadSlots: payloadSlots)
    e.replaysRuns = replays
    e.numericsThreads = threads
    e.entriesPerCoreLimit = 0
    return e
}
