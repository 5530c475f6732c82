import Foundation
import WaferMesh
import WaferSpec
import WaferTrace

/// A program given as explicit op lists per core.
struct ScriptedProgram: MeshProgram {
    var ops: [Int: [MeshOp]]
    func op(core: Int, pc: Int) -> MeshOp? {
        guard let list = ops[core], pc < list.count else { return nil }
        return list[pc]
    }
}

/// Traces made with the real engine, kept in memory.
enum TestTraces {
    /// Every core sends `bytes` to the centre core (`CommPattern.hotspot`).
    static func hotspot(_ spec: MeshSpec = .tiny, detail: TraceDetail = .full, bytes: Int = 256) throws -> Trace {
        try pattern(.hotspot, spec, detail: detail, bytes: bytes)
    }

    static func pattern(_ p: CommPattern, _ spec: MeshSpec, detail: TraceDetail, bytes: Int = 256) throws -> Trace {
        let rec = try TraceRecorder(spec: spec, detail: detail, metadata: ["workload": "comm", "pattern": p.rawValue, "bytes": "\(bytes)"])
        let e = try MeshEngine(spec: spec, recorder: rec)
        try e.run(try CommProgram(pattern: p, bytes: bytes, engine: e))
        e.finishRecording()
        return try rec.finish()
    }

    /// Runs explicit op lists on `spec` and returns the trace.
    static func script(_ spec: MeshSpec = .tiny, detail: TraceDetail = .full, policy: ViolationPolicy = .abort,
                       _ build: (MeshEngine) throws -> [Int: [MeshOp]]) throws -> Trace {
        let rec = try TraceRecorder(spec: spec, detail: detail)
        let e = try MeshEngine(spec: spec, recorder: rec, policy: policy)
        let ops = try build(e)
        try e.run(ScriptedProgram(ops: ops))
        e.finishRecording()
        return try rec.finish()
    }

    /// A writable scratch directory for one test.
    static func scratch(_ name: String) throws -> String {
        let dir = NSTemporaryDirectory() + "waferrender-\(name)-\(ProcessInfo.processInfo.processIdentifier)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}
