import WaferKernels
import WaferMesh
import WaferModel

/// What a prefill's layer runs depend on but their layer (`PrefillProgramBuilder.replayKey`):
/// the routes and decode builder (both live as long as the decoder), the grid, and how many
/// tokens each row holds.
struct PrefillKey: Hashable {
    let routes: ObjectIdentifier
    let builder: ObjectIdentifier
    let grid: KernelGrid
    let counts: [Int]
    let numerics: Bool
}

/// The routes the MeshGEMM prefill declares once per decoder: both resident-GEMM forms and the
/// column and row multicasts that move norm weights and the last token's hidden state.
final class PrefillRoutes: @unchecked Sendable {
    let meshgemm: ResidentGEMM.Routes
    let gemmt: ResidentGEMM.Routes
    /// Per column px: the diagonal core's multicasts north and south along the column (−1: none).
    let columnNorth: [Int32], columnSouth: [Int32]
    /// Per row i: the diagonal core's multicasts west and east along the row.
    let rowWest: [Int32], rowEast: [Int32]

    init(engine: MeshEngine, grid: KernelGrid) throws {
        let slots = (DecodeSlot.acc, DecodeSlot.incoming, DecodeSlot.staging)
        meshgemm = try ResidentGEMM.Routes(.meshgemm, engine: engine, grid: grid, slots: slots, label: "prefill reduce-add")
        gemmt = try ResidentGEMM.Routes(.gemmt, engine: engine, grid: grid, slots: slots, label: "prefill reduce-add")
        let p = grid.rows
        var north = [Int32](repeating: -1, count: p), south = north, west = north, east = north
        for k in 0..<p {
            let diag = grid.core(px: k, py: k)
            if k > 0 {
                north[k] = try engine.route(from: diag, colour: 0, legs: [RouteLeg(.north, k, deliverAlong: true)])
                west[k] = try engine.route(from: diag, colour: 3, legs: [RouteLeg(.west, k, deliverAlong: true)])
            }
            if k < p - 1 {
                south[k] = try engine.route(from: diag, colour: 1, legs: [RouteLeg(.south, p - 1 - k, deliverAlong: true)])
                east[k] = try engine.route(from: diag, colour: 4, legs: [RouteLeg(.east, p - 1 - k, deliverAlong: true)])
            }
        }
        columnNorth = north; columnSouth = south; rowWest = west; rowEast = east
    }
}

/// How `MeshDecoder.generate` runs the prompt.
public enum PrefillMode: String, CaseIterable, Sendable {
    /// MeshGEMM prefill when the placement allows it (`meshGEMMPrefillProblem` is nil) and the
    /// prompt is long enough to gain from it (`MeshDecoder.resolvedPrefill`), else token steps.
    case auto
    /// The whole prompt at once with MeshGEMM and GEMM-T (an error when the placement does not allow it).
    case meshgemm
    /// One decode step per prompt token (GEMVs), as on any placement.
    case steps
}

extension MeshDecoder {
    /// Why the prompt cannot be prefilled with MeshGEMM on this placement (nil: it can).
    ///
    /// The MeshGEMM prefill needs one stage on a square grid (its rings run along both axes and
    /// the activations' X split is decode's Y split) and the shift KV policy (the prompt's K and
    /// V are written straight into the rows that keep them, which is balanced only under shift).
    public var meshGEMMPrefillProblem: String? {
        if stages.count != 1 { return "the model is placed over \(stages.count) stages" }
        if grid.rows != grid.cols { return "the grid \(grid.cols)x\(grid.rows) is not square" }
        if policy != .shift { return "the KV cache policy is \(policy.rawValue)" }
        if position != 0 { return "the cache already holds \(position) tokens" }
        return nil
    }

    /// Runs the whole prompt at once with MeshGEMM (WaferLLM's prefill) and returns the last
    /// token's logits (nil when timing-only).
    ///
    /// Activations are B·L_y·E_x: row i holds the prompt tokens the shift cache keeps on row i,
    /// column j the embedding block decode keeps on row j. Per layer: RMSNorm (allreduce along X),
    /// QKV and gate|up as MeshGEMMs against the resident decode tiles, RoPE, Q·Kᵀ as a head-aware
    /// GEMM-T against the K cache, causal softmax (allreduces along X), P·V as a head-aware
    /// MeshGEMM against the V cache, O and down as GEMM-Ts (their decode tiles have K along X).
    /// K and V land where decode reads them, so decode continues from the cache as it is. The
    /// last token's hidden state then moves into decode's layout (one column send to the
    /// diagonal, one row multicast) and the decode LM head runs.
    ///
    /// - Throws: when `meshGEMMPrefillProblem` is not nil, or the prompt is empty or out of range.
    @discardableResult
    public func prefill(prompt: [Int]) throws -> [Float]? {
        if let p = meshGEMMPrefillProblem { throw KernelError.shape("MeshGEMM prefill is not possible: \(p)") }
        let cfg = layout.config
        guard !prompt.isEmpty else { throw KernelError.shape("the prompt is empty") }
        if let bad = prompt.first(where: { $0 < 0 || $0 >= cfg.vocabularySize }) {
            throw KernelError.shape("token \(bad) outside the vocabulary")
        }
        let stage = stages[0], grid = stage.grid, layout = stage.layout, side = grid.rows
        if prefillRoutes == nil { prefillRoutes = try PrefillRoutes(engine: engine, grid: grid) }
        let routes = prefillRoutes!
        for p in 0..<prompt.count { _ = cache.append(p) }
        let plan = PrefillPlan(layout: layout, tokens: cache.tokens)
        let eb = engine.spec.elementBytes
        let labels = Dictionary(uniqueKeysWithValues: [
            "prefill rmsnorm", "prefill residual + rmsnorm", "prefill norm apply", "prefill rope + kv write", "prefill softmax max",
            "prefill softmax exp", "prefill softmax scale", "prefill swiglu", "prefill residual", "prefill norm copy", "prefill last token",
        ].map { ($0, engine.label($0)) })
        let numerics = engine.store != nil
        let L = prompt.count
        let common = ["phase": "prefill", "tokens": "\(L)", "grid": "\(side)x\(side)"]

        // The prompt's embeddings (host I/O, not simulated): row i gets its tokens, column j block j.
        if let weights, let store = engine.store {
            for i in 0..<side {
                for j in 0..<side {
                    let dr = layout.dRange[j]
                    store[grid.core(px: j, py: i), DecodeSlot.hidden] = plan.tokens[i].flatMap { weights.tokenEmbedding.row(prompt[$0])[dr] }
                }
            }
        }
        // SRAM: the cache entries each row keeps and the prefill's working buffers.
        let kvLabel = self.kvLabel, actLabel = engine.label("prefill activations")
        let layerCount = stage.layers.count, actBytes = plan.activationBytes(elementBytes: eb)
        try engine.run(PhaseProgram(grid: grid, collectiveSlots: (0, 1, 2), phases: [
            .custom(count: { c in plan.counts[grid.offsets(of: c)!.py] + 1 }, op: { c, k in
                let o = grid.offsets(of: c)!
                if k == 0 { return .alloc(label: actLabel, bytes: actBytes) }
                return .alloc(label: kvLabel, bytes: 2 * layerCount * layout.kvRange[o.px].count * eb)
            }),
        ]))
        try engine.run(normCopy(routes: routes, grid: grid, plan: plan, label: labels["prefill norm copy"]!,
                                mark: engine.invocation(name: "norm weights to columns", params: common.merging(["kernel": "broadcast"]) { a, _ in a })))
        // Layers differ in their weights and cache slots only: a run that starts as one of an
        // earlier layer did is replayed (layers start alike every other layer).
        let key = PrefillKey(routes: ObjectIdentifier(routes), builder: ObjectIdentifier(stage.builder.identity), grid: grid,
                             counts: plan.counts, numerics: numerics)
        let builder = PrefillProgramBuilder(plan: plan, grid: grid, xPlan: stage.builder.xPlan, meshRoutes: routes.meshgemm,
                                            gemmtRoutes: routes.gemmt, labels: labels, numerics: numerics, replayKey: key)
        let layersStart = engine.makespanCycles
        engine.forgetReplays()
        for l in stage.layers where simulates(l) {
            let layerParams = common.merging(["layer": "\(l)"]) { a, _ in a }
            let runs = builder.layer(l, mark: { name, params in
                self.engine.invocation(name: name, params: layerParams.merging(params) { _, b in b })
            }, engine: engine)
            for run in runs {
                switch run {
                case .phases(let p): try engine.run(p)
                case .gemm(let g): try engine.run(g)
                }
            }
        }
        addLayerCycles("prefill", from: layersStart, layers: stage.layers.filter(simulates).count)
        try engine.run(lastTokenToDecodeLayout(routes: routes, grid: grid, plan: plan, label: labels["prefill last token"]!,
                                               mark: engine.invocation(name: "last token to decode layout",
                                                                       params: common.merging(["kernel": "hand-over"]) { a, _ in a })))
        try engine.run(PhaseProgram(grid: grid, collectiveSlots: (0, 1, 2), phases: [
            .custom(count: { _ in 1 }, op: { _, _ in .free(label: actLabel) }),
        ]))
        return try runHead(phase: "prefill", position: L - 1)
    }

    /// Every diagonal core (j, j) holds the norm weights of embedding block j (decode keeps block
    /// i on row i); it multicasts every layer's two norm vectors along its column, so that every
    /// core of column j can scale its rows' block j.
    private func normCopy(routes: PrefillRoutes, grid: KernelGrid, plan: PrefillPlan, label: Int32, mark: Int32) -> PhaseProgram {
        let side = grid.rows, layers = stages[0].layers, eb = engine.spec.elementBytes
        let numerics = engine.store != nil
        let columnNorth = routes.columnNorth, columnSouth = routes.columnSouth
        var build: (@Sendable (Int, PayloadStore) -> Void)?
        if numerics {
            build = { (c: Int, s: PayloadStore) in
                let o = grid.offsets(of: c)!
                guard o.px == o.py else { return }
                var all: [Float] = []
                for l in layers { all += s[c, DecodeSlot.attnNorm(l)]; all += s[c, DecodeSlot.ffnNorm(l)] }
                s[c, DecodeSlot.prefillNorms] = all
            }
        }
        return PhaseProgram(grid: grid, collectiveSlots: (0, 1, 2), phases: [
            .begin(mark),
            .local(label: label, ops: { c in let o = grid.offsets(of: c)!; return o.px == o.py ? 2 * layers.count * plan.dLen(o.px) : 0 },
                   work: build),
            .custom(count: { c in
                let o = grid.offsets(of: c)!
                return o.px == o.py ? (o.py > 0 ? 1 : 0) + (o.py < side - 1 ? 1 : 0) : 1
            }, op: { c, k in
                let o = grid.offsets(of: c)!
                let bytes = max(1, 2 * layers.count * plan.dLen(o.px) * eb)
                if o.px == o.py {
                    let north = o.py > 0 ? columnNorth[o.px] : -1
                    return .send(route: k == 0 && north >= 0 ? north : columnSouth[o.px], bytes: bytes, buffer: DecodeSlot.prefillNorms)
                }
                // Below the diagonal the copy comes down (south-going, colour 1); above it, up (colour 0).
                return .recv(colour: o.py > o.px ? 1 : 0, buffer: DecodeSlot.prefillNorms)
            }),
            .end(mark),
        ])
    }

    /// Moves the last prompt token's hidden state from its row (split along X) into decode's
    /// layout (block i on every core of row i): each column sends its block to the diagonal core,
    /// which multicasts it along its row.
    private func lastTokenToDecodeLayout(routes: PrefillRoutes, grid: KernelGrid, plan: PrefillPlan,
                                         label: Int32, mark: Int32) throws -> PhaseProgram {
        let side = grid.rows, eb = engine.spec.elementBytes
        let row = plan.tokens.lastIndex(where: { !$0.isEmpty })!, index = plan.counts[row] - 1
        var toDiagonal = [Int32](repeating: -1, count: side)
        for j in 0..<side where j != row {
            toDiagonal[j] = try engine.routeXY(from: grid.core(px: j, py: row), to: grid.core(px: j, py: j), colour: 2)
        }
        let routesToDiagonal = toDiagonal, rowWest = routes.rowWest, rowEast = routes.rowEast
        var extract: (@Sendable (Int, PayloadStore) -> Void)?
        if engine.store != nil {
            extract = { (c: Int, s: PayloadStore) in
                let o = grid.offsets(of: c)!
                guard o.py == row else { return }
                let w = plan.dLen(o.px)
                s[c, DecodeSlot.x] = Array(s[c, DecodeSlot.hidden][(index * w)..<((index + 1) * w)])
            }
        }
        return PhaseProgram(grid: grid, collectiveSlots: (0, 1, 2), phases: [
            .begin(mark),
            .local(label: label, ops: { c in grid.offsets(of: c)!.py == row ? 1 : 0 }, work: extract),
            .custom(count: { c in
                let o = grid.offsets(of: c)!
                var n = 0
                if o.py == row && o.px != row { n += 1 }                            // send to the diagonal
                if o.px == o.py {
                    if o.py != row { n += 1 }                                       // receive it
                    n += (o.px > 0 ? 1 : 0) + (o.px < side - 1 ? 1 : 0)             // multicast along the row
                } else {
                    n += 1                                                          // receive the row's copy
                }
                return n
            }, op: { c, k in
                let o = grid.offsets(of: c)!
                let bytes = max(1, plan.dLen(o.px == o.py ? o.px : o.py) * eb)
                var k = k
                if o.py == row && o.px != row {
                    if k == 0 { return .send(route: routesToDiagonal[o.px], bytes: max(1, plan.dLen(o.px) * eb), buffer: DecodeSlot.x) }
                    k -= 1
                }
                if o.px == o.py {
                    if o.py != row {
                        if k == 0 { return .recv(colour: 2, buffer: DecodeSlot.x) }
                        k -= 1
                    }
                    if o.px > 0 && k == 0 { return .send(route: rowWest[o.py], bytes: bytes, buffer: DecodeSlot.x) }
                    return .send(route: rowEast[o.py], bytes: bytes, buffer: DecodeSlot.x)
                }
                // West of the diagonal the copy travels west (colour 3); east of it, east (colour 4).
                return .recv(colour: o.px < o.py ? 3 : 4, buffer: DecodeSlot.x)
            }),
            .end(mark),
        ])
    }
}
