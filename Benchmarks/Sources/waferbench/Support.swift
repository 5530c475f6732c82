import Foundation

/// A JSON object being built (string keys, JSON-compatible values).
typealias JSONObject = [String: Any]

/// Command-line options: `--name value` pairs and bare flags.
struct Options {
    private var values: [String: String] = [:]
    private(set) var flags: Set<String> = []

    init(_ args: ArraySlice<String>) {
        var i = args.startIndex
        while i < args.endIndex {
            let a = args[i]
            guard a.hasPrefix("--") else { i += 1; continue }
            let name = String(a.dropFirst(2))
            if i + 1 < args.endIndex, !args[i + 1].hasPrefix("--") {
                values[name] = args[i + 1]
                i += 2
            } else {
                flags.insert(name)
                i += 1
            }
        }
    }

    func string(_ name: String, _ fallback: String? = nil) throws -> String {
        if let v = values[name] ?? fallback { return v }
        throw BenchError("missing --\(name)")
    }

    func int(_ name: String, _ fallback: Int? = nil) throws -> Int {
        if let v = values[name] {
            guard let n = Int(v) else { throw BenchError("--\(name) must be an integer, got '\(v)'") }
            return n
        }
        if let fallback { return fallback }
        throw BenchError("missing --\(name)")
    }

    /// `WxH`.
    func mesh(_ name: String = "mesh") throws -> (width: Int, height: Int) {
        let v = try string(name)
        let parts = v.split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2 else { throw BenchError("--\(name) must be WxH, got '\(v)'") }
        return (parts[0], parts[1])
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Wall-clock seconds of `body`.
func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    let r = try body()
    return (r, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}

/// Resource use of this process so far.
struct Usage {
    /// Peak resident set, bytes.
    var peakRSS: Int
    /// User + system CPU seconds.
    var cpuSeconds: Double

    static func now() -> Usage {
        var u = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
        #else
        getrusage(RUSAGE_SELF, &u)
        #endif
        #if os(Linux)
        let rss = Int(u.ru_maxrss) * 1024
        #else
        let rss = Int(u.ru_maxrss)
        #endif
        let cpu = Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6
            + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
        return Usage(peakRSS: rss, cpuSeconds: cpu)
    }
}

/// Current resident set size in bytes (Linux: /proc/self/statm), or nil.
func currentRSS() -> Int? {
    guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
    let f = s.split(separator: " ")
    guard f.count > 1, let pages = Int(f[1]) else { return nil }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// The host and build a figure was measured on.
func hostConditions() -> JSONObject {
    var o: JSONObject = [:]
    var u = utsname()
    uname(&u)
    func field<T>(_ v: T) -> String {
        withUnsafeBytes(of: v) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
    }
    o["os"] = "\(field(u.sysname)) \(field(u.release)) \(field(u.machine))"
    o["hostCores"] = ProcessInfo.processInfo.activeProcessorCount
    o["hostMemoryBytes"] = Int(ProcessInfo.processInfo.physicalMemory)
    if let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
       let line = cpu.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
       let name = line.split(separator: ":", maxSplits: 1).last {
        o["cpu"] = name.trimmingCharacters(in: .whitespaces)
    }
    if let load = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) {
        o["loadAverage1m"] = Double(load.split(separator: " ").first ?? "") ?? 0
    }
    let env = ProcessInfo.processInfo.environment
    o["swift"] = env["BENCH_SWIFT_VERSION"] ?? "?"
    o["commit"] = env["BENCH_COMMIT"] ?? "?"
    o["build"] = "release (-c release; WaferTrace/WaferMesh/WaferKernels/WaferLLM and the harness with -enforce-exclusivity=unchecked)"
    return o
}

/// Writes `object` as sorted, pretty JSON.
func writeJSON(_ object: Any, to path: String) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    try data.write(to: URL(fileURLWithPath: path))
}

func readJSON(_ path: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Least-squares slope of log(y) against log(x): the exponent of a power law y ∝ x^k.
func powerLawExponent(_ points: [(x: Double, y: Double)]) -> Double? {
    let p = points.filter { $0.x > 0 && $0.y > 0 }
    guard p.count >= 2 else { return nil }
    let lx = p.map { log($0.x) }, ly = p.map { log($0.y) }
    let mx = lx.reduce(0, +) / Double(p.count), my = ly.reduce(0, +) / Double(p.count)
    var num = 0.0, den = 0.0
    for (a, b) in zip(lx, ly) { num += (a - mx) * (b - my); den += (a - mx) * (a - mx) }
    return den > 0 ? num / den : nil
}

/// Decimal formatting for reports.
func fmt(_ v: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", v) }

/// "12.3 M" style.
func si(_ v: Double) -> String {
    let a = abs(v)
    if a >= 1e9 { return fmt(v / 1e9) + " G" }
    if a >= 1e6 { return fmt(v / 1e6) + " M" }
    if a >= 1e3 { return fmt(v / 1e3) + " k" }
    return fmt(v)
}

func megabytes(_ bytes: Int) -> String { fmt(Double(bytes) / 1_048_576, 1) + " MB" }
