import Foundation
import WaferKernels
import WaferLLM
import WaferMesh
import WaferModel
import WaferSpec
import WaferTrace

/// `waferbench decode`: the cost of real numerics — SmolLM2 decode tokens on the mesh against the
/// dense reference, in this process and build.
///
/// For one square grid: the dense reference's seconds per token; the mesh's seconds per decode
/// token with numerics on one host thread and on two (their logits must be bit-identical); and
/// the same steps timing-only (the simulation without arithmetic). Every run feeds the same
/// prompt, then the same decode tokens (the reference's greedy choices); each figure is the
/// fastest of the timed tokens (the reference's too).
enum DecodeBench {
    static func run(_ o: Options) throws -> JSONObject {
        let side = try o.int("side")
        let sram = try o.int("sram", 0)
        let decodeTokens = try o.int("decode-tokens", 2)
        let modelPath = try o.string("model", ModelLocations.smolLM2RelativePath)
        let (loaded, loadSeconds) = try timed { () throws -> (ModelConfig, ModelWeights, [Int]) in
            let file = try GGUFFile(path: modelPath)
            let cfg = try ModelConfig(gguf: file)
            let weights = try ModelWeights(gguf: file, config: cfg)
            let tok = try BPETokenizer(gguf: file)
            return (cfg, weights, tok.encode(try o.string("prompt", "Hi there")))
        }
        let (cfg, weights, prompt) = loaded
        var spec = try MeshSpec.wse2.subgrid(width: side, height: side)
        if sram > 0 { spec.sramBytesPerCore = sram }

        // The dense reference, then the same token sequence for every mesh run.
        var reference = ReferenceModel(weights: weights)
        var logits: [Float] = []
        for (p, t) in prompt.enumerated() { logits = reference.forward(token: t, position: p) }
        var tokens: [Int] = []
        var refSeconds: [Double] = []
        var refCPU: [Double] = []
        var refLogits: [[Float]] = []
        for i in 0..<decodeTokens {
            let next = ReferenceModel.argmax(logits) ?? 0
            tokens.append(next)
            let cpu0 = Usage.now().cpuSeconds
            let (l, s) = timed { reference.forward(token: next, position: prompt.count + i) }
            refCPU.append(Usage.now().cpuSeconds - cpu0)
            logits = l
            refSeconds.append(s)
            refLogits.append(l)
        }
        let refPerToken = refSeconds.min() ?? 0
        let refCPUPerToken = refCPU.min() ?? 0

        // `--only 1|2|timing`: one mesh run and nothing else (for profiling the decode steps).
        let only = try o.string("only", "")
        if !only.isEmpty {
            let threads = only == "2" ? 2 : 1
            let run = try mesh(spec: spec, cfg: cfg, weights: only == "timing" ? nil : weights, prompt: prompt,
                               tokens: tokens, threads: threads, replay: try o.int("replay", 1) != 0,
                               prefetch: try o.int("prefetch", 1) != 0)
            let f: JSONObject = ["referenceSecondsPerToken": refPerToken, "meshSecondsPerToken": run.perToken,
                                 "ratio": run.perToken / refPerToken, "setupSeconds": run.setupSeconds,
                                 "referenceCPUSecondsPerToken": refCPUPerToken, "meshCPUSecondsPerToken": run.cpuPerToken,
                                 "cpuRatio": run.cpuPerToken / refCPUPerToken]
            print("numerics thread: works/token \(run.worksPerToken), entries/token \(run.entriesPerToken), ring stalls/token \(run.stallsPerToken)")
            print("events/token: simulated \(run.eventsPerToken), replayed \(run.replayedEventsPerToken); runs replayed/token \(run.replayedRunsPerToken)")
            print("CPU s/token: mesh \(run.cpuPerToken), reference \(refCPUPerToken), ratio \(run.cpuPerToken / refCPUPerToken)")
            // `--dump FILE`: the logits' bit patterns, every step's end cycle and the event counts, one
            // per line (to check that a change leaves results and timings alone).
            let dump = try o.string("dump", "")
            if !dump.isEmpty {
                var lines = run.logits.flatMap { $0.map { String($0.bitPattern, radix: 16) } }
                lines += run.stepEnds.map { "end \($0)" }
                // Simulated and replayed together: a replay stands for exactly the events it skips.
                lines.append("events \(run.eventsPerToken + run.replayedEventsPerToken) hops \(run.hopsPerToken + run.replayedHopsPerToken)")
                try lines.joined(separator: "\n").write(toFile: dump, atomically: true, encoding: .utf8)
            }
            return ["kind": "decode", "label": "SmolLM2 decode \(side)x\(side), only \(only)", "sizes": [:] as JSONObject,
                    "figures": f]
        }

        let one = try mesh(spec: spec, cfg: cfg, weights: weights, prompt: prompt, tokens: tokens, threads: 1)
        // The same without prefetching ahead of replayed numerics: what the prefetch buys.
        let oneUnprefetched = try mesh(spec: spec, cfg: cfg, weights: weights, prompt: prompt, tokens: tokens, threads: 1, prefetch: false)
        let two = try mesh(spec: spec, cfg: cfg, weights: weights, prompt: prompt, tokens: tokens, threads: 2)
        let timing = try mesh(spec: spec, cfg: cfg, weights: nil, prompt: prompt, tokens: tokens, threads: 1)
        // Every run simulated (no replays), as before run replay: what the replays buy.
        let twoSimulated = try mesh(spec: spec, cfg: cfg, weights: weights, prompt: prompt, tokens: tokens, threads: 2, replay: false)
        let timingSimulated = try mesh(spec: spec, cfg: cfg, weights: nil, prompt: prompt, tokens: tokens, threads: 1, replay: false)
        let sameAsSimulated = two.logits.count == twoSimulated.logits.count && two.stepEnds == twoSimulated.stepEnds
            && zip(two.logits, twoSimulated.logits).allSatisfy { a, b in a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern } }
        let identical = two.logits.count == one.logits.count
            && zip(two.logits, one.logits).allSatisfy { a, b in a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern } }
        let sameUnprefetched = oneUnprefetched.stepEnds == one.stepEnds && oneUnprefetched.logits.count == one.logits.count
            && zip(oneUnprefetched.logits, one.logits).allSatisfy { a, b in a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern } }
        var worst: Float = 0
        for (m, r) in zip(two.logits, refLogits) { for (a, b) in zip(m, r) { worst = max(worst, abs(a - b)) } }

        let sizes: JSONObject = [
            "mesh": "\(side)x\(side)", "sramBytesPerCore": spec.sramBytesPerCore, "model": cfg.name,
            "promptTokens": prompt.count, "decodeTokensTimed": decodeTokens, "detail": "summary",
        ]
        let figures: JSONObject = [
            "referenceSecondsPerToken": refPerToken,
            "meshSecondsPerToken": two.perToken, "meshSecondsPerTokenOneThread": one.perToken,
            "meshSecondsPerTokenOneThreadUnprefetched": oneUnprefetched.perToken,
            "unprefetchedBitIdentical": sameUnprefetched,
            "timingOnlySecondsPerToken": timing.perToken,
            "meshSecondsPerTokenSimulated": twoSimulated.perToken, "timingOnlySecondsPerTokenSimulated": timingSimulated.perToken,
            "ratioSimulated": twoSimulated.perToken / refPerToken,
            "replayedRunsPerToken": two.replayedRunsPerToken, "replayedEventsPerToken": two.replayedEventsPerToken,
            "replayBitIdenticalToSimulated": sameAsSimulated,
            "ratio": two.perToken / refPerToken, "ratioOneThread": one.perToken / refPerToken,
            "timingOnlyRatio": timing.perToken / refPerToken,
            "numericsShare": max(0, one.perToken - timing.perToken) / one.perToken,
            // CPU seconds (user + system) per token: on a busy host these compare the one-thread
            // runs more fairly than wall time.
            "referenceCPUSecondsPerToken": refCPUPerToken, "meshCPUSecondsPerTokenOneThread": one.cpuPerToken,
            "timingOnlyCPUSecondsPerToken": timing.cpuPerToken,
            "cpuRatioOneThread": one.cpuPerToken / refCPUPerToken, "timingOnlyCPURatio": timing.cpuPerToken / refCPUPerToken,
            "logitsBitIdenticalAcrossThreads": identical,
            "maxAbsLogitDifferenceVsReference": Double(worst),
            "tokensAgreeWithReference": two.tokens == tokens,
            "eventsPerToken": two.eventsPerToken, "hopEventsPerToken": two.hopsPerToken,
            "computeWorksPerToken": two.worksPerToken, "numericsEntriesPerToken": two.entriesPerToken,
            "numericsRingStallsPerToken": two.stallsPerToken,
            "setupSeconds": two.setupSeconds, "modelLoadSeconds": loadSeconds,
            "peakRSSBytes": Usage.now().peakRSS,
        ]
        return ["kind": "decode", "label": "SmolLM2 decode \(side)x\(side)", "sizes": sizes, "figures": figures]
    }

    struct MeshRun {
        var perToken: Double
        var logits: [[Float]]
        var tokens: [Int]
        var eventsPerToken: Double
        var hopsPerToken: Double
        var worksPerToken: Double
        var setupSeconds: Double
        var stepEnds: [Int64] = []
        var cpuPerToken: Double = 0
        /// Entries the numerics thread replayed, and times the engine waited for room in its ring.
        var entriesPerToken: Double = 0
        var stallsPerToken: Double = 0
        /// Runs replayed instead of simulated (`MeshEngine.replaysRuns`), and the events they stood for.
        var replayedRunsPerToken: Double = 0
        var replayedEventsPerToken: Double = 0
        var replayedHopsPerToken: Double = 0
    }

    /// Prefills `prompt`, then times one step per token of `tokens` (teacher-forced, so every run
    /// does the same steps); returns seconds per decode token and the logits of each.
    static func mesh(spec: MeshSpec, cfg: ModelConfig, weights: ModelWeights?, prompt: [Int], tokens: [Int],
                     threads: Int, replay: Bool = true, prefetch: Bool = true) throws -> MeshRun {
        // Recorded as `waferscope generate` without `--trace` does: totals only, no records kept.
        let rec = try TraceRecorder(spec: spec, detail: .summary, keepsRecords: false)
        let engine = try MeshEngine(spec: spec, recorder: rec, payloadSlots: weights == nil ? nil : 16 + 8 * cfg.layerCount + 2,
                                    policy: .record)
        engine.numericsThreads = threads
        engine.replaysRuns = replay
        engine.prefetchesReplays = prefetch
        let (decoder, setup) = try timed {
            try MeshDecoder(engine: engine, config: cfg, weights: weights, grid: try KernelGrid(geometry: engine.geometry))
        }
        var logits: [Float]?
        for t in prompt { logits = try decoder.step(token: t, phase: "prefill") }
        let before = engine.stats
        var all: [[Float]] = []
        var chosen: [Int] = []
        var seconds: [Double] = []
        var cpu: [Double] = []
        for t in tokens {
            if let l = logits { chosen.append(ReferenceModel.argmax(l) ?? -1) }
            let cpu0 = Usage.now().cpuSeconds
            let (l, s) = try timed { try decoder.step(token: t, phase: "decode") }
            cpu.append(Usage.now().cpuSeconds - cpu0)
            seconds.append(s)
            logits = l
            if let l { all.append(l) }
        }
        let after = engine.stats
        engine.finishRecording()
        try rec.finish()
        let n = Double(tokens.count)
        let works = Double(after.numericsWorks - before.numericsWorks)
        // The fastest step: the host is shared, and the first steps also pay for memory the
        // process has not touched yet.
        return MeshRun(perToken: seconds.min() ?? 0, logits: all, tokens: chosen,
                       eventsPerToken: Double(after.events - before.events) / n,
                       hopsPerToken: Double(after.hopEvents - before.hopEvents) / n,
                       worksPerToken: works / n,
                       setupSeconds: setup, stepEnds: decoder.stepEnds, cpuPerToken: cpu.min() ?? 0,
                       entriesPerToken: Double(after.numericsEntries - before.numericsEntries) / n,
                       stallsPerToken: Double(after.numericsStalls - before.numericsStalls) / n,
                       replayedRunsPerToken: Double(after.replayedRuns - before.replayedRuns) / n,
                       replayedEventsPerToken: Double(after.replayedEvents - before.replayedEvents) / n,
                       replayedHopsPerToken: Double(after.replayedHopEvents - before.replayedHopEvents) / n)
    }
}
