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
              policy: ViolationPolicy = .abort,
              _ build: (MeshEngine) throws -> ScriptProgram) throws -> Trace {
    let rec = try TraceRecorder(spec: spec, detail: detail)
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
