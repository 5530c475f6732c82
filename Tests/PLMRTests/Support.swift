import PLMR
import WaferKernels
import WaferMesh
import WaferSpec
import WaferTrace

/// A hand-checkable spec: α = 1, o = 2, one MAC per cycle, 4-byte elements, 4 B/cycle links and
/// ramps (one element per wavelet), roomy SRAM and colours.
func handSpec(_ w: Int, _ h: Int) -> MeshSpec {
    MeshSpec(name: "hand", width: w, height: h, clockHz: 1e9, sramBytesPerCore: 1 << 20, linkBytesPerCycle: 4,
             rampBytesPerCycle: 4, hopLatencyCycles: 1, relayLatencyCycles: 4, colorsPerCore: 24, macsPerCycle: 1,
             opOverheadCycles: 2, elementBytes: 4)
}

/// A WSE-2 sub-grid (its SRAM and colour budgets kept: violations are recorded, not fatal).
func wse2(_ w: Int, _ h: Int) throws -> MeshSpec { try MeshSpec.wse2.subgrid(width: w, height: h) }

/// Runs one kernel on the whole mesh of `spec`, timing-only, and returns its trace.
func measure(_ spec: MeshSpec, _ body: (MeshEngine, KernelGrid) throws -> Void) throws -> Trace {
    let rec = try TraceRecorder(spec: spec, detail: .summary)
    let engine = try MeshEngine(spec: spec, recorder: rec, payloadSlots: nil, policy: .record)
    try body(engine, try KernelGrid(geometry: engine.geometry))
    engine.finishRecording()
    return try rec.finish()
}

/// Measured cycles of a trace's single kernel mark.
func cycles(_ t: Trace) -> Int { Int(t.kernels[0].end - t.kernels[0].start) }

func runGEMM(_ algo: GEMMAlgorithm, _ spec: MeshSpec, m: Int, k: Int, n: Int, groups: Int? = nil) throws -> Trace {
    try measure(spec) { e, g in
        _ = try KernelRunner.gemm(algo, engine: e, grid: g, shape: GEMMShape(m: m, k: k, n: n), groups: groups)
    }
}

func runGEMV(_ algo: GEMVAlgorithm, _ spec: MeshSpec, rows: Int, cols: Int, groups: Int? = nil) throws -> Trace {
    try measure(spec) { e, g in
        _ = try KernelRunner.gemv(algo, engine: e, grid: g, rows: rows, cols: cols, groups: groups)
    }
}

/// Signed relative error in percent.
func errorPercent(predicted: Int, measured: Int) -> Double { 100 * Double(predicted - measured) / Double(measured) }
