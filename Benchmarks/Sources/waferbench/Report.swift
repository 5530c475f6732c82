import Foundation

/// Merges the JSON parts of one `make bench` run into results.json and REPORT.md.
enum Report {
    static func write(parts dir: String, json: String, markdown: String) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".json") }.sorted()
        var all: [JSONObject] = []
        for n in names { if let p = try readJSON("\(dir)/\(n)") as? JSONObject { all.append(p) } }
        let parts = fastestRuns(all)
        let exponents = scaling(parts)
        let results: JSONObject = [
            "conditions": parts.first?["conditions"] ?? hostConditions(),
            "parts": parts,
            "repeatedRuns": all.filter { ["engine", "cli"].contains($0["kind"] as? String ?? "") },
            "scalingExponents": exponents,
            "targets": targets(parts),
        ]
        try writeJSON(results, to: json)
        try render(parts, exponents: exponents, loads: all).write(toFile: markdown, atomically: true, encoding: .utf8)
    }

    static func of(_ parts: [JSONObject], _ kind: String) -> [JSONObject] { parts.filter { $0["kind"] as? String == kind } }

    /// Engine rows and before/after command lines ran several times (alternated): keep the
    /// fastest run of each label, with `runs` (how many) in its figures (and for a command line
    /// the largest peak RSS of its runs). The host's other load only ever slows a run down; events, state and outputs
    /// are the same every run.
    static func fastestRuns(_ parts: [JSONObject]) -> [JSONObject] {
        func time(_ p: JSONObject) -> Double { p["kind"] as? String == "engine" ? fig(p, "runSeconds") : fig(p, "seconds") }
        var out: [JSONObject] = []
        var at: [String: Int] = [:]
        for p in parts {
            guard let kind = p["kind"] as? String, kind == "engine" || kind == "cli", let l = p["label"] as? String else {
                out.append(p)
                continue
            }
            if let i = at[kind + " " + l] {
                let runs = Int(fig(out[i], "runs")), rss = max(fig(out[i], "peakRSSBytes"), fig(p, "peakRSSBytes"))
                if time(p) < time(out[i]) { out[i] = p }
                var f = out[i]["figures"] as? JSONObject ?? [:]
                f["runs"] = runs + 1
                if kind == "cli" { f["peakRSSBytes"] = Int(rss) }   // a command line's: the largest of its runs
                out[i]["figures"] = f
            } else {
                at[kind + " " + l] = out.count
                var q = p
                var f = q["figures"] as? JSONObject ?? [:]
                f["runs"] = 1
                q["figures"] = f
                out.append(q)
            }
        }
        return out
    }
    static func fig(_ p: JSONObject, _ k: String) -> Double {
        let f = p["figures"] as? JSONObject
        if let d = f?[k] as? Double { return d }
        if let i = f?[k] as? Int { return Double(i) }
        return 0
    }
    static func size(_ p: JSONObject, _ k: String) -> Any? { (p["sizes"] as? JSONObject)?[k] }
    static func cores(_ p: JSONObject) -> Double { Double(size(p, "cores") as? Int ?? 0) }
    /// The engine run the memory figures are about: the largest MeshGEMV (the issue's full-fabric
    /// run), or the largest run of any kernel when there is none.
    static func memoryRun(_ engine: [JSONObject]) -> JSONObject? {
        let gemv = engine.filter { (size($0, "kernel") as? String)?.hasPrefix("MeshGEMV") ?? false }
        return (gemv.isEmpty ? engine : gemv).max(by: { cores($0) < cores($1) })
    }
    static func side(_ p: JSONObject) -> Double {
        let m = (size(p, "grid") as? String) ?? (size(p, "mesh") as? String) ?? ""
        let d = m.split(separator: "x").compactMap { Double($0) }
        return d.count == 2 ? (d[0] * d[1]).squareRoot() : 0
    }

    /// Power-law exponents of each cost against the grid side (√cores for non-square meshes).
    static func scaling(_ parts: [JSONObject]) -> JSONObject {
        var out: JSONObject = [:]
        let engine = of(parts, "engine")
        for family in ["MeshGEMV", "RingGEMM"] {
            let runs = engine.filter { ($0["sizes"] as? JSONObject)?["kernel"].map { "\($0)".hasPrefix(family) } ?? false }
            guard runs.count >= 3 else { continue }
            var e: JSONObject = ["sides": runs.map(side)]
            for key in ["runSeconds", "linkHopEvents", "events", "engineStateBytes", "peakRSSBytes", "setupSeconds"] {
                e[key] = powerLawExponent(runs.map { (side($0), fig($0, key)) })
            }
            e["secondsPerHopEvent"] = powerLawExponent(runs.map { (side($0), fig($0, "runSeconds") / max(1, fig($0, "linkHopEvents"))) })
            out[family] = e
        }
        let decode = of(parts, "decode")
        if decode.count >= 2 {
            var e: JSONObject = ["sides": decode.map(side)]
            for key in ["meshSecondsPerToken", "timingOnlySecondsPerToken", "ratio", "eventsPerToken"] {
                e[key] = powerLawExponent(decode.map { (side($0), fig($0, key)) })
            }
            out["SmolLM2 decode"] = e
        }
        let long = longRuns(parts)
        if long.count >= 2 {
            out["Long-run peak RSS vs prompt tokens"] = powerLawExponent(long.map { (Double($0.tokens), fig($0.part, "peakRSSBytes")) })
        }
        let exports = of(parts, "export")
        if exports.count >= 2 {
            out["Perfetto export peak RSS vs trace bytes"] = powerLawExponent(exports.map { (fig($0, "traceBytes"), fig($0, "peakRSSBytes")) })
        }
        return out
    }

    /// The `long-run N` command-line parts, by prompt tokens N.
    static func longRuns(_ parts: [JSONObject]) -> [(tokens: Int, part: JSONObject)] {
        of(parts, "cli").compactMap { p -> (tokens: Int, part: JSONObject)? in
            guard let l = p["label"] as? String, l.hasPrefix("long-run "), let n = Int(l.dropFirst(9)) else { return nil }
            return (n, p)
        }.sorted { $0.tokens < $1.tokens }
    }

    static func targets(_ parts: [JSONObject]) -> JSONObject {
        var t: JSONObject = [:]
        let engine = of(parts, "engine")
        if let best = engine.map({ fig($0, "hopEventsPerSecond") }).max() { t["bestHopEventsPerSecond"] = best }
        if let worst = engine.map({ fig($0, "hopEventsPerSecond") }).min() { t["worstHopEventsPerSecond"] = worst }
        t["hopEventsPerSecondTarget"] = 20e6
        if let full = memoryRun(engine) {
            t["fullFabricArrayBytesPerCore"] = fig(full, "arrayBytesPerCore")
            t["fullFabricStateBytesPerCore"] = fig(full, "stateBytesPerCore")
            t["fullFabricPeakRSSBytes"] = fig(full, "peakRSSBytes")
            t["fullFabricSeconds"] = fig(full, "setupSeconds") + fig(full, "runSeconds")
        }
        t["stateBytesPerCoreTarget"] = 64
        if let d = of(parts, "decode").max(by: { side($0) < side($1) }) { t["decodeRatio"] = fig(d, "ratio") }
        t["decodeRatioTarget"] = 3
        if let m = of(parts, "trace").map({ fig($0, "bytesPerMessage") }).max() { t["bytesPerMessage"] = m }
        t["bytesPerMessageTarget"] = 16
        return t
    }

    // MARK: - Markdown

    /// - Parameter loads: every part run (repeated runs included), for the host's load range.
    static func render(_ parts: [JSONObject], exponents: JSONObject, loads all: [JSONObject]) -> String {
        var md: [String] = []
        let c = parts.first?["conditions"] as? JSONObject ?? [:]
        md.append("# WaferScope benchmarks")
        md.append("")
        md.append("Written by `make bench` (scripts/bench.sh → Benchmarks/, the `waferbench` harness). Every figure below")
        md.append("comes from this one run; each row ran in its own process (so its peak memory is its own).")
        md.append("")
        md.append("**Conditions.** Host: \(c["cpu"] ?? "?"), \(c["hostCores"] ?? "?") cores, \(megabytes(c["hostMemoryBytes"] as? Int ?? 0)); \(c["os"] ?? "?").")
        md.append("Build: \(c["build"] ?? "?"); \(c["swift"] ?? "?"); commit \(c["commit"] ?? "?") (plus uncommitted changes if any).")
        let loads = all.compactMap { ($0["conditions"] as? JSONObject)?["loadAverage1m"] as? Double }
        if let lo = loads.min(), let hi = loads.max() {
            md.append("Load average (1 min) when the parts started: \(fmt(lo)) – \(fmt(hi)) (other work on the host slows the figures down).")
        }
        md.append("Sizes are per row. Engine rows are timing-only at `summary` detail on the WSE-2 preset.")
        md.append("")

        let engine = of(parts, "engine")
        if !engine.isEmpty {
            md.append("## 1. Engine throughput (timing-only, one host thread)")
            md.append("")
            md.append("| workload | grid | cores | link-hop events | all events | run s | hop events/s | events/s | set-up s | arrays B/core | all state B/core | peak RSS |")
            md.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            for p in engine {
                let sz = p["sizes"] as? JSONObject ?? [:]
                let shape = sz["rows"].map { "\($0)×\(sz["cols"] ?? "")" } ?? "\(sz["m"] ?? "")³"
                md.append("| \(sz["kernel"] ?? "?") \(shape) | \((sz["grid"] as? String) ?? (sz["mesh"] as? String) ?? "") | \(sz["cores"] ?? "") | \(si(fig(p, "linkHopEvents"))) | \(si(fig(p, "events"))) | \(fmt(fig(p, "runSeconds"), 3)) | **\(si(fig(p, "hopEventsPerSecond")))** | \(si(fig(p, "eventsPerSecond"))) | \(fmt(fig(p, "setupSeconds"), 3)) | \(fmt(fig(p, "arrayBytesPerCore"), 1)) | \(fmt(fig(p, "stateBytesPerCore"), 1)) | \(megabytes(Int(fig(p, "peakRSSBytes")))) |")
            }
            md.append("")
            let runs = Int(engine.map { fig($0, "runs") }.max() ?? 1)
            let once = engine.filter { fig($0, "runs") < 2 }.map { "\(size($0, "kernel") ?? "?") on \(size($0, "mesh") ?? "?")" }
            if runs > 1 {
                md.append("Each row is the fastest of \(runs) runs, the sizes alternated (other load on the host only slows a run down; events and state are the same every run)\(once.isEmpty ? "" : "; " + once.joined(separator: ", ") + " ran once").")
                md.append("")
            }
            md.append("Target: ≥ 20 M link-hop events per second per host core. \"All events\" counts every event the engine popped (hops, deliveries, core steps). \"Arrays\": the per-core and per-link arrays of engine and recorder; \"all state\" adds pools, event queue, routes, SRAM ledger and buffered kernel spans (fixed costs dominate small meshes).")
            md.append("")
        }
        if let full = memoryRun(engine) {
            md.append("## 2. Memory")
            md.append("")
            md.append("Largest \(size(full, "kernel") ?? "?") run (on \(size(full, "mesh") ?? "?"), `summary` detail): the per-core and per-link arrays of engine and recorder take **\(fmt(fig(full, "arrayBytesPerCore"), 1)) B per simulated core** (target ≤ 64); with everything else the engine and recorder hold (pools, queue, routes, ledger, buffered kernel spans) \(fmt(fig(full, "stateBytesPerCore"), 1)) B per core. Peak resident memory of the whole process **\(megabytes(Int(fig(full, "peakRSSBytes"))))** (target < 2 GB); set-up plus run \(fmt(fig(full, "setupSeconds") + fig(full, "runSeconds"), 2)) s (target < 10 s).")
            md.append("")
            let f = full["figures"] as? JSONObject ?? [:]
            let parts = ((f["engineBreakdown"] as? [String: Int]) ?? [:]).map { ("engine: " + $0.key, $0.value) }
                + ((f["recorderBreakdown"] as? [String: Int]) ?? [:]).map { ("recorder: " + $0.key, $0.value) }
            md.append("| part | bytes | per core |")
            md.append("|---|---:|---:|")
            for (k, v) in parts.sorted(by: { ($0.1, $1.0) > ($1.1, $0.0) }) where v > 0 {
                md.append("| \(k) | \(megabytes(v)) | \(fmt(Double(v) / cores(full), 1)) |")
            }
            md.append("")
            // The other kernels on the same (whole) mesh: what holding the wafer costs them.
            for p in engine where cores(p) == cores(full) && size(p, "kernel") as? String != size(full, "kernel") as? String {
                md.append("\(size(p, "kernel") ?? "?") on the same mesh (\(size(p, "grid") ?? size(p, "mesh") ?? "?") of its cores): arrays \(fmt(fig(p, "arrayBytesPerCore"), 1)) B per core, all state \(fmt(fig(p, "stateBytesPerCore"), 1)) B per core, peak resident memory \(megabytes(Int(fig(p, "peakRSSBytes")))); set-up \(fmt(fig(p, "setupSeconds"), 2)) s, run \(fmt(fig(p, "runSeconds"), 1)) s (\(si(fig(p, "events"))) events).")
                md.append("")
            }
        }
        let decode = of(parts, "decode")
        if !decode.isEmpty {
            md.append("## 3. The cost of real numerics (SmolLM2-135M decode)")
            md.append("")
            md.append("| grid | SRAM/core | reference ms/token | mesh s/token (2 threads) | (1 thread) | (1 thread, replays not prefetched) | timing-only s/token | ratio | ratio, 1 thread | every run simulated: s/token, 2 threads / timing-only (ratio) | runs replayed/token | events/token simulated + replayed | bit-identical: 1 vs 2 threads, replayed vs simulated, prefetched or not | max \\|Δlogit\\| vs reference |")
            md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
            for p in decode {
                let sz = p["sizes"] as? JSONObject ?? [:]
                let f = p["figures"] as? JSONObject ?? [:]
                let yes: (String) -> String = { (f[$0] as? Bool) == true ? "yes" : "**NO**" }
                md.append("| \(sz["mesh"] ?? "") | \((sz["sramBytesPerCore"] as? Int ?? 0) / 1024) KB | \(fmt(1000 * fig(p, "referenceSecondsPerToken"), 1)) | \(fmt(fig(p, "meshSecondsPerToken"), 3)) | \(fmt(fig(p, "meshSecondsPerTokenOneThread"), 3)) | \(fmt(fig(p, "meshSecondsPerTokenOneThreadUnprefetched"), 3)) | \(fmt(fig(p, "timingOnlySecondsPerToken"), 3)) | **\(fmt(fig(p, "ratio"), 1))×** | \(fmt(fig(p, "ratioOneThread"), 1))× | \(fmt(fig(p, "meshSecondsPerTokenSimulated"), 3)) / \(fmt(fig(p, "timingOnlySecondsPerTokenSimulated"), 3)) (\(fmt(fig(p, "ratioSimulated"), 1))×) | \(fmt(fig(p, "replayedRunsPerToken"), 1)) | \(si(fig(p, "eventsPerToken"))) + \(si(fig(p, "replayedEventsPerToken"))) | \(yes("logitsBitIdenticalAcrossThreads")), \(yes("replayBitIdenticalToSimulated")), \(yes("unprefetchedBitIdentical")) | \(String(format: "%.2e", fig(p, "maxAbsLogitDifferenceVsReference"))) |")
            }
            md.append("")
            md.append("Ratio = mesh seconds per decode token (numerics on, two host threads) ÷ dense-reference seconds per token, same process and build, each the fastest of the timed tokens (target ≤ 3×). Timing-only is the same steps without arithmetic: the simulation's own share. With two threads the engine thread only simulates: every compute work, payload snapshot, copy and store goes as a 16-byte entry through a ring to the second thread, which replays them in the engine's order (`NumericsPipeline`). A decode layer that starts like an earlier layer of the step (its state equal up to a shift in time) is replayed, not simulated (`MeshEngine.replaysRuns`): its recorded effect is applied shifted and its numerics tape redone on the layer's weights, in two lanes on two threads. \"Every run simulated\" is the same measurement with replays off; \"replayed vs simulated\" compares the logits' bits and every step's end cycle of the two. A replay knows which buffers its next entries touch and prefetches them (`MeshEngine.prefetchesReplays`); \"not prefetched\" is the one-thread run without that.")
            md.append("")
        }
        let traces = of(parts, "trace")
        let exports = of(parts, "export")
        if !traces.isEmpty || !exports.isEmpty {
            md.append("## 4. Traces")
            md.append("")
            if !traces.isEmpty {
                md.append("| trace (full detail) | messages | spans | B/message | B/span | file B/event | file |")
                md.append("|---|---:|---:|---:|---:|---:|---:|")
                for p in traces {
                    md.append("| \(p["label"] ?? "") | \(si(fig(p, "messages"))) | \(si(fig(p, "spans"))) | **\(fmt(fig(p, "bytesPerMessage")))** | \(fmt(fig(p, "bytesPerSpan"))) | \(fmt(fig(p, "fileBytesPerEvent"))) | \(megabytes(Int(fig(p, "fileBytes")))) |")
                }
                md.append("")
                md.append("B/message: message chunks (payload plus 17 B framing per 16 384 records) per message (target ≤ 16 B).")
                md.append("")
            }
            if !exports.isEmpty {
                md.append("| Perfetto export of | trace | JSON | slices + flows | s | peak RSS |")
                md.append("|---|---:|---:|---:|---:|---:|")
                for p in exports {
                    md.append("| \(p["label"] ?? "") | \(megabytes(Int(fig(p, "traceBytes")))) | \(megabytes(Int(fig(p, "jsonBytes")))) | \(si(fig(p, "slices") + fig(p, "flows"))) | \(fmt(fig(p, "exportSeconds"))) | \(megabytes(Int(fig(p, "peakRSSBytes")))) |")
                }
                md.append("")
            }
        }
        let cli = of(parts, "cli")
        let long = longRuns(parts)
        if !long.isEmpty {
            md.append("## Memory of long runs")
            md.append("")
            md.append("`waferscope generate --timing-only --config smollm2-135m --mesh 96x96 --prompt-tokens N --max-tokens 1 --prefill steps --simulate-layers 1`, no trace file (only totals are kept): every prompt token is one more decode step.")
            md.append("")
            md.append("| prompt tokens | s | peak RSS |")
            md.append("|---:|---:|---:|")
            for (n, p) in long { md.append("| \(n) | \(fmt(fig(p, "seconds"))) | \(megabytes(Int(fig(p, "peakRSSBytes")))) |") }
            md.append("")
            if let k = exponents["Long-run peak RSS vs prompt tokens"] as? Double {
                md.append("Peak RSS ∝ tokens^\(fmt(k)) (flat is 0; before the recorder dropped records it did not need, kernel marks per core per step made it grow linearly).")
                md.append("")
            }
        }
        let prefills = cli.filter { ($0["label"] as? String)?.hasPrefix("prefill ") == true }
        func prefill(_ label: String) -> JSONObject? { prefills.first { $0["label"] as? String == label } }
        /// A row of a prefill table: seconds, peak RSS, the speed-up over `slower` (when given), and more cells.
        func prefillRow(_ p: JSONObject, over slower: JSONObject?, _ more: [String] = []) -> String {
            let ratio = slower.map { "\(fmt(fig($0, "seconds") / max(1e-9, fig(p, "seconds")), 1))×" } ?? ""
            return "| " + ([p["label"] as? String ?? "", fmt(fig(p, "seconds")), megabytes(Int(fig(p, "peakRSSBytes"))), ratio] + more)
                .joined(separator: " | ") + " |"
        }
        if let off = prefill("prefill simulated, 6 layers"), let on = prefill("prefill replayed, 6 layers") {
            md.append("## A MeshGEMM prefill with its layers replayed")
            md.append("")
            md.append("`waferscope generate --timing-only --config smollm2-135m --mesh 96x96 --prompt-tokens 96 --max-tokens 1 --prefill meshgemm [--simulate-layers 6]`, with `WAFERSCOPE_REPLAY=0` (every run simulated) and `=1` (the default: a run that starts as one of an earlier layer did is replayed from its record, on the layer's own weights and cache slots). Layers start alike every other layer from layer 2 on, so about 2.7 layers are simulated and the rest replayed; the cycles are the same (the tests compare logits' bits, cycles and trace files).")
            md.append("")
            md.append("| run | s | peak RSS | speed-up |")
            md.append("|---|---:|---:|---:|")
            for p in prefills where !((p["label"] as? String)?.hasPrefix("prefill with numbers") ?? false) {
                md.append(prefillRow(p, over: p["label"] as? String == "prefill replayed, 6 layers" ? off : nil))
            }
            md.append("")
        }
        if let off = prefill("prefill with numbers simulated"), let on = prefill("prefill with numbers replayed") {
            md.append("### With real numbers")
            md.append("")
            md.append("`waferscope generate --mesh 96x96 --prompt <a 40-token sentence> --prefill meshgemm --max-tokens 1` (SmolLM2's weights, all 30 layers, no trace file), `WAFERSCOPE_REPLAY=0` and `=1`. The GEMMs' numerics tapes (950–1,410 entries a core) are too long to keep, so their records keep none: a replay redoes their numerics from the programs' ops, untimed (`NumericsRerun`: each core's ops in order, copies through per-core mailboxes, taken in the recorded order where two routes feed one colour), in two lanes on the two host threads (the mesh's rows split between them), or on one with `WAFERSCOPE_NUMERICS_THREADS=1`; the other runs' tapes are replayed. The whole command: model load, weight placement, prefill and one decode step. Speed-ups are over every run simulated; same output compares each run's stdout with the simulated one's.")
            md.append("")
            md.append("| run | s | peak RSS | speed-up | same output |")
            md.append("|---|---:|---:|---:|---|")
            let same = (off["stdoutHash"] as? String).map { $0 == (on["stdoutHash"] as? String) }.map { $0 ? "yes" : "**no**" } ?? "—"
            md.append(prefillRow(off, over: nil, [""]))
            md.append(prefillRow(on, over: off, [same]))
            if let one = prefill("prefill with numbers replayed, one thread") {
                let sameOne = (off["stdoutHash"] as? String).map { $0 == (one["stdoutHash"] as? String) }.map { $0 ? "yes" : "**no**" } ?? "—"
                md.append(prefillRow(one, over: off, [sameOne]))
                md.append("")
                md.append("Two lanes against one: **\(fmt(fig(one, "seconds") / max(1e-9, fig(on, "seconds")), 2))×** on the whole command.")
            }
            md.append("")
        }
        let sweeps = cli.compactMap { p -> (jobs: Int, part: JSONObject)? in
            guard let l = p["label"] as? String, l.hasPrefix("sweep jobs "), let j = Int(l.dropFirst(11)) else { return nil }
            return (j, p)
        }.sorted { $0.jobs < $1.jobs }
        if let one = sweeps.first, one.jobs == 1, let all = sweeps.last, all.jobs > 1 {
            md.append("## A sweep on every host core")
            md.append("")
            let args = ((one.part["sizes"] as? JSONObject)?["arguments"] as? String) ?? "sweep …"
            md.append("`waferscope \(args)`, then the same with `--jobs \(all.jobs)`: a sweep's runs are independent, so `--jobs N` runs N at once, each on its own thread (biggest grids first). Same CSV, byte for byte (bench.sh compares them).")
            md.append("")
            md.append("| jobs | s | peak RSS | speed-up |")
            md.append("|---:|---:|---:|---:|")
            for (j, p) in sweeps {
                md.append("| \(j) | \(fmt(fig(p, "seconds"))) | \(megabytes(Int(fig(p, "peakRSSBytes")))) | \(fmt(fig(one.part, "seconds") / max(1e-9, fig(p, "seconds")), 2))× |")
            }
            md.append("")
            md.append("The speed-up is bounded by the longest run (Cannon on the biggest grid), which no second thread shortens.")
            md.append("")
        }
        func name(_ p: JSONObject) -> String { String(((p["label"] as? String) ?? "").drop { $0 != " " }.dropFirst()) }
        let base = cli.filter { ($0["label"] as? String)?.hasPrefix("baseline ") == true }
        let now = cli.filter { ($0["label"] as? String)?.hasPrefix("current ") == true }
        if !base.isEmpty {
            md.append("## Before and after (`waferscope` command lines, `BASELINE_BIN` against this build)")
            md.append("")
            md.append("| run | baseline s | this build s | speed-up | baseline peak RSS | this build peak RSS |")
            md.append("|---|---:|---:|---:|---:|---:|")
            for b in base {
                guard let c = now.first(where: { name($0) == name(b) }) else { continue }
                md.append("| \(name(b)) | \(fmt(fig(b, "seconds"))) | \(fmt(fig(c, "seconds"))) | \(fmt(fig(b, "seconds") / max(1e-9, fig(c, "seconds")), 1))× | \(megabytes(Int(fig(b, "peakRSSBytes")))) | \(megabytes(Int(fig(c, "peakRSSBytes")))) |")
            }
            func perToken(_ list: [JSONObject], _ kind: String) -> Double? {
                guard let one = list.first(where: { name($0) == "generate 96x96 \(kind), 1 token(s)" }),
                      let three = list.first(where: { name($0) == "generate 96x96 \(kind), 3 token(s)" }) else { return nil }
                return (fig(three, "seconds") - fig(one, "seconds")) / 2
            }
            for kind in ["timing-only", "timing-only, kernel trace", "SmolLM2", "timing, no trace file", "numerics, no trace file"] {
                if let b = perToken(base, kind), let c = perToken(now, kind) {
                    md.append("| generate 96x96 \(kind): seconds per decode token (3 tokens − 1 token, ÷ 2) | \(fmt(b)) | \(fmt(c)) | \(fmt(b / max(1e-9, c), 1))× | | |")
                }
            }
            md.append("")
            let runs = Int(base.map { fig($0, "runs") }.min() ?? 1)
            md.append("Wall time of whole command-line runs (process start, set-up and trace writing included), \(runs == 1 ? "one run each" : "the fastest of \(runs) runs each"), baseline and this build alternated. The per-token rows are differences of two such times, so they carry the noise of both.")
            md.append("")
        }
        if !exponents.isEmpty {
            md.append("## 5. Growth with the grid side")
            md.append("")
            md.append("Least-squares exponent k of cost ∝ side^k over the sizes measured above.")
            md.append("")
            md.append("| family | sides | exponents |")
            md.append("|---|---|---|")
            for (name, v) in exponents.sorted(by: { $0.key < $1.key }) {
                if let e = v as? JSONObject {
                    let sides = (e["sides"] as? [Double] ?? []).map { fmt($0, 0) }.joined(separator: ", ")
                    let ks = e.filter { $0.key != "sides" }.sorted { $0.key < $1.key }.map { "\($0.key) \(fmt(($0.value as? Double) ?? .nan))" }.joined(separator: "; ")
                    md.append("| \(name) | \(sides) | \(ks) |")
                } else if let d = v as? Double {
                    md.append("| \(name) | \(name.contains("tokens") ? "prompt tokens above" : "trace sizes") | \(fmt(d)) |")
                }
            }
            md.append("")
        }
        return md.joined(separator: "\n")
    }
}
