import WaferAnalysis
import WaferSpec
import WaferTrace

/// Phrases figures share in titles and subtitles.
enum Describe {
    /// What ran, from the trace metadata: "comm hotspot, 256 B" or the workload/kernel name, or nil.
    static func run(_ trace: Trace) -> String? {
        let m = trace.metadata
        var parts: [String] = []
        if let w = m["workload"] { parts.append(w) }
        for key in ["pattern", "kernel", "algorithm", "algo", "phase"] { if let v = m[key] { parts.append(v) } }
        var s = parts.joined(separator: " ")
        if let b = m["bytes"] { s += s.isEmpty ? "\(b) B messages" : ", \(b) B" }
        return s.isEmpty ? nil : s
    }

    /// "wse2 64x64 · 64×64 cores" or with a region "… · region (0,0)–(7,7)".
    static func mesh(_ spec: MeshSpec, region: CoreRegion) -> String {
        var s = "\(spec.name) · \(spec.width)×\(spec.height) cores"
        if region != CoreRegion.all(MeshGeometry(spec)) {
            s += " · region (\(region.x0),\(region.y0))–(\(region.x1),\(region.y1))"
        }
        return s
    }

    /// "cycles 0–12,345 (11.2 µs)".
    static func window(_ w: CycleWindow, clockHz: Double) -> String {
        "cycles \(NumberFormat.grouped(Double(w.start)))–\(NumberFormat.grouped(Double(w.end))) (\(NumberFormat.duration(seconds: Double(w.end - w.start) / clockHz)))"
    }

    /// "blocks of 4×4 cores (max)" or nil for single cores.
    static func blocks(_ b: Int, _ a: BlockAggregate) -> String? {
        b > 1 ? "each cell = \(b)×\(b) cores (\(a.rawValue))" : nil
    }
}
