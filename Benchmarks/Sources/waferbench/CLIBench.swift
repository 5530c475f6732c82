import Foundation

/// `waferbench cli --bin PATH --label L -- ARGS…`: wall time and peak memory of one run of a
/// `waferscope` binary (for comparing builds, e.g. a baseline commit against this one).
enum CLIBench {
    static func run(_ o: Options, arguments: [String]) throws -> JSONObject {
        let bin = try o.string("bin")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin)
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        let (_, seconds) = try timed { () throws in
            try p.run()
            p.waitUntilExit()
        }
        guard p.terminationStatus == 0 else { throw BenchError("\(bin) \(arguments.joined(separator: " ")) exited with \(p.terminationStatus)") }
        var u = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &u)
        #else
        getrusage(RUSAGE_CHILDREN, &u)
        #endif
        #if os(Linux)
        let rss = Int(u.ru_maxrss) * 1024
        #else
        let rss = Int(u.ru_maxrss)
        #endif
        return ["kind": "cli", "label": try o.string("label"), "sizes": ["binary": bin, "arguments": arguments.joined(separator: " ")],
                "figures": ["seconds": seconds, "peakRSSBytes": rss]]
    }
}
