import Foundation
import WaferAnalysis
import WaferMesh
import WaferRender
import WaferSpec
import WaferTrace
import XCTest

/// Writes sample figures to `$WS_RENDER_PREVIEW` for a person to look at; skipped otherwise.
final class PreviewTests: XCTestCase {
    private func directory() throws -> String {
        guard let dir = ProcessInfo.processInfo.environment["WS_RENDER_PREVIEW"] else {
            throw XCTSkip("set WS_RENDER_PREVIEW=DIR to write sample figures")
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    private func save(_ f: any Figure, _ dir: String, _ name: String) throws {
        let start = Date()
        let format = try ImageFormat(path: name)
        try f.render(format: format).write(to: URL(fileURLWithPath: dir + "/" + name))
        print("preview \(name): \(String(format: "%.2f", Date().timeIntervalSince(start))) s")
    }

    func testSmallMeshes() throws {
        let dir = try directory()
        let tiny = try TestTraces.hotspot()
        try save(try CongestionMap(trace: tiny), dir, "congestion-tiny.png")
        try save(try CongestionMap(trace: tiny), dir, "congestion-tiny.svg")
        try save(try Timeline(trace: tiny), dir, "timeline-tiny.png")
        let transpose = try TestTraces.pattern(.transpose, try MeshSpec.wse2.subgrid(width: 32, height: 32), detail: .full)
        try save(try CongestionFrames(trace: transpose), dir, "frames-32.png")
        try save(try Timeline(trace: transpose), dir, "timeline-32.png")
        try save(try Timeline(trace: transpose, region: CoreRegion(x0: 0, y0: 0, x1: 7, y1: 3), window: CycleWindow(start: 0, end: 400)), dir, "timeline-32-zoom.png")
        let mem = try TestTraces.script(.tiny, policy: .record) { e in
            let l = e.label("buf")
            var ops: [Int: [MeshOp]] = [:]
            for c in 0..<64 { ops[c] = [.alloc(label: l, bytes: 600 * (c % 9))] }
            return ops
        }
        try save(MemoryMap(trace: mem), dir, "memory-tiny.png")
        let table = try SweepTable.parse(SampleSweep.csv)
        try save(ScalingPlot(table: table), dir, "scaling.png")
        try save(try ModelVsMeasuredPlot(table: table), dir, "model-vs-measured.png")
    }

    /// The whole WSE-2 (757×996 cores): a kernel-detail trace with three kernels per core and
    /// synthetic link and memory totals.
    func testWholeWafer() throws {
        let dir = try directory()
        let spec = MeshSpec.wse2
        let g = MeshGeometry(spec)
        let rec = try TraceRecorder(spec: spec, detail: .kernel)
        let names = ["embed", "attention.qk", "softmax", "attention.v", "mlp"]
        let labels = names.map { rec.label($0) }
        var t0 = Date()
        for c in 0..<g.coreCount {
            let x = g.x(of: c), y = g.y(of: c)
            var t: Int64 = Int64((x + y) * 4)
            for (i, l) in labels.enumerated() {
                let d = Int64(2000 + 300 * i + (x * 7 + y * 3) % 500)
                rec.span(Span(core: Int32(c), kind: .kernel, label: l, start: t, end: t + d, macs: 0))
                t += d + 200
            }
            rec.coreFinal(c, peakSram: 20_000 + (x * 31 + y * 17) % 30_000, colours: 3, finish: t)
        }
        for c in stride(from: 0, to: g.coreCount, by: 1) {
            let x = g.x(of: c), y = g.y(of: c)
            let u = Int64(max(0, 1000 - abs(x - 378) - abs(y - 498)))
            rec.linkBusy(g.link(from: c, x < 378 ? .east : .west), start: 0, cycles: u * 20, bytes: u * 80, queued: 0)
        }
        rec.setMakespan(30_000)
        let trace = try rec.finish()
        print("preview: built wafer trace in \(Date().timeIntervalSince(t0)) s")
        t0 = Date()
        try save(try Timeline(trace: trace), dir, "wafer-timeline.png")
        try save(try CongestionMap(trace: trace), dir, "wafer-congestion.png")
        try save(try CongestionMap(trace: trace, aggregate: .mean), dir, "wafer-congestion.svg")
        try save(try CongestionFrames(trace: trace, panels: 4), dir, "wafer-frames.png")
        try save(MemoryMap(trace: trace), dir, "wafer-memory.png")
    }
}
