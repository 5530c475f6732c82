import Foundation
import WaferSpec

/// Streams a `.wtrace` file into Chrome trace-event JSON that Perfetto (ui.perfetto.dev) opens.
///
/// - One process per mesh row (`pid` = y), one thread per core (`tid` = core id), named and
///   sorted by metadata events.
/// - `X` slices for compute, send, wait and kernel spans; every message a flow with a unique id
///   from an `s` event on its source's send slice to an `f` event (`"bp":"e"`) on a `recv` slice
///   at its destination.
/// - Counters per core for the busy share of its four outgoing links in each time window.
///
/// The exporter reads one chunk at a time and writes as it goes, so its memory does not grow with
/// the trace; `region` and `window` cut big meshes down to what a browser can open.
public struct PerfettoExporter {
    public var region: CoreRegion?
    public var window: CycleWindow?

    public init(region: CoreRegion? = nil, window: CycleWindow? = nil) {
        self.region = region
        self.window = window
    }

    /// Counts of what was written.
    public struct Stats: Sendable {
        public var slices = 0
        public var flows = 0
        public var counters = 0
    }

    /// Exports the trace at `input` to `output` (written to a temporary name, then renamed).
    @discardableResult
    public func export(input: String, output: String) throws -> Stats {
        var reader = try TraceReader(path: input)
        let spec = reader.spec
        let g = MeshGeometry(spec)
        let region = self.region ?? CoreRegion.all(g)
        let partial = output + ".partial"
        guard FileManager.default.createFile(atPath: partial, contents: nil),
              let handle = FileHandle(forWritingAtPath: partial) else {
            throw TraceFormatError.io("cannot write '\(output)'")
        }
        var out = JSONStream(handle: handle)
        let usPerCycle = 1e6 / spec.clockHz
        func ts(_ c: Int64) -> String { String(format: "%.4f", Double(c) * usPerCycle) }
        func inside(_ core: Int) -> Bool { region.contains(x: g.x(of: core), y: g.y(of: core)) }
        func inWindow(_ s: Int64, _ e: Int64) -> Bool { window?.overlaps(Int(s), Int(max(e, s + 1))) ?? true }

        var stats = Stats()
        out.raw("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"mesh\":\"\(spec.width)x\(spec.height)\",\"spec\":\(JSONStream.quote(spec.name))},\"traceEvents\":[\n")
        for y in region.y0...region.y1 {
            out.event("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":\(y),\"args\":{\"name\":\"row \(y)\"}}")
            out.event("{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":\(y),\"args\":{\"sort_index\":\(y)}}")
            for x in region.x0...region.x1 {
                let c = g.core(x: x, y: y)
                out.event("{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":\(y),\"tid\":\(c),\"args\":{\"name\":\"core (\(x),\(y))\"}}")
                out.event("{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":\(y),\"tid\":\(c),\"args\":{\"sort_index\":\(x)}}")
            }
        }
        var labels: [String] = []
        var flowID = 0
        while let chunk = try reader.next() {
            switch chunk {
            case .labels(let first, let names):
                if labels.count < first + names.count { labels += Array(repeating: "?", count: first + names.count - labels.count) }
                for (i, n) in names.enumerated() { labels[first + i] = n }
            case .spans(let spans):
                for s in spans where inside(Int(s.core)) && inWindow(s.start, s.end) {
                    let name = s.label >= 0 && Int(s.label) < labels.count ? labels[Int(s.label)] : s.kind.name
                    let y = g.y(of: Int(s.core))
                    out.event("{\"ph\":\"X\",\"name\":\(JSONStream.quote(name)),\"cat\":\"\(s.kind.name)\",\"pid\":\(y),\"tid\":\(s.core),\"ts\":\(ts(s.start)),\"dur\":\(ts(s.end - s.start)),\"args\":{\"macs\":\(s.macs),\"startCycle\":\(s.start),\"endCycle\":\(s.end)}}")
                    stats.slices += 1
                }
            case .messages(let messages):
                for m in messages where (inside(Int(m.source)) || inside(Int(m.destination))) && inWindow(m.injection, m.tailArrival + 1) {
                    flowID += 1
                    let ys = g.y(of: Int(m.source)), yd = g.y(of: Int(m.destination))
                    let args = "{\"bytes\":\(m.bytes),\"colour\":\(m.colour),\"hops\":\(m.hops),\"relays\":\(m.relays),\"source\":\(m.source),\"sequence\":\(m.sequence)}"
                    if inside(Int(m.source)) {
                        out.event("{\"ph\":\"s\",\"id\":\(flowID),\"name\":\"message\",\"cat\":\"message\",\"pid\":\(ys),\"tid\":\(m.source),\"ts\":\(ts(m.injection))}")
                    }
                    if inside(Int(m.destination)) {
                        out.event("{\"ph\":\"X\",\"name\":\"recv\",\"cat\":\"recv\",\"pid\":\(yd),\"tid\":\(m.destination),\"ts\":\(ts(m.headArrival)),\"dur\":\(ts(m.tailArrival + 1 - m.headArrival)),\"args\":\(args)}")
                        out.event("{\"ph\":\"f\",\"bp\":\"e\",\"id\":\(flowID),\"name\":\"message\",\"cat\":\"message\",\"pid\":\(yd),\"tid\":\(m.destination),\"ts\":\(ts(m.headArrival))}")
                    }
                    stats.flows += 1
                }
            case .linkWindow(let index, let cycles, let frame):
                let t0 = Int64(index) * cycles
                guard inWindow(t0, t0 + cycles) else { continue }
                for y in region.y0...region.y1 {
                    for x in region.x0...region.x1 {
                        let c = g.core(x: x, y: y)
                        let parts = Direction.allCases.map { d in
                            "\"\(d.letter)\":\(String(format: "%.1f", 100 * Double(frame[c * 4 + d.rawValue]) / Double(cycles)))"
                        }
                        out.event("{\"ph\":\"C\",\"name\":\"link busy % (\(x),\(y))\",\"pid\":\(y),\"ts\":\(ts(t0)),\"args\":{\(parts.joined(separator: ","))}}")
                        stats.counters += 1
                    }
                }
            default:
                break
            }
        }
        out.raw("\n]}\n")
        try out.close()
        do {
            if FileManager.default.fileExists(atPath: output) { try FileManager.default.removeItem(atPath: output) }
            try FileManager.default.moveItem(atPath: partial, toPath: output)
        } catch {
            throw TraceFormatError.io("cannot move export into place at '\(output)'")
        }
        return stats
    }
}

/// Buffered JSON-lines writer for the exporter.
struct JSONStream {
    let handle: FileHandle
    var buffer: [UInt8] = []
    var first = true
    var failed = false

    init(handle: FileHandle) {
        self.handle = handle
        buffer.reserveCapacity(1 << 20)
    }

    mutating func raw(_ s: String) {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= 1 << 20 { flush() }
    }

    mutating func event(_ s: String) {
        if !first { buffer.append(contentsOf: ",\n".utf8) }
        first = false
        raw(s)
    }

    mutating func flush() {
        guard !failed else { buffer.removeAll(keepingCapacity: true); return }
        do { try handle.write(contentsOf: Data(buffer)) } catch { failed = true }
        buffer.removeAll(keepingCapacity: true)
    }

    mutating func close() throws {
        flush()
        try? handle.close()
        if failed { throw TraceFormatError.io("writing the export failed (disk full?)") }
    }

    /// A JSON string literal for `s`.
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
