import Foundation
import WaferKernels
import WaferMesh
import WaferSpec
import WaferTrace

/// `waferbench engine`: one timing-only kernel run at `summary` detail, in this process.
///
/// Measures the engine alone: link-hop events per second on one host core, events of every kind,
/// engine and recorder state per simulated core, and this process's peak resident memory.
enum EngineBench {
    static func run(_ o: Options) throws -> JSONObject {
        let kernel = try o.string("kernel")
        let (w, h) = try o.mesh()
        let spec = try MeshSpec.wse2.subgrid(width: w, height: h)
        // Written to a file, as `waferscope record` does (records are flushed in chunks, not kept).
        let path = try o.string("trace", NSTemporaryDirectory() + "waferbench-engine-\(getpid()).wtrace")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let rec = try TraceRecorder(spec: spec, detail: .summary, path: path)
        let engine = try MeshEngine(spec: spec, recorder: rec, policy: .record)
        let grid = try KernelGrid(geometry: engine.geometry)
        var sizes: JSONObject = ["mesh": "\(w)x\(h)", "detail": "summary", "numerics": "timing-only"]
        let setupSeconds: Double, runSeconds: Double
        let usage0 = Usage.now()
        switch kernel {
        case "gemv":
            let rows = try o.int("rows"), cols = try o.int("cols")
            let algo = try o.string("algo", "ktree")
            let line: LineAlgorithm = algo == "pipeline" ? .pipeline : algo == "ring" ? .ring : .ktree(groups: LineAlgorithm.defaultGroups(h))
            let (k, s) = try timed { try MeshGEMV(engine: engine, grid: grid, rows: rows, cols: cols, algorithm: line) }
            setupSeconds = s
            runSeconds = try timed { try engine.run(k) }.1
            sizes["kernel"] = "MeshGEMV \(algo)"; sizes["rows"] = rows; sizes["cols"] = cols
        case "gemm":
            let m = try o.int("m"), kk = try o.int("k"), n = try o.int("n")
            let algo = try o.string("algo", "meshgemm")
            let (k, s) = try timed {
                try RingGEMM(algo == "cannon" ? .cannon : .meshgemm, engine: engine, grid: grid, shape: GEMMShape(m: m, k: kk, n: n))
            }
            setupSeconds = s
            runSeconds = try timed { try engine.run(k) }.1
            sizes["kernel"] = "RingGEMM \(algo)"; sizes["m"] = m; sizes["k"] = kk; sizes["n"] = n
            sizes["grid"] = "\(k.side)x\(k.side)"
        default:
            throw BenchError("unknown --kernel \(kernel) (gemv, gemm)")
        }
        let usage1 = Usage.now()
        let engineBytes = engine.stateBytes, recorderBytes = rec.stateBytes
        let breakdown = engine.memoryBreakdown, recorderBreakdown = rec.memoryBreakdown
        // The arrays sized by the mesh: per core and per link, engine and recorder.
        let arrays = breakdown.filter { $0.name.hasPrefix("cores") || $0.name.hasPrefix("links") || $0.name.hasPrefix("link peak")
            || $0.name.hasPrefix("colour masks") }.reduce(0) { $0 + $1.bytes }
            + recorderBreakdown.filter { $0.name.hasPrefix("per-") }.reduce(0) { $0 + $1.bytes }
        engine.finishRecording()
        let trace = try rec.finish()
        let stats = engine.stats
        let cores = spec.coreCount
        let hops = trace.summary.hopEvents
        var figures: JSONObject = [
            "setupSeconds": setupSeconds, "runSeconds": runSeconds,
            "cpuSecondsDuringRun": usage1.cpuSeconds - usage0.cpuSeconds,
            "linkHopEvents": hops, "hopEventsPerSecond": Double(hops) / runSeconds,
            "events": stats.events, "eventsPerSecond": Double(stats.events) / runSeconds,
            "eventsByKind": ["hop": stats.hopEvents, "relay": stats.relayEvents, "delivery": stats.deliveryEvents,
                             "core": stats.coreEvents],
            "messages": trace.summary.messages, "makespanCycles": trace.summary.makespanCycles,
            "sortedLists": stats.sortedLists, "sortedEvents": stats.sortedEvents, "farEvents": stats.farEvents,
            "engineStateBytes": engineBytes, "recorderStateBytes": recorderBytes,
            "stateBytesPerCore": Double(engineBytes + recorderBytes) / Double(cores),
            "engineBytesPerCore": Double(engineBytes) / Double(cores),
            "peakRSSBytes": Usage.now().peakRSS,
        ]
        figures["engineBreakdown"] = Dictionary(uniqueKeysWithValues: breakdown.map { ($0.name, $0.bytes) })
        figures["recorderBreakdown"] = Dictionary(uniqueKeysWithValues: recorderBreakdown.map { ($0.name, $0.bytes) })
        figures["arrayBytesPerCore"] = Double(arrays) / Double(cores)
        sizes["cores"] = cores
        return ["kind": "engine", "label": try o.string("label", "\(kernel) \(w)x\(h)"), "sizes": sizes, "figures": figures]
    }
}
