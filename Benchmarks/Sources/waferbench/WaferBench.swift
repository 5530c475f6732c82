import Foundation

/// The benchmark harness. Each measurement runs in its own process (so peak memory is its own)
/// and writes one JSON part; `report` merges the parts into bench/results.json and
/// bench/REPORT.md. scripts/bench.sh runs the whole suite.
///
///     waferbench engine --kernel gemv|gemm --mesh WxH (--rows R --cols C | --m M --k K --n N) --out part.json
///     waferbench decode --side N [--sram BYTES] [--decode-tokens D] --out part.json
///     waferbench trace --workload shift|gemm|comm --mesh WxH … --out-trace t.wtrace --out part.json
///     waferbench export --trace t.wtrace --out-json t.json --out part.json
///     waferbench cli --bin waferscope --label L --out part.json -- ARGS…
///     waferbench report --parts DIR --json results.json --markdown REPORT.md
@main
struct WaferBench {
    static func main() {
        let args = CommandLine.arguments
        guard args.count >= 2 else {
            FileHandle.standardError.write(Data("usage: waferbench engine|decode|trace|export|cli|report …\n".utf8))
            exit(2)
        }
        let split = args.firstIndex(of: "--") ?? args.endIndex
        let o = Options(args[2..<split])
        let passThrough = split < args.endIndex ? Array(args[(split + 1)...]) : []
        do {
            let part: JSONObject
            switch args[1] {
            case "engine": part = try EngineBench.run(o)
            case "decode": part = try DecodeBench.run(o)
            case "trace": part = try TraceBench.record(o)
            case "export": part = try TraceBench.export(o)
            case "cli": part = try CLIBench.run(o, arguments: passThrough)
            case "report":
                try Report.write(parts: try o.string("parts"), json: try o.string("json"), markdown: try o.string("markdown"))
                return
            default: throw BenchError("unknown command \(args[1])")
            }
            var full = part
            full["conditions"] = hostConditions()
            full["date"] = ISO8601DateFormatter().string(from: Date())
            let out = try o.string("out")
            try writeJSON(full, to: out)
            print("\(part["kind"] ?? "?") \(part["label"] ?? "?"): \(summaryLine(part))")
        } catch {
            FileHandle.standardError.write(Data("waferbench: \(error)\n".utf8))
            exit(1)
        }
    }

    static func summaryLine(_ part: JSONObject) -> String {
        let f = part["figures"] as? JSONObject ?? [:]
        switch part["kind"] as? String {
        case "engine":
            return "\(si(f["hopEventsPerSecond"] as? Double ?? 0))hops/s, run \(fmt(f["runSeconds"] as? Double ?? 0, 3)) s, "
                + "\(fmt(f["stateBytesPerCore"] as? Double ?? 0, 1)) B/core, peak \(megabytes(f["peakRSSBytes"] as? Int ?? 0))"
        case "decode":
            return "mesh \(fmt(f["meshSecondsPerToken"] as? Double ?? 0, 3)) s/token, reference \(fmt(1000 * (f["referenceSecondsPerToken"] as? Double ?? 0), 1)) ms/token, ratio \(fmt(f["ratio"] as? Double ?? 0, 1))"
        case "trace":
            return "\(fmt(f["bytesPerMessage"] as? Double ?? 0)) B/message, \(fmt(f["bytesPerSpan"] as? Double ?? 0)) B/span"
        case "export":
            return "peak \(megabytes(f["peakRSSBytes"] as? Int ?? 0)) for \(megabytes(f["traceBytes"] as? Int ?? 0)) of trace"
        case "cli":
            return "\(fmt(f["seconds"] as? Double ?? 0, 2)) s, peak \(megabytes(f["peakRSSBytes"] as? Int ?? 0))"
        default: return ""
        }
    }
}
