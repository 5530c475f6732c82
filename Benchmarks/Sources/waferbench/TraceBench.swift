import Foundation
import WaferKernels
import WaferMesh
import WaferSpec
import WaferTrace

/// Every core sends `rounds` messages to its east neighbour (the last column wraps) and receives
/// as many, with a compute op between rounds: a workload whose trace grows with `rounds` on a
/// fixed mesh.
struct ShiftRounds: MeshProgram {
    let route: [Int32]
    let rounds: Int
    let bytes: Int
    let label: Int32

    init(engine: MeshEngine, rounds: Int, bytes: Int) throws {
        let g = engine.geometry
        var route: [Int32] = []
        for c in 0..<g.coreCount {
            let x = g.x(of: c), y = g.y(of: c)
            route.append(try engine.routeXY(from: c, to: g.core(x: (x + 1) % g.width, y: y), colour: 0))
        }
        self.route = route
        self.rounds = rounds
        self.bytes = bytes
        label = engine.label("shift step")
    }

    func op(core: Int, pc: Int) -> MeshOp? {
        guard pc < 3 * rounds else { return nil }
        switch pc % 3 {
        case 0: return .send(route: route[core], bytes: bytes, buffer: -1)
        case 1: return .compute(macs: 64, label: label, work: -1)
        default: return .recv(colour: 0, buffer: -1)
        }
    }
}

/// `waferbench trace` and `waferbench export`: trace size per recorded event, and the Perfetto
/// exporter's memory as traces grow.
enum TraceBench {
    /// Records a full-detail trace to `--out-trace` and measures its bytes per message and span.
    static func record(_ o: Options) throws -> JSONObject {
        let workload = try o.string("workload")
        let (w, h) = try o.mesh()
        let path = try o.string("out-trace")
        let spec = try MeshSpec.wse2.subgrid(width: w, height: h)
        let rec = try TraceRecorder(spec: spec, detail: .full, path: path, metadata: ["workload": workload])
        let engine = try MeshEngine(spec: spec, recorder: rec, policy: .record)
        var sizes: JSONObject = ["mesh": "\(w)x\(h)", "detail": "full", "workload": workload]
        let (_, seconds) = try timed { () throws in
            switch workload {
            case "shift":
                let rounds = try o.int("rounds")
                sizes["rounds"] = rounds
                try engine.run(try ShiftRounds(engine: engine, rounds: rounds, bytes: 64))
            case "gemm":
                let n = try o.int("n")
                sizes["m"] = n; sizes["k"] = n; sizes["n"] = n
                try engine.run(try RingGEMM(.meshgemm, engine: engine, grid: try KernelGrid(geometry: engine.geometry),
                                            shape: GEMMShape(m: n, k: n, n: n)))
            case "comm":
                let pattern = CommPattern(rawValue: try o.string("pattern", "transpose")) ?? .transpose
                sizes["pattern"] = pattern.rawValue
                try engine.run(try CommProgram(pattern: pattern, bytes: 256, engine: engine))
            default:
                throw BenchError("unknown --workload \(workload) (shift, gemm, comm)")
            }
            engine.finishRecording()
            try rec.finish()
        }
        let chunks = try ChunkCensus(path: path)
        let msgs = chunks.records[3] ?? 0, spans = chunks.records[2] ?? 0
        let msgBytes = (chunks.payload[3] ?? 0) + 17 * (chunks.chunks[3] ?? 0)
        let spanBytes = (chunks.payload[2] ?? 0) + 17 * (chunks.chunks[2] ?? 0)
        let figures: JSONObject = [
            "recordSeconds": seconds, "fileBytes": chunks.fileBytes, "messages": msgs, "spans": spans,
            "bytesPerMessage": msgs > 0 ? Double(msgBytes) / Double(msgs) : 0,
            "bytesPerSpan": spans > 0 ? Double(spanBytes) / Double(spans) : 0,
            "fileBytesPerEvent": Double(chunks.fileBytes) / Double(max(1, msgs + spans)),
        ]
        return ["kind": "trace", "label": "\(workload) \(w)x\(h)", "sizes": sizes, "figures": figures]
    }

    /// Exports `--trace` to Perfetto JSON and reports this process's peak memory.
    static func export(_ o: Options) throws -> JSONObject {
        let input = try o.string("trace"), output = try o.string("out-json")
        let before = Usage.now().peakRSS
        let (stats, seconds) = try timed { try PerfettoExporter().export(input: input, output: output) }
        let size = fileSize(input), outSize = fileSize(output)
        try? FileManager.default.removeItem(atPath: output)
        let figures: JSONObject = [
            "traceBytes": size, "jsonBytes": outSize, "exportSeconds": seconds,
            "slices": stats.slices, "flows": stats.flows, "counters": stats.counters,
            "peakRSSBytes": Usage.now().peakRSS, "peakRSSBeforeExportBytes": before,
        ]
        return ["kind": "export", "label": (input as NSString).lastPathComponent, "sizes": ["trace": input], "figures": figures]
    }
}

/// Chunk counts, records and payload bytes per chunk kind of a `.wtrace` file (see docs/trace-format.md).
struct ChunkCensus {
    var fileBytes = 0
    var chunks: [Int: Int] = [:]
    var records: [Int: Int] = [:]
    var payload: [Int: Int] = [:]

    init(path: String) throws {
        let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        fileBytes = data.count
        func u32(_ i: Int) -> Int { Int(data[i]) | Int(data[i + 1]) << 8 | Int(data[i + 2]) << 16 | Int(data[i + 3]) << 24 }
        guard data.count >= 16 else { throw BenchError("\(path) is too short for a trace") }
        var offset = 16 + u32(12) + 4
        while offset + 13 <= data.count {
            let kind = Int(data[offset + 4]), count = u32(offset + 5), length = u32(offset + 9)
            chunks[kind, default: 0] += 1
            records[kind, default: 0] += count
            payload[kind, default: 0] += length
            offset += 13 + length + 4
        }
    }
}

func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
}
