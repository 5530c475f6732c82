import WaferKernels
import WaferMesh
import WaferSpec
import WaferTrace

/// A spec with WSE-2 per-core hardware on a `w × h` mesh but roomy SRAM, so numerics tests can use odd shapes.
func testSpec(_ w: Int, _ h: Int, sram: Int = 1 << 20) -> MeshSpec {
    var s = MeshSpec.small
    s.width = w
    s.height = h
    s.sramBytesPerCore = sram
    s.name = "test \(w)x\(h)"
    return s
}

/// Runs a kernel built by `make` and returns the trace plus the engine (for its payloads).
func runKernel<P: MeshProgram>(_ spec: MeshSpec, payloads: Bool, detail: TraceDetail = .full,
                               policy: ViolationPolicy = .abort,
                               _ make: (MeshEngine, KernelGrid) throws -> P) throws -> (Trace, P, MeshEngine) {
    let rec = try TraceRecorder(spec: spec, detail: detail)
    let engine = try MeshEngine(spec: spec, recorder: rec, payloadSlots: payloads ? 8 : nil, policy: policy)
    let grid = try KernelGrid(geometry: engine.geometry)
    let program = try make(engine, grid)
    try engine.run(program)
    engine.finishRecording()
    return (try rec.finish(), program, engine)
}
