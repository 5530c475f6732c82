import Foundation

/// `waferbench cli --bin PATH --label L -- ARGS…`: wall time and peak memory of one run of a
/// `waferscope` binary (for comparing builds, e.g. a baseline commit against this one), and a
/// hash of what it printed (runs that must print the same can be compared).
enum CLIBench {
    static func run(_ o: Options, arguments: [String]) throws -> JSONObject {
        let bin = try o.string("bin")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin)
        p.arguments = arguments
        let out = NSTemporaryDirectory() + "waferbench-cli-\(getpid()).out"
        guard FileManager.default.createFile(atPath: out, contents: nil), let sink = FileHandle(forWritingAtPath: out) else {
            throw BenchError("cannot write \(out)")
        }
        defer { try? FileManager.default.removeItem(atPath: out) }
        p.standardOutput = sink
        p.standardError = FileHandle.nullDevice
        let (_, seconds) = try timed { () throws in
            try p.run()
            p.waitUntilExit()
        }
        try sink.close()
        guard p.terminationStatus == 0 else { throw BenchError("\(bin) \(arguments.joined(separator: " ")) exited with \(p.terminationStatus)") }
        // FNV-1a, 64 bits: enough to tell two outputs apart.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (FileManager.default.contents(atPath: out) ?? Data()) { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
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
                "figures": ["seconds": seconds, "peakRSSBytes": rss], "stdoutHash": String(hash, radix: 16)]
    }
}
