import XCTest
@testable import WaferLLM
import WaferKernels
@testable import WaferMesh
import WaferModel
import WaferSpec
import WaferTrace

final class MeshPrefillTests: XCTestCase {
    /// The reference's logits after feeding `prompt` one token at a time.
    private func referenceLogits(_ weights: ModelWeights, _ prompt: [Int]) -> (ReferenceModel, [Float]) {
        var reference = ReferenceModel(weights: weights)
        var logits: [Float] = []
        for (p, t) in prompt.enumerated() { logits = reference.forward(token: t, position: p) }
        return (reference, logits)
    }

    func testMeshGEMMPrefillMatchesTheReferenceAndDecodeContinuesFromItsCache() throws {
        let weights = try ModelWeights.random(config: tinyConfig, seed: 5)
        // Prompts shorter than, equal to and longer than the grid's rows (rows with 0, 1 and 3 tokens).
        for (side, prompt) in [(4, [3, 17, 42]), (4, [3, 17, 42, 8, 9, 11, 2, 40, 33, 1]), (3, [5, 6, 7]), (1, [9, 8, 7, 6]), (5, [1, 2])] {
            var (reference, expected) = referenceLogits(weights, prompt)
            let (decoder, _) = try makeDecoder(decoderSpec(side, side), config: tinyConfig, weights: weights, policy: .shift)
            XCTAssertNil(decoder.meshGEMMPrefillProblem)
            let got = try XCTUnwrap(try decoder.prefill(prompt: prompt))
            let err = zip(got, expected).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(err, 1e-4, "prefill logits, side \(side), \(prompt.count) tokens")
            XCTAssertEqual(decoder.position, prompt.count)
            // Decode reads the K/V the prefill left: the next steps still match.
            for (k, token) in [4, 44].enumerated() {
                let want = reference.forward(token: token, position: prompt.count + k)
                let step = try XCTUnwrap(try decoder.step(token: token, phase: "decode"))
                XCTAssertLessThan(zip(step, want).map { abs($0 - $1) }.max()!, 1e-4, "decode after prefill, side \(side)")
            }
            expected = []
        }
    }

    func testPrefillRunsMeshGEMMAndGEMMTAndIsFasterThanTokenSteps() throws {
        let prompt = Array(1...12)
        let (gemm, gemmRec) = try makeDecoder(decoderSpec(4, 4), config: tinyConfig, weights: nil, policy: .shift, detail: .kernel)
        _ = try gemm.generate(prompt: prompt, maxTokens: 1, eos: nil, prefill: .meshgemm)
        let (steps, stepsRec) = try makeDecoder(decoderSpec(4, 4), config: tinyConfig, weights: nil, policy: .shift, detail: .kernel)
        _ = try steps.generate(prompt: prompt, maxTokens: 1, eos: nil, prefill: .steps)
        gemm.engine.finishRecording(); steps.engine.finishRecording()
        let g = try gemmRec.finish(), s = try stepsRec.finish()
        let algorithms = Set(g.kernels.filter { $0.params["phase"] == "prefill" }.compactMap { $0.params["algorithm"] })
        XCTAssertTrue(algorithms.isSuperset(of: ["meshgemm-resident", "gemmt-resident"]), "\(algorithms)")
        XCTAssertEqual(Set(g.kernels.filter { $0.params["algorithm"] == "meshgemm-resident" }.compactMap { $0.params["op"] }),
                       ["qkv", "p·v", "gate|up"])
        XCTAssertEqual(Set(g.kernels.filter { $0.params["algorithm"] == "gemmt-resident" }.compactMap { $0.params["op"] }),
                       ["q·kᵀ", "o", "down"])
        XCTAssertFalse(s.kernels.contains { $0.params["algorithm"] == "meshgemm-resident" })
        XCTAssertEqual(g.summary.maxHops, 3, "ring steps ≤ 2 hops; only the norm and last-token multicasts go farther")
        XCTAssertLessThan(gemm.stepEnds[0], steps.stepEnds[prompt.count - 1], "12 tokens at once beat 12 decode steps")
    }

    func testTimingOnlyPrefillTakesTheSameCycles() throws {
        let weights = try ModelWeights.random(config: tinyConfig, seed: 9)
        var ends: [[Int64]] = []
        for w in [weights, nil] {
            let (d, _) = try makeDecoder(decoderSpec(3, 3), config: tinyConfig, weights: w, policy: .shift)
            _ = try d.generate(prompt: [1, 2, 3, 4, 5], maxTokens: 2, eos: nil, prefill: .meshgemm)
            ends.append(d.stepEnds)
        }
        XCTAssertEqual(ends[0], ends[1])
    }

    /// A MeshGEMM prefill replays the runs of a layer that starts as an earlier layer's did, on
    /// the layer's own weights and cache slots (its resident GEMMs allocate and free their spare
    /// buffers in the run): the logits' bits, the cycles, the cores' peak SRAM and the trace's
    /// kernel spans are those of simulating every run, timing-only and with numbers on one host
    /// thread or two, and decode goes on from the same cache.
    func testPrefillReplaysLayersWithTheBitsAndCyclesOfSimulatingThem() throws {
        let config = ModelConfig(name: "tiny6", embeddingLength: 32, layerCount: 6, headCount: 4, kvHeadCount: 2,
                                 headDim: 8, feedForwardLength: 48, vocabularySize: 50, contextLength: 64)
        let weights = try ModelWeights.random(config: config, seed: 11)
        struct Outcome: Equatable {
            var logits: [[UInt32]]
            var ends: [Int64]
            var summary: RunSummary
            var cores: CoreTotals
            var links: LinkTotals
            var kernels: [KernelMark]
            var spans: [Span]
        }
        func run(_ w: ModelWeights?, replays: Bool, threads: Int, detail: TraceDetail = .kernel, tapeLimit: Int? = nil) throws -> (Outcome, Int, Int, Int) {
            let (d, rec) = try makeDecoder(decoderSpec(4, 4), config: config, weights: w, policy: .shift, detail: detail)
            d.engine.replaysRuns = replays
            d.engine.numericsThreads = threads
            if let tapeLimit { d.engine.entriesPerCoreLimit = tapeLimit }
            var logits: [[UInt32]] = []
            if let l = try d.prefill(prompt: [3, 17, 42, 8, 9, 11, 2]) { logits.append(l.map(\.bitPattern)) }
            if let l = try d.step(token: 4, phase: "decode") { logits.append(l.map(\.bitPattern)) }
            let replayed = Int(d.engine.stats.replayedRuns), reruns = d.engine.stats.rerunNumerics
            let twoLaneReruns = d.engine.stats.rerunNumericsOnTwoThreads
            d.engine.finishRecording()
            let t = try rec.finish()
            return (Outcome(logits: logits, ends: d.stepEnds, summary: t.summary, cores: t.coreTotals, links: t.linkTotals,
                            kernels: t.kernels, spans: t.spans), replayed, reruns, twoLaneReruns)
        }
        for (w, threads) in [(nil, 1), (weights, 1), (weights, 2)] as [(ModelWeights?, Int)] {
            let what = "numerics \(w != nil), \(threads) thread(s)"
            let (simulated, none, _, _) = try run(w, replays: false, threads: threads)
            let (replayed, count, reruns, _) = try run(w, replays: true, threads: threads)
            XCTAssertEqual(reruns, 0, what)
            XCTAssertEqual(none, 0)
            // Layers 2–5 start as layers 0 and 1 did: 12 runs a layer.
            XCTAssertGreaterThanOrEqual(count, 12 * 4, what)
            XCTAssertEqual(replayed.logits.count, w == nil ? 0 : 2, what)
            XCTAssertEqual(replayed, simulated, what)
            XCTAssertGreaterThan(simulated.cores.peakSramBytes.max() ?? 0, 0)
        }
        // Numerics tapes too long to keep (as the GEMMs' are on a big grid): the layers' runs are
        // replayed with their numerics rerun from the programs' ops (MeshGEMMs and GEMM-Ts, whose
        // ReduceAdd roots move step by step), bit for bit; on two threads in two lanes.
        for threads in [1, 2] {
            let what = "numerics rerun, \(threads) thread(s)"
            let (simulated, _, _, _) = try run(weights, replays: false, threads: threads, detail: .summary)
            let (replayed, count, reruns, twoLanes) = try run(weights, replays: true, threads: threads, detail: .summary, tapeLimit: 0)
            XCTAssertGreaterThanOrEqual(count, 12 * 4, what)
            XCTAssertGreaterThanOrEqual(reruns, 12 * 4, what)
            XCTAssertEqual(twoLanes, threads == 2 ? reruns : 0, what)
            XCTAssertEqual(replayed.logits.count, 2, what)
            XCTAssertEqual(replayed, simulated, what)
        }
    }

    func testPlacementsThatCannotPrefillWithMeshGEMMSayWhy() throws {
        let (concat, _) = try makeDecoder(decoderSpec(3, 3), config: tinyConfig, weights: nil, policy: .concat)
        XCTAssertEqual(concat.meshGEMMPrefillProblem, "the KV cache policy is concat")
        XCTAssertThrowsError(try concat.prefill(prompt: [1, 2]))
        let (wide, _) = try makeDecoder(decoderSpec(4, 3), config: tinyConfig, weights: nil, policy: .shift)
        XCTAssertEqual(wide.meshGEMMPrefillProblem, "the grid 4x3 is not square")
        // .auto falls back to token steps.
        XCTAssertNoThrow(try wide.generate(prompt: [1, 2], maxTokens: 1, eos: nil))
        XCTAssertEqual(wide.prefillUsed, .steps)
        let (square, _) = try makeDecoder(decoderSpec(3, 3), config: tinyConfig, weights: nil, policy: .shift)
        // .auto picks MeshGEMM from a third of the rows' worth of tokens (about where it gets faster).
        let (six, _) = try makeDecoder(decoderSpec(6, 6), config: tinyConfig, weights: nil, policy: .shift)
        XCTAssertEqual(six.resolvedPrefill(.auto, promptTokens: 1), .steps)
        XCTAssertEqual(six.resolvedPrefill(.auto, promptTokens: 2), .meshgemm)
        XCTAssertEqual(square.resolvedPrefill(.steps, promptTokens: 9), .steps)
        XCTAssertEqual(wide.resolvedPrefill(.auto, promptTokens: 9), .steps)
        try square.prefill(prompt: [1, 2])
        XCTAssertEqual(square.meshGEMMPrefillProblem, "the cache already holds 2 tokens")
    }
}
