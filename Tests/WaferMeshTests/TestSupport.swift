import XCTest
import WaferMesh
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
