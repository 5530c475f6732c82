import WaferKernels
import WaferMesh
import WaferModel
import WaferSpec
import WaferTrace

/// A LLaMA model resident on a decode grid of the mesh, generating tokens one step at a time.
///
/// Set-up places every layer's weights on the grid (accounted against SRAM), declares the
/// K-tree routes of the two reduce axes and the KV-shift routes once, then each step runs one
/// `PhaseProgram` per layer and one for the LM head. With weights the cores compute real numbers
/// (Float32) and the host reads the logits from the first row; without them (`timing-only`) the
/// same programs run with sizes only.
///
/// The prompt is fed through the same decode steps (phase "prefill"), one token at a time.
public final class MeshDecoder {
    public let layout: DecodeLayout
    public let engine: MeshEngine
    public let grid: KernelGrid
    public let policy: KVPolicy
    public private(set) var cache: KVCachePlacement
    let weights: ModelWeights?
    let builder: DecodeProgramBuilder
    let kvLabel: Int32

    /// Cycle at which each finished step's last core finished.
    public private(set) var stepEnds: [Int64] = []

    /// - Parameters:
    ///   - weights: the model's weights for real numerics (the engine must carry payloads), or nil.
    public init(engine: MeshEngine, config: ModelConfig, weights: ModelWeights?, grid: KernelGrid,
                policy: KVPolicy = .shift, groups: Int? = nil) throws {
        if let p = config.validationProblem { throw KernelError.shape(p) }
        guard (weights == nil) == (engine.store == nil) else {
            throw KernelError.shape("real numerics need both weights and an engine with payloads")
        }
        if let store = engine.store, store.slotsPerCore < DecodeSlot.count(layers: config.layerCount) {
            throw KernelError.shape("the engine needs \(DecodeSlot.count(layers: config.layerCount)) payload slots per core")
        }
        self.engine = engine
        self.grid = grid
        self.policy = policy
        self.weights = weights
        layout = try DecodeLayout(config: config, cols: grid.cols, rows: grid.rows)
        cache = KVCachePlacement(rows: grid.rows, policy: policy)
        let slots = (DecodeSlot.acc, DecodeSlot.incoming, DecodeSlot.staging)
        let yPlan = try LinePlanHandle(engine: engine, grid: grid, axis: .y, groups: groups, colourBase: 0, slots: slots, label: "allreduce along Y")
        let xPlan = try LinePlanHandle(engine: engine, grid: grid, axis: .x, groups: groups, colourBase: 9, slots: slots, label: "allreduce along X")
        var shift = Array(repeating: Int32(-1), count: engine.geometry.coreCount)
        for i in 1..<max(1, grid.rows) {
            for j in 0..<grid.cols {
                let c = grid.core(px: j, py: i)
                shift[c] = try engine.route(from: c, colour: 18 + i % 2, legs: [RouteLeg(.north, 1)])
            }
        }
        var labels: [String: Int32] = [:]
        for name in ["rmsnorm", "qkv gemv", "rope + kv append", "kv shift in", "attention scores", "softmax max",
                     "softmax exp", "attention context", "o gemv", "residual + rmsnorm", "gate|up gemv", "down gemv",
                     "residual", "lm head gemv"] { labels[name] = engine.label(name) }
        kvLabel = engine.label("KV cache")
        builder = DecodeProgramBuilder(layout: layout, grid: grid, yPlan: yPlan, xPlan: xPlan, shiftRoutes: shift,
                                       labels: labels, numerics: weights != nil, elementBytes: engine.spec.elementBytes)
        try placeWeights()
    }

    /// Puts every core's tiles in place and accounts them in SRAM (a program of allocations).
    private func placeWeights() throws {
        if let weights, let store = engine.store {
            DecodeWeights.place(weights, layout: layout, grid: grid, store: store)
        }
        let layout = self.layout, grid = self.grid, eb = engine.spec.elementBytes
        var labelIDs: [String: Int32] = [:]
        for (name, _) in DecodeWeights.bytes(layout: layout, row: 0, col: 0, elementBytes: eb) { labelIDs[name] = engine.label(name) }
        let ids = labelIDs
        let program = PhaseProgram(grid: grid, collectiveSlots: (0, 1, 2), phases: [
            .custom(count: { _ in ids.count }, op: { c, k in
                let o = grid.offsets(of: c)!
                let entries = DecodeWeights.bytes(layout: layout, row: o.py, col: o.px, elementBytes: eb)
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
            for i in 0..<grid.rows {
                let block = Array(row[layout.dRange[i]])
                for j in 0..<grid.cols { store[grid.core(px: j, py: i), DecodeSlot.x] = block }
            }
        }
        try accountKV(moves)
        let step = DecodeProgramBuilder.Step(position: pos, phase: phase, counts: cache.counts,
                                             appendRow: moves.appendRow, senders: Set(moves.senders))
        let gridText = "\(grid.cols)x\(grid.rows)"
        for l in 0..<cfg.layerCount {
            let common = ["phase": phase, "token": "\(pos)", "layer": "\(l)"]
            func mark(_ name: String, _ kernel: String) -> Int32 {
                engine.invocation(name: name, params: common.merging(["kernel": kernel, "grid": gridText]) { a, _ in a })
            }
            func gemv(_ op: String, rows: Int, cols: Int, axis: Axis) -> Int32 {
                let g = axis == .y ? gridText : "\(grid.rows)x\(grid.cols)"
                return engine.invocation(name: "gemv \(op)", params: common.merging([
                    "kernel": "gemv", "algorithm": "ktree", "op": op, "rows": "\(rows)", "cols": "\(cols)", "grid": g,
                    "axis": axis.rawValue, "groups": "\(builder.yPlan.groups)",
                ]) { a, _ in a })
            }
            let q = cfg.queryDim, kv = cfg.kvDim, d = cfg.embeddingLength, f = cfg.feedForwardLength
            let invs = [
                "norm1": mark("rmsnorm", "rmsnorm"), "qkv": gemv("qkv", rows: d, cols: q + 2 * kv, axis: .y),
                "attention": mark("attention", "attention"), "o": gemv("o", rows: q, cols: d, axis: .x),
                "norm2": mark("residual + rmsnorm", "rmsnorm"), "gateup": gemv("gate|up", rows: d, cols: 2 * f, axis: .y),
                "down": gemv("down", rows: f, cols: d, axis: .x), "residual": mark("residual", "elementwise"),
            ]
            try engine.run(builder.layer(l, step: step, invocations: invs))
        }
        let head = ["phase": phase, "token": "\(pos)", "grid": gridText]
        let headNorm = engine.invocation(name: "rmsnorm", params: head.merging(["kernel": "rmsnorm", "layer": "head"]) { a, _ in a })
        let headGemv = engine.invocation(name: "gemv lm head", params: head.merging([
            "kernel": "gemv", "algorithm": "ktree", "op": "lm head", "layer": "head",
            "rows": "\(cfg.embeddingLength)", "cols": "\(cfg.vocabularySize)", "axis": "y", "groups": "\(builder.yPlan.groups)",
        ]) { a, _ in a })
        try engine.run(builder.head(norm: headNorm, gemv: headGemv))
        stepEnds.append(engine.makespanCycles)
        guard let store = engine.store else { return nil }
        var logits: [Float] = []
        logits.reserveCapacity(cfg.vocabularySize)
        for j in 0..<grid.cols { logits += store[grid.core(px: j, py: 0), DecodeSlot.acc] }
        return logits
    }

    /// SRAM accounting of the cache move: the append row allocates an entry, and under the shift
    /// policy each sender frees one and the row above allocates one.
    private func accountKV(_ moves: KVCachePlacement.Step) throws {
        let layout = self.layout, grid = self.grid, eb = engine.spec.elementBytes, label = kvLabel
        let layers = layout.config.layerCount
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

    /// Feeds `prompt`, then generates greedily until `maxTokens` or `eos`.
    ///
    /// - Parameter onToken: called with each generated token as soon as it exists.
    /// - Returns: the generated tokens (timing-only runs generate `maxTokens` copies of token 0's id
    ///   placeholder, since there are no logits to choose from).
    public func generate(prompt: [Int], maxTokens: Int, eos: Int?, onToken: (Int) -> Void = { _ in }) throws -> [Int] {
        guard !prompt.isEmpty else { throw KernelError.shape("the prompt is empty") }
        var logits: [Float]?
        for t in prompt { logits = try step(token: t, phase: "prefill") }
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
