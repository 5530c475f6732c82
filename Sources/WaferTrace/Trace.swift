import Foundation
import WaferSpec

/// A whole trace in memory: what one run recorded.
public struct Trace: Sendable {
    public var spec: MeshSpec
    public var detail: TraceDetail
    /// Run metadata (command, algorithm, shapes, maxAbsError, …).
    public var metadata: [String: String]
    public var summary: RunSummary
    public var labels: [String]
    public var spans: [Span]
    public var messages: [MessageRecord]
    public var kernels: [KernelMark]
    public var violations: [Violation]
    public var linkTotals: LinkTotals
    public var linkWindows: LinkWindows?
    public var coreTotals: CoreTotals
    /// False when the file ended before its footer (a run that died, a truncated copy).
    public var complete: Bool

    public var geometry: MeshGeometry { MeshGeometry(spec) }

    /// The name of a label id.
    public func label(_ id: Int32) -> String { labels.indices.contains(Int(id)) ? labels[Int(id)] : "?" }

    /// The busiest link's busy cycles over the makespan (0 for an empty run).
    public var linkBusyMaxFraction: Double {
        guard summary.makespanCycles > 0 else { return 0 }
        return Double(linkTotals.busyCycles.max() ?? 0) / Double(summary.makespanCycles)
    }

    /// The largest peak SRAM of any core, in bytes.
    public var peakSramBytesPerCore: Int { Int(coreTotals.peakSramBytes.max() ?? 0) }

    /// The most colours any core's routes need.
    public var maxColoursPerCore: Int { Int(coreTotals.colours.max() ?? 0) }

    /// Reads a whole `.wtrace` file.
    ///
    /// A file cut short is read up to its last whole chunk and comes back with `complete == false`;
    /// a chunk with a bad magic or checksum, or a bad header, is an error.
    public static func read(path: String) throws -> Trace {
        var reader = try TraceReader(path: path)
        let g = MeshGeometry(reader.spec)
        var t = Trace(
            spec: reader.spec, detail: reader.detail, metadata: reader.headerMetadata, summary: RunSummary(),
            labels: [], spans: [], messages: [], kernels: [], violations: [],
            linkTotals: LinkTotals(linkCount: g.linkCount), linkWindows: nil,
            coreTotals: CoreTotals(coreCount: g.coreCount), complete: false)
        var frames: [Int: [Int32]] = [:]
        var windowCycles: Int64 = 0
        while let chunk = try reader.next() {
            switch chunk {
            case .labels(let first, let names):
                if t.labels.count < first + names.count {
                    t.labels += Array(repeating: "?", count: first + names.count - t.labels.count)
                }
                for (i, n) in names.enumerated() { t.labels[first + i] = n }
            case .spans(let s): t.spans += s
            case .messages(let m): t.messages += m
            case .kernels(let k): t.kernels += k
            case .violations(let v): t.violations += v
            case .linkTotals(let lt): t.linkTotals = lt
            case .linkWindow(let index, let cycles, let frame):
                frames[index] = frame
                windowCycles = cycles
            case .coreTotals(let ct): t.coreTotals = ct
            case .end(let summary, let meta):
                t.summary = summary
                t.metadata.merge(meta) { _, new in new }
                t.complete = true
            }
        }
        if !frames.isEmpty {
            let n = (frames.keys.max() ?? -1) + 1
            let empty = Array(repeating: Int32(0), count: g.linkCount)
            t.linkWindows = LinkWindows(windowCycles: windowCycles, frames: (0..<n).map { frames[$0] ?? empty })
        }
        if !t.complete { t.recomputeSummaryFromEvents() }
        return t
    }

    /// For a trace without its footer: rebuilds what the recorded events can tell.
    mutating func recomputeSummaryFromEvents() {
        var s = RunSummary()
        for sp in spans {
            s.makespanCycles = max(s.makespanCycles, sp.end)
            if sp.kind == .compute { s.computeEvents += 1; s.totalMacs += sp.macs }
        }
        for m in messages {
            s.messages += 1
            s.makespanCycles = max(s.makespanCycles, m.tailArrival)
            s.maxHops = max(s.maxHops, Int64(m.hops))
            s.maxRelays = max(s.maxRelays, Int64(m.relays))
        }
        summary = s
    }
}
