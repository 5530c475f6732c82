import WaferKernels
import WaferMesh
import WaferModel
import WaferSpec
import WaferTrace

/// A LLaMA model resident on the mesh, generating tokens one decode step at a time.
///
/// Set-up places every layer's weights on one decode grid — or, when they do not fit, on several
/// equally tall grids in row-major bands (pipeline stages, see `StagePlanner`) — accounted against SRAM,
/// and declares the K-tree routes of the two reduce axes, the KV-shift routes and the stage
/// hand-over routes once. Each step runs one `PhaseProgram` per layer on its stage's grid, hands
/// the residual stream from stage to stage over the mesh, and runs the LM head on the last stage.
/// With weights the cores compute real numbers (Float32) and the host reads the logits from the
/// last stage's first row; without them (`timing-only`) the same programs run with sizes only.
///
/// The prompt runs either all at once with MeshGEMM (`prefill(prompt:)`, WaferLLM's prefill) or
/// through the decode steps one token at a time (phase "prefill" either way).
public final class MeshDecoder {
    public let engine: MeshEngine
    public let policy: KVPolicy
    public internal(set) var cache: KVCachePlacement
    let stages: [DecodeStage]
    let weights: ModelWeights?
    let kvLabel: Int32
    let handOvers: [HandOverProgram?]

    /// The first stage's layout (all stages share the model and the row split).
    public var layout: DecodeLayout { stages[0].layout }
    /// The first stage's grid.
    public var grid: KernelGrid { stages[0].grid }
    /// Every stage's grid and layer range.
    public var placement: [(grid: KernelGrid, layers: Range<Int>)] { stages.map { ($0.grid, $0.layers) } }

    /// Cycle at which each finished step's last core finished.
    public internal(set) var stepEnds: [Int64] = []
    /// How the last `generate` ran its prompt (`.meshgemm` or `.steps`), and the cycle its prefill
    /// ended (the first token's logits exist: time to first token).
    public internal(set) var prefillUsed: PrefillMode?
    public internal(set) var prefillEndCycle: Int64 = 0
    /// Cycle at which each generated token's decode step ended (after the prefill).
    public var decodeStepEnds: ArraySlice<Int64> { stepEnds.dropFirst(prefillStepCount) }
    var prefillStepCount = 0
    /// Payload slots per core a decoder with real numerics needs for `layers` layers.
    public static func payloadSlots(layers: Int) -> Int { DecodeSlot.count(layers: layers) }
    /// Simulate only layers `0..<simulatedLayers` (nil: all). Every layer's weights are still
    /// placed and accounted in SRAM; the skipped layers have the same shapes and programs as the
    /// simulated ones, so `layerCycles` lets a caller project the whole model (timing-only runs of
    /// large models). With weights, skipping layers changes the numbers: use it timing-only.
    public var simulatedLayers: Int?
    /// Cycles spent in layer programs per phase ("prefill", "decode"), summed over steps, and how
    /// many layer runs they cover (makespan before the first simulated layer of a step to after the last).
    public internal(set) var layerCycles: [String: (cycles: Int64, layers: Int)] = [:]
    func simulates(_ l: Int) -> Bool { simulatedLayers.map { l < $0 } ?? true }
    func addLayerCycles(_ phase: String, from start: Int64, layers: Int) {
        guard layers > 0 else { return }
        let old = layerCycles[phase] ?? (0, 0)
        layerCycles[phase] = (old.cycles + engine.makespanCycles - start, old.layers + layers)
    }
    /// Whether the last `generate`'s projected time to first token is an upper bound: layers were
    /// skipped on several stages and the prompt ran through token steps, one token at a time.
    public var projectsUnpipelinedPrefill: Bool { projectsPipeline && prefillUsed == .steps }
    /// Whether layers are skipped on a placement of several stages: prompt tokens then run one
    /// at a time instead of pipelining through the stages (see `projectedCycles`).
    var projectsPipeline: Bool {
        stages.count > 1 && simulatedLayers.map { $0 < stages.last!.layers.upperBound } ?? false
    }

    /// Time to first token and decode cycles per token of the last `generate`, projected to every
    /// layer of the model when only `simulatedLayers` ran.
    ///
    /// Each skipped layer is charged what the simulated layers measured on average in the same
    /// phase (`layerCycles`); everything else (embedding, hand-overs, LM head) is measured. With
    /// all layers simulated this is exactly the measured time. On several stages the prompt's
    /// tokens then run one at a time (no pipelining through the stages), so the projected time to
    /// first token of a token-step prefill is an upper bound there; decode is not affected
    /// (`projectsUnpipelinedPrefill` says when).
    public var projectedCycles: (prefill: Int64, decodePerToken: Double) {
        let total = stages.last!.layers.upperBound
        let simulated = max(1, min(simulatedLayers ?? total, total))
        let scale = Double(total) / Double(simulated) - 1
        let decodeSteps = decodeStepEnds.count
        let measuredDecode = decodeSteps > 0 ? Double(decodeStepEnds.last! - prefillEndCycle) / Double(decodeSteps) : 0
        let prefill = prefillEndCycle + Int64((Double(layerCycles["prefill"]?.cycles ?? 0) * scale).rounded())
        let decode = measuredDecode + (decodeSteps > 0 ? Double(layerCycles["decode"]?.cycles ?? 0) * scale / Double(decodeSteps) : 0)
        return (prefill, decode)
    }
    /// Routes and plans of the MeshGEMM prefill, declared at its first use.
    var prefillRoutes: PrefillRoutes?

    /// One grid holding every layer.
    public convenience init(engine: MeshEngine, config: ModelConfig, weights: ModelWeights?, grid: KernelGrid,
                            policy: KVPolicy = .shift, groups: Int? = nil) throws {
        try self.init(engine: engine, config: config, weights: weights, stageGrids: [grid],
                      layers: [0..<config.layerCount], policy: policy, groups: groups)
    }

    /// Several stage grids, each holding a contiguous range of layers (see `StagePlanner.plan`).
    ///
    /// - Parameters:
    ///   - weights: the model's weights for real numerics (the engine must carry payloads), or nil.
    public init(engine: MeshEngine, config: ModelConfig, weights: ModelWeights?, stageGrids: [KernelGrid],
                layers: [Range<Int>], policy: KVPolicy = .shift, groups: Int? = nil) throws {
        if let p = config.validationProblem { throw KernelError.shape(p) }
        guard (weights == nil) == (engine.store == nil) else {
            throw KernelError.shape("real numerics need both weights and an engine with payloads")
        }
        if let store = engine.store, store.slotsPerCore < DecodeSlot.count(layers: config.layerCount) {
            throw KernelError.shape("the engine needs \(DecodeSlot.count(layers: config.layerCount)) payload slots per core")
        }
        guard !stageGrids.isEmpty, stageGrids.count == layers.count,
              layers.first?.lowerBound == 0, layers.last?.upperBound == config.layerCount,
              zip(layers, layers.dropFirst()).allSatisfy({ $0.upperBound == $1.lowerBound }) else {
            throw KernelError.shape("stages must cover layers 0..<\(config.layerCount) in order, one range per grid")
        }
        let rows = stageGrids[0].rows
        guard stageGrids.allSatisfy({ $0.rows == rows }) else {
            throw KernelError.shape("stage grids must be equally tall")
        }
        self.engine = engine
        self.policy = policy
        self.weights = weights
        cache = KVCachePlacement(rows: rows, policy: policy)
        var labels: [String: Int32] = [:]
        for name in ["rmsnorm", "qkv gemv", "rope + kv append", "kv shift in", "attention scores", "softmax max",
                     "softmax exp", "attention context", "o gemv", "residual + rmsnorm", "gate|up gemv", "down gemv",
                     "residual", "lm head gemv"] { labels[name] = engine.label(name) }
        kvLabel = engine.label("KV cache")
        let slots = (DecodeSlot.acc, DecodeSlot.incoming, DecodeSlot.staging)
        var stages: [DecodeStage] = []
        for (s, grid) in stageGrids.enumerated() {
            let layout = try DecodeLayout(config: config, cols: grid.cols, rows: grid.rows)
            let yPlan = try LinePlanHandle(engine: engine, grid: grid, axis: .y, groups: groups, colourBase: 0, slots: slots, label: "allreduce along Y")
            let xPlan = try LinePlanHandle(engine: engine, grid: grid, axis: .x, groups: groups, colourBase: 9, slots: slots, label: "allreduce along X")
            var shift = Array(repeating: Int32(-1), count: engine.geometry.coreCount)
            for i in 1..<max(1, grid.rows) {
                for j in 0..<grid.cols {
                    let c = grid.core(px: j, py: i)
                    shift[c] = try engine.route(from: c, colour: 18 + i % 2, legs: [RouteLeg(.north, 1)])
                }
            }
            let builder = DecodeProgramBuilder(layout: layout, grid: grid, yPlan: yPlan, xPlan: xPlan, shiftRoutes: shift,
                                               labels: labels, numerics: weights != nil, elementBytes: engine.spec.elementBytes)
            stages.append(DecodeStage(grid: grid, layout: layout, layers: layers[s], holdsHead: s == stageGrids.count - 1,
                                      builder: builder))
        }
        self.stages = stages
        var handOvers: [HandOverProgram?] = [nil]
        for s in 1..<stages.count {
            let inv = engine.invocation(name: "stage hand-over", params: ["kernel": "hand-over", "from": "\(s - 1)", "to": "\(s)"])
            handOvers.append(try HandOverProgram(engine: engine, from: stages[s - 1].grid, to: stages[s].grid,
                                                 layout: stages[s].layout, invocation: inv))
        }
        self.handOvers = handOvers
        for stage in stages { try placeWeights(stage) }
    }

    /// Puts a stage's tiles in place and accounts them in SRAM (a program of allocations).
    private func placeWeights(_ stage: DecodeStage) throws {
        if let weights, let store = engine.store {
            DecodeWeights.place(weights, layout: stage.layout, grid: stage.grid, store: store, layers: stage.layers, head: stage.holdsHead)
        }
        let layout = stage.layout, grid = stage.grid, eb = engine.spec.elementBytes
        let layerCount = stage.layers.count, head = stage.holdsHead
        var labelIDs: [String: Int32] = [:]
        for (name, _) in DecodeWeights.bytes(layout: layout, row: 0, col: 0, elementBytes: eb, layers: layerCount, head: head) {
            labelIDs[name] = engine.label(name)
        }
        let ids = labelIDs
        let program = PhaseProgram(grid: grid, collectiveSlots: (0, 1, 2), phases: [
            .custom(count: { _ in ids.count }, op: { c, k in
                let o = grid.offsets(of: c)!
                let entries = DecodeWeights.bytes(layout: layout, row: o.py, col: o.px, elementBytes: eb, layers: layerCount, head: head)
                return .alloc(label: ids[entries[k].0]!, bytes: entries[k].1)
            }),
        ])
        try engine.run(program)
    }

    /// The context length so far.
    public var position: Int { cache.count }

    /// Runs one decode step for `token` and returns the logits (nil when timing-only).
    ///
    /// - Parameter phase: "prefill" for prompt tokens, "decode" for generated ones (trace marks).
    @discardableResult
    public func step(token: Int, phase: String) throws -> [Float]? {
        let cfg = layout.config
        guard token >= 0, token < cfg.vocabularySize else { throw KernelError.shape("token \(token) outside the vocabulary") }
        let pos = cache.count
        let moves = cache.append(pos)
        if let weights, let store = engine.store {
            let row = weights.tokenEmbedding.row(token)
            let first = stages[0]
            for i in 0..<first.grid.rows {
                let block = Array(row[first.layout.dRange[i]])
                for j in 0..<first.grid.cols { store[first.grid.core(px: j, py: i), DecodeSlot.x] = block }
            }
        }
        if phase == "decode" || projectsPipeline {
            // The token depends on the previous step's logits: nothing starts before they exist.
            // (Prompt tokens pipeline through the stages, except when skipped layers are to be
            // projected: then each token runs alone, so that a layer's cycles are its own.)
            let ready = engine.makespanCycles
            for stage in stages {
                let g = stage.grid
                engine.hold((0..<g.rows).flatMap { i in (0..<g.cols).map { g.core(px: $0, py: i) } }, until: ready)
            }
        }
        let step = DecodeProgramBuilder.Step(position: pos, phase: phase, counts: cache.counts,
                                             appendRow: moves.appendRow, senders: Set(moves.senders))
        for (s, stage) in stages.enumerated() {
            try accountKV(moves, stage: stage)
            if let h = handOvers[s] { try engine.run(h) }
            try runLayers(stage, step: step, phase: phase, position: pos)
        }
        return try runHead(phase: phase, position: pos)
    }

    /// Final RMSNorm and the LM head on the last stage (x in decode layout on every core); returns
    /// the logits read from its first row (nil when timing-only) and records the step's end.
    func runHead(phase: String, position pos: Int) throws -> [Float]? {
        let cfg = layout.config
        let last = stages[stages.count - 1]
        let gridText = "\(last.grid.cols)x\(last.grid.rows)"
        let head = ["phase": phase, "token": "\(pos)", "grid": gridText]
        let headNorm = engine.invocation(name: "rmsnorm", params: head.merging(["kernel": "rmsnorm", "layer": "head"]) { a, _ in a })
        let headGemv = engine.invocation(name: "gemv lm head", params: head.merging([
            "kernel": "gemv", "algorithm": "ktree", "op": "lm head", "layer": "head",
            "rows": "\(cfg.embeddingLength)", "cols": "\(cfg.vocabularySize)", "axis": "y", "groups": "\(last.builder.yPlan.groups)",
        ]) { a, _ in a })
        try engine.run(last.builder.head(norm: headNorm, gemv: headGemv))
        stepEnds.append(engine.makespanCycles)
        guard let store = engine.store else { return nil }
        var logits: [Float] = []
        logits.reserveCapacity(cfg.vocabularySize)
        for j in 0..<last.grid.cols { logits += store[last.grid.core(px: j, py: 0), DecodeSlot.acc] }
        return logits
    }

    private func runLayers(_ stage: DecodeStage, step: DecodeProgramBuilder.Step, phase: String, position pos: Int) throws {
        let cfg = stage.layout.config, grid = stage.grid
        let gridText = "\(grid.cols)x\(grid.rows)"
        let start = engine.makespanCycles
        defer { addLayerCycles(phase, from: start, layers: stage.layers.filter(simulates).count) }
        // No run before this step's recurs (its KV rows make every key new).
        engine.forgetReplays()
        for l in stage.layers where simulates(l) {
            let common = ["phase": phase, "token": "\(pos)", "layer": "\(l)"]
            func mark(_ name: String, _ kernel: String) -> Int32 {
                engine.invocation(name: name, params: common.merging(["kernel": kernel, "grid": gridText]) { a, _ in a })
            }
            func gemv(_ op: String, rows: Int, cols: Int, axis: Axis) -> Int32 {
                let g = axis == .y ? gridText : "\(grid.rows)x\(grid.cols)"
                return engine.invocation(name: "gemv \(op)", params: common.merging([
                    "kernel": "gemv", "algorithm": "ktree", "op": op, "rows": "\(rows)", "cols": "\(cols)", "grid": g,
                    "axis": axis.rawValue, "groups": "\(stage.builder.yPlan.groups)",
                ]) { a, _ in a })
            }
            let q = cfg.queryDim, kv = cfg.kvDim, d = cfg.embeddingLength, f = cfg.feedForwardLength
            let invs = [
                "norm1": mark("rmsnorm", "rmsnorm"), "qkv": gemv("qkv", rows: d, cols: q + 2 * kv, axis: .y),
                "attention": mark("attention", "attention"), "o": gemv("o", rows: q, cols: d, axis: .x),
                "norm2": mark("residual + rmsnorm", "rmsnorm"), "gateup": gemv("gate|up", rows: d, cols: 2 * f, axis: .y),
                "down": gemv("down", rows: f, cols: d, axis: .x), "residual": mark("residual", "elementwise"),
            ]
            // Every layer of a step issues the same ops (only its weights and cache differ): after
            // the first, the engine replays the run instead of simulating it when it starts alike.
            let program = stage.builder.layer(l, step: step, invocations: invs)
            try engine.run(program.replayable(key: stage.builder.layerKey(step), invocations: invs.keys.sorted().map { invs[$0]! }))
        }
    }

    /// SRAM accounting of the cache move: the append row allocates an entry, and under the shift
    /// policy each sender frees one and the row above allocates one.
    private func accountKV(_ moves: KVCachePlacement.Step, stage: DecodeStage) throws {
        let layout = stage.layout, grid = stage.grid, eb = engine.spec.elementBytes, label = kvLabel
        let layers = stage.layers.count
        let senders = Set(moves.senders), appendRow = moves.appendRow
        let program = PhaseProgram(grid: grid, collectiveSlots: (0, 1, 2), phases: [
            .custom(count: { c in
                let i = grid.offsets(of: c)!.py
                return (i == appendRow ? 1 : 0) + (senders.contains(i) ? 1 : 0) + (senders.contains(i + 1) ? 1 : 0)
            }, op: { c, k in
                let o = grid.offsets(of: c)!
                let bytes = 2 * layers * layout.kvRange[o.px].count * eb
                var ops: [MeshOp] = []
                if o.py == appendRow { ops.append(.alloc(label: label, bytes: bytes)) }
                if senders.contains(o.py) { ops.append(.free(label: label)) }
                if senders.contains(o.py + 1) { ops.append(.alloc(label: label, bytes: bytes)) }
                return ops[k]
            }),
        ])
        try engine.run(program)
    }

    /// How `generate` will run a prompt of `promptTokens` tokens: `.auto` becomes `.meshgemm` when
    /// the placement allows it and the prompt has at least a third as many tokens as the grid has
    /// rows, `.steps` otherwise.
    ///
    /// A MeshGEMM prefill costs P compute–shift steps per GEMM whatever the prompt length (while
    /// rows hold one token or none), token steps cost one decode step per token. Measured on
    /// SmolLM2 on 96² WSE-2: 9.59 M cycles for 16 tokens and 9.60 M for 48 with MeshGEMM, 5.1 M
    /// and 15.3 M through token steps (≈ 0.32 M a token), so they meet near 30 tokens ≈ P/3.
    public func resolvedPrefill(_ mode: PrefillMode, promptTokens: Int) -> PrefillMode {
        switch mode {
        case .meshgemm, .steps: return mode
        case .auto: return meshGEMMPrefillProblem == nil && 3 * promptTokens >= grid.rows ? .meshgemm : .steps
        }
    }

    /// Feeds `prompt`, then generates greedily until `maxTokens` or `eos`.
    ///
    /// - Parameters:
    ///   - prefill: how the prompt runs (see `resolvedPrefill`).
    ///   - onToken: called with each generated token as soon as it exists.
    /// - Returns: the generated tokens (timing-only runs generate `maxTokens` copies of token 0's id
    ///   placeholder, since there are no logits to choose from).

    public func generate(prompt: [Int], maxTokens: Int, eos: Int?, prefill: PrefillMode = .auto,
                         onToken: (Int) -> Void = { _ in }) throws -> [Int] {
        guard !prompt.isEmpty else { throw KernelError.shape("the prompt is empty") }
        if let n = simulatedLayers, n < 1 { throw KernelError.shape("simulatedLayers must be at least 1, got \(n)") }
        layerCycles = [:]
        var logits: [Float]?
        if resolvedPrefill(prefill, promptTokens: prompt.count) == .meshgemm {
            logits = try self.prefill(prompt: prompt)
            prefillUsed = .meshgemm
        } else {
            for t in prompt { logits = try step(token: t, phase: "prefill") }
            prefillUsed = .steps
        }
        prefillStepCount = stepEnds.count
        prefillEndCycle = stepEnds.last ?? engine.makespanCycles
        var out: [Int] = []
        while out.count < maxTokens {
            let next = logits.flatMap { ReferenceModel.argmax($0) } ?? 0
            out.append(next)
            onToken(next)
            if let eos, next == eos, logits != nil { break }
            if out.count == maxTokens { break }
            logits = try step(token: next, phase: "decode")
        }
        return out
    }
}
