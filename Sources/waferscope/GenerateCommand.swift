import ArgumentParser
import Foundation
import WaferKernels
import WaferLLM
import WaferMesh
import WaferModel
import WaferSpec
import WaferTrace

extension KVPolicy: ExpressibleByArgument {}
extension PrefillMode: ExpressibleByArgument {}

/// `waferscope generate`: real LLM inference on the simulated mesh.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text with a GGUF LLaMA model running on the simulated mesh (greedy), and report its simulated speed.",
        discussion: """
        Every layer's weights live on the decode grid (--mesh); each generated token runs one program \
        per layer (K-tree GEMVs along alternating axes, distributed attention over the KV cache) and \
        the LM head. The prompt runs all at once with MeshGEMM (activations tokens-along-Y, \
        embedding-along-X; QKV, P·V and gate|up as MeshGEMMs, Q·Kᵀ, O and down as GEMM-Ts against the \
        resident tiles) when the grid is square, holds every layer, the KV policy is shift and the \
        prompt has at least a third as many tokens as the grid has rows (--prefill meshgemm forces it); \
        otherwise, or with --prefill steps, through the per-token programs. --timing-only runs a \
        model shape without weights (--config smollm2-135m, llama3-8b, llama2-13b); with \
        --simulate-layers N only the first N layers run and the times are projected to all.
        """
    )

    @OptionGroup var meshOptions: MeshOptions

    @Option(help: ArgumentHelp("GGUF model file.", valueName: "path"))
    var model: String = ModelLocations.smolLM2RelativePath

    @Option(help: "The prompt text.")
    var prompt: String = "What is the capital of France?"

    @Flag(help: "Wrap the prompt in the ChatML chat template.")
    var chat = false

    @Option(help: "Tokens to generate at most.")
    var maxTokens: Int = 16

    @Option(help: "KV cache placement: shift (spread over all rows) or concat (append on the last row).")
    var policy: KVPolicy = .shift

    @Option(help: "How the prompt runs: auto (meshgemm when the placement allows it and the prompt has at least a third as many tokens as the grid has rows, about where it gets faster than token steps), meshgemm, or steps (one decode step per token).")
    var prefill: PrefillMode = .auto

    @Option(help: "K-tree groups per reduce line (default ≈ √side).")
    var groups: Int?

    @Option(help: ArgumentHelp("Place the layers on pipeline stages of WxH cores (side by side, then in further bands below; as many as the weights need) instead of one grid filling the mesh.", valueName: "WxH"))
    var stage: String?

    @Option(help: ArgumentHelp("Write the run's trace here.", valueName: "trace.wtrace"))
    var trace: String?

    @Option(help: "Trace detail: full, kernel or summary.")
    var detail: TraceDetail = .kernel

    @Option(help: ArgumentHelp("Record spans and messages only in this region (full and kernel detail).", valueName: "x0,y0,x1,y1"))
    var region: String?

    @Flag(help: "Record PLMR violations and run on instead of stopping.")
    var recordViolations = false

    @Flag(help: "Sizes only: run a model shape without weights (needs --config).")
    var timingOnly = false

    @Option(help: "Model shape for --timing-only: smollm2-135m, llama3-8b, llama2-13b.")
    var config: String?

    @Option(help: "Prompt length for --timing-only.")
    var promptTokens: Int = 16

    @Option(help: ArgumentHelp("With --timing-only: simulate only the first N layers (all are placed in SRAM) and project the times to the whole model from their measured cycles (layers share shapes and programs).", valueName: "N"))
    var simulateLayers: Int?

    @Flag(help: "Print one JSON object at the end instead of text.")
    var json = false

    func run() throws {
        guard maxTokens > 0 else { throw CLIError("--max-tokens must be positive, got \(maxTokens)") }
        if let groups, groups <= 0 { throw CLIError("--groups must be positive, got \(groups)") }
        let spec = try meshOptions.resolve()
        var cfg: ModelConfig
        var weights: ModelWeights?
        var tokenizer: BPETokenizer?
        var promptIDs: [Int]
        if timingOnly {
            guard let name = config else { throw CLIError("--timing-only needs --config (smollm2-135m, llama3-8b, llama2-13b)") }
            guard let c = ModelConfig.named(name) else { throw CLIError("unknown --config '\(name)' (known: smollm2-135m, llama3-8b, llama2-13b)") }
            guard promptTokens > 0 else { throw CLIError("--prompt-tokens must be positive") }
            cfg = c
            promptIDs = Array(repeating: 1, count: promptTokens)
        } else {
            guard FileManager.default.fileExists(atPath: model) else {
                throw CLIError("model file '\(model)' not found (run `make model`, or pass --model PATH)")
            }
            let file = try GGUFFile(path: model)
            cfg = try ModelConfig(gguf: file)
            weights = try ModelWeights(gguf: file, config: cfg)
            let tok = try BPETokenizer(gguf: file)
            tokenizer = tok
            promptIDs = tok.encode(chat ? ChatTemplate.userPrompt(prompt) : prompt)
            guard !promptIDs.isEmpty else { throw CLIError("the prompt encodes to no tokens") }
        }
        if let n = simulateLayers {
            guard timingOnly else { throw CLIError("--simulate-layers needs --timing-only (skipping layers changes the numbers)") }
            guard n >= 1, n <= cfg.layerCount else { throw CLIError("--simulate-layers must be in 1...\(cfg.layerCount), got \(n)") }
        }
        let rec = try TraceRecorder(spec: spec, detail: detail, path: trace, metadata: [
            "command": commandLine(), "workload": "generate", "model": cfg.name, "policy": policy.rawValue,
            "numerics": timingOnly ? "timing-only" : "float32",
        ], keepsRecords: trace != nil)   // without a trace file only totals are read
        if let region { rec.region = try CoreRegion.parse(region, in: MeshGeometry(spec)) }
        let engine = try MeshEngine(spec: spec, recorder: rec,
                                    payloadSlots: timingOnly ? nil : MeshDecoder.payloadSlots(layers: cfg.layerCount),
                                    policy: recordViolations ? .record : .abort)
        var generated: [Int] = []
        let decoder: MeshDecoder
        do {
            if let stage {
                let (w, h) = try MeshSpec.parseMesh(stage)
                let plan = try StagePlanner.plan(config: cfg, spec: spec, stageWidth: w, stageHeight: h)
                decoder = try MeshDecoder(engine: engine, config: cfg, weights: weights, stageGrids: plan.grids,
                                          layers: plan.layers, policy: policy, groups: groups)
            } else {
                decoder = try MeshDecoder(engine: engine, config: cfg, weights: weights,
                                          grid: try KernelGrid(geometry: engine.geometry), policy: policy, groups: groups)
            }
            if !json && decoder.placement.count > 1 {
                for (g, layers) in decoder.placement {
                    print("stage: layers \(layers.lowerBound)–\(layers.upperBound - 1) on \(g.cols)x\(g.rows) cores at (\(g.x0),\(g.y0))")
                }
            }
            let eos = tokenizer?.eosTokenID
            decoder.simulatedLayers = simulateLayers
            if prefill == .meshgemm, let problem = decoder.meshGEMMPrefillProblem {
                throw CLIError("--prefill meshgemm is not possible here: \(problem) (use --prefill steps or auto)")
            }
            generated = try decoder.generate(prompt: promptIDs, maxTokens: maxTokens, eos: eos, prefill: prefill) { id in
                if !json, let tokenizer {
                    // Through print's buffer (flushed per token), so it stays in order with the other lines.
                    print(tokenizer.decode([id]), terminator: "")
                    fflush(nil)   // all C streams: print writes through stdout
                }
            }
        } catch let e as MeshError {
            if case .violation = e { throw CLIError("\(e) (the model does not fit: try a larger --mesh, --stage WxH over a wider mesh, or --record-violations)") }
            throw e
        }
        if !json && tokenizer != nil { print("") }
        engine.finishRecording()
        let measuredPrefill = decoder.prefillEndCycle
        let decodeEnds = decoder.decodeStepEnds
        let decodeSteps = decodeEnds.count
        let measuredDecode = decodeSteps > 0 ? Double(decodeEnds.last! - measuredPrefill) / Double(decodeSteps) : 0
        // Projection to every layer: the skipped layers cost what the simulated ones measured.
        let (prefillCycles, decodePerToken) = decoder.projectedCycles
        let text = tokenizer?.decode(generated) ?? ""
        rec.metadata["prefillCycles"] = "\(prefillCycles)"
        rec.metadata["decodeCyclesPerToken"] = "\(decodePerToken)"
        rec.metadata["simulatedLayers"] = "\(simulateLayers ?? cfg.layerCount)"
        rec.metadata["cyclesProjected"] = "\(simulateLayers.map { $0 < cfg.layerCount } ?? false)"
        rec.metadata["prefill"] = decoder.prefillUsed?.rawValue ?? ""
        rec.metadata["tokens"] = generated.map(String.init).joined(separator: ",")
        let t = try rec.finish()
        let prefillSeconds = spec.seconds(cycles: Int(prefillCycles))
        let tpot = decodePerToken / spec.clockHz
        let fields: [String: Any] = [
            "tokens": generated, "text": text, "promptTokens": promptIDs.count, "prefillCycles": prefillCycles,
            "decodeCyclesPerToken": decodePerToken, "tprDecode": tpot > 0 ? 1 / tpot : 0,
            "tprPrefill": Double(promptIDs.count) / prefillSeconds, "timeToFirstTokenSeconds": prefillSeconds,
            "timePerOutputTokenSeconds": tpot, "mesh": "\(spec.width)x\(spec.height)", "policy": policy.rawValue,
            "model": cfg.name, "makespanCycles": t.summary.makespanCycles, "peakSramBytesPerCore": t.peakSramBytesPerCore,
            "violations": t.violations.count, "stages": decoder.placement.count,
            "prefill": decoder.prefillUsed?.rawValue ?? "",
            "simulatedLayers": simulateLayers ?? cfg.layerCount, "projected": simulateLayers.map { $0 < cfg.layerCount } ?? false,
            "measuredPrefillCycles": measuredPrefill, "prefillUpperBound": decoder.projectsUnpipelinedPrefill, "measuredDecodeCyclesPerToken": measuredDecode,
        ]
        if json {
            let data = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(String(format: "prompt: %d tokens; generated: %d tokens on %@ (%@, %@ KV cache)", promptIDs.count, generated.count,
                         "\(spec.width)x\(spec.height)", spec.name, policy.rawValue))
            if let n = simulateLayers, n < cfg.layerCount {
                print("projected to all \(cfg.layerCount) layers from \(n) simulated (measured: prefill \(measuredPrefill) cycles, decode \(Int(measuredDecode)) cycles per token)")
                if decoder.projectsUnpipelinedPrefill {
                    print("(the prompt ran one token at a time, not pipelined through the stages: time to first token is an upper bound)")
                }
            }
            print(String(format: "time to first token: %.1f µs (%lld cycles); prefill TPR %.0f tokens/s (%@)", prefillSeconds * 1e6,
                         prefillCycles, Double(promptIDs.count) / prefillSeconds,
                         decoder.prefillUsed == .meshgemm ? "MeshGEMM prefill" : "prompt through decode steps"))
            if decodeSteps > 0 {
                print(String(format: "time per output token: %.2f µs (%.0f cycles); decode TPR %.0f tokens/s", tpot * 1e6, decodePerToken, 1 / tpot))
            }
            print(String(format: "M: peak %.1f KB of %.1f KB per core", Double(t.peakSramBytesPerCore) / 1024, Double(spec.sramBytesPerCore) / 1024))
            if let trace { print("wrote \(trace)") }
        }
    }
}
