import ArgumentParser
import Foundation
import WaferSpec
import WaferTrace

/// `waferscope info TRACE`: what a trace holds.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Summarise a trace: makespan, messages, hops, SRAM, colours, link utilisation."
    )

    @Argument(help: "A .wtrace file.")
    var trace: String

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        let t = try Trace.read(path: trace)
        print(json ? TraceSummaryText.json(t) : TraceSummaryText.human(t))
    }
}

/// Text and JSON summaries of a trace, shared by `info` and `record`.
enum TraceSummaryText {
    static func fields(_ t: Trace) -> [String: Any] {
        var f: [String: Any] = [
            "spec": t.spec.name, "mesh": "\(t.spec.width)x\(t.spec.height)", "detail": t.detail.rawValue,
            "complete": t.complete,
            "makespanCycles": t.summary.makespanCycles,
            "makespanSeconds": t.spec.seconds(cycles: Int(t.summary.makespanCycles)),
            "messages": t.summary.messages, "computeEvents": t.summary.computeEvents,
            "totalMacs": t.summary.totalMacs, "hopEvents": t.summary.hopEvents,
            "maxHops": t.summary.maxHops, "maxRelays": t.summary.maxRelays,
            "peakSramBytesPerCore": t.peakSramBytesPerCore, "sramBytesPerCore": t.spec.sramBytesPerCore,
            "maxColorsPerCore": t.maxColoursPerCore, "colorsPerCore": t.spec.colorsPerCore,
            "linkBusyMaxFraction": t.linkBusyMaxFraction,
            "violations": t.violations.count, "kernels": t.kernels.count,
            "recordedSpans": t.spans.count, "recordedMessages": t.messages.count,
        ]
        if let a = t.metadata["algorithm"] { f["algorithm"] = a }
        if let e = t.metadata["maxAbsError"], let v = Double(e) { f["maxAbsError"] = v }
        for key in ["pattern", "workload", "command"] { if let v = t.metadata[key] { f[key] = v } }
        return f
    }

    static func json(_ t: Trace) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: fields(t), options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    static func human(_ t: Trace) -> String {
        let s = t.summary
        let g = t.geometry
        var lines: [String] = []
        lines.append("trace: \(t.spec.name), \(t.spec.width)x\(t.spec.height) cores, detail \(t.detail.rawValue)\(t.complete ? "" : " (INCOMPLETE: file ends before its footer)")")
        if let w = t.metadata["workload"] { lines.append("workload: \(w)\(t.metadata["pattern"].map { " \($0)" } ?? "")\(t.metadata["algorithm"].map { " \($0)" } ?? "")") }
        lines.append(String(format: "makespan: %lld cycles (%.3f µs at %.2f GHz)", s.makespanCycles,
                            t.spec.seconds(cycles: Int(s.makespanCycles)) * 1e6, t.spec.clockHz / 1e9))
        lines.append("messages: \(s.messages) (max \(s.maxHops) hops, max \(s.maxRelays) relays); hop events: \(s.hopEvents)")
        lines.append("compute: \(s.computeEvents) ops, \(s.totalMacs) MACs")
        var busiest = 0
        for i in t.linkTotals.busyCycles.indices where t.linkTotals.busyCycles[i] > t.linkTotals.busyCycles[busiest] { busiest = i }
        let bc = g.source(ofLink: busiest)
        lines.append(String(format: "busiest link: (%d,%d)→%@ busy %.1f%% of the makespan, peak queue %d wavelets",
                            g.x(of: bc), g.y(of: bc), g.direction(ofLink: busiest).letter, 100 * t.linkBusyMaxFraction,
                            Int(t.linkTotals.peakQueue[busiest])))
        lines.append(String(format: "M: peak %.1f KB of %.1f KB per core; R: %d of %d colours per core",
                            Double(t.peakSramBytesPerCore) / 1024, Double(t.spec.sramBytesPerCore) / 1024,
                            t.maxColoursPerCore, t.spec.colorsPerCore))
        if !t.violations.isEmpty {
            lines.append("violations: \(t.violations.count); first: \(t.violations[0])")
        }
        if let e = t.metadata["maxAbsError"] { lines.append("max |error| vs dense reference: \(e)") }
        return lines.joined(separator: "\n")
    }
}
