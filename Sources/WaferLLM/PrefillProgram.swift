import Foundation
import WaferKernels
import WaferMesh
import WaferModel

/// Where a prompt's tokens and activations sit during prefill on a P×P decode grid.
///
/// Activations are laid out B·L_y·E_x: physical row `py` holds the prompt tokens the KV cache will
/// keep on that row (`tokens[py]`, contiguous and increasing), column `px` holds the embedding
/// block `dRange[px]` (the same split decode uses along Y). The weights stay in the decode layout.
/// Every step of the GEMMs is charged padded tiles of `mt` tokens (the most any row holds).
struct PrefillPlan: Sendable {
    let layout: DecodeLayout
    /// Token positions per physical row.
    let tokens: [[Int]]
    /// Tokens per row, and the padded tile height.
    let counts: [Int]
    let mt: Int

    init(layout: DecodeLayout, tokens: [[Int]]) {
        self.layout = layout
        self.tokens = tokens
        counts = tokens.map(\.count)
        mt = max(1, counts.max() ?? 1)
    }

    var config: ModelConfig { layout.config }
    func dLen(_ i: Int) -> Int { layout.dRange[i].count }
    func qLen(_ j: Int) -> Int { layout.queryIndex[j].count }
    func kvLen(_ j: Int) -> Int { layout.kvRange[j].count }
    func fLen(_ j: Int) -> Int { layout.ffnRange[j].count }
    var dMax: Int { layout.dRange.map(\.count).max() ?? 0 }
    var qMax: Int { layout.queryIndex.map(\.count).max() ?? 0 }
    var kvMax: Int { layout.kvRange.map(\.count).max() ?? 0 }
    var fMax: Int { layout.ffnRange.map(\.count).max() ?? 0 }

    /// Bytes of a core's prefill working buffers (padded), allocated for the whole prefill.
    func activationBytes(elementBytes eb: Int) -> Int {
        let h = config.headCount, m = mt
        let hidden = m * dMax, normed = m * dMax, out = m * max(qMax + 2 * kvMax, 2 * fMax, dMax)
        let q = m * qMax, scores = m * h * m, ctx = m * qMax, act = m * fMax
        let norms = 2 * config.layerCount * dMax, acc = max(m * h * m, m * dMax, m * h)
        return (hidden + normed + out + q + scores + ctx + act + norms + 3 * acc) * eb
    }
}

/// Builds the runs of one prefill layer: RMSNorm with row allreduces, MeshGEMM projections against
/// the resident decode tiles, RoPE and the KV cache written where decode will read it, head-aware
/// GEMM-T for Q·Kᵀ, softmax with row allreduces, head-aware MeshGEMM for P·V, and GEMM-T for O and
/// down (their decode tiles have K along X). Nothing is transposed.
struct PrefillProgramBuilder {
    let plan: PrefillPlan
    let grid: KernelGrid
    /// Allreduce along X (decode's routes, colours 9–17).
    let xPlan: LinePlanHandle
    let meshRoutes: ResidentGEMM.Routes
    let gemmtRoutes: ResidentGEMM.Routes
    let labels: [String: Int32]
    let numerics: Bool
    /// What every layer's runs depend on but their weights and cache slots (the plan, routes and
    /// grid); nil: they are always simulated. Each run is replayable under this and its part.
    let replayKey: AnyHashable?

    /// One run on the engine: SPMD phases or a resident GEMM.
    enum Run {
        case phases(PhaseProgram)
        case gemm(ResidentGEMM)
    }

    private var collectiveSlots: (acc: Int32, incoming: Int32, staging: Int32) {
        (DecodeSlot.acc, DecodeSlot.incoming, DecodeSlot.staging)
    }

    private func local(_ name: String, _ ops: @escaping @Sendable (Int, Int) -> Int,
                       _ work: @escaping @Sendable (Int, Int, Int, PayloadStore) -> Void) -> PhaseProgram.Phase {
        let grid = self.grid
        let opsFn: @Sendable (Int) -> Int = { c in
            let o = grid.offsets(of: c)!
            return ops(o.py, o.px)
        }
        var workFn: (@Sendable (Int, PayloadStore) -> Void)?
        if numerics {
            workFn = { c, s in
                let o = grid.offsets(of: c)!
                work(c, o.py, o.px, s)
            }
        }
        return .local(label: labels[name] ?? -1, ops: opsFn, work: workFn)
    }

    /// Part `part` of a layer (its place among the layer's runs), marked `inv`.
    private func phases(_ part: Int, _ inv: Int32, _ list: [PhaseProgram.Phase]) -> Run {
        let p = PhaseProgram(grid: grid, collectiveSlots: collectiveSlots, phases: list)
        guard let replayKey else { return .phases(p) }
        return .phases(p.replayable(key: [replayKey, AnyHashable(part)], invocations: [inv]))
    }

    /// RMSNorm of the residual rows: Σx² per token, allreduce along X, scale by the norm weights
    /// (`normOffset` 0: attention, 1: FFN, within the layer's copy in `DecodeSlot.prefillNorms`);
    /// also zeroes C for the next MeshGEMM (`outWidth(px)` columns).
    private func rmsNorm(layer l: Int, normOffset: Int, addOut: Bool, outWidth: @escaping @Sendable (Int) -> Int) -> [PhaseProgram.Phase] {
        let plan = self.plan, d = plan.config.embeddingLength, eps = plan.config.rmsNormEpsilon
        let name = addOut ? "prefill residual + rmsnorm" : "prefill rmsnorm"
        let sums = local(name, { i, j in (addOut ? 2 : 1) * plan.counts[i] * plan.dLen(j) }) { c, i, j, s in
            let m = plan.counts[i], w = plan.dLen(j)
            if addOut { TileMath.add(&s[c, DecodeSlot.hidden], s[c, DecodeSlot.out]) }
            let x = s[c, DecodeSlot.hidden]
            s[c, DecodeSlot.acc] = (0..<m).map { t in (0..<w).reduce(Float(0)) { $0 + x[t * w + $1] * x[t * w + $1] } }
        }
        let apply = local("prefill norm apply", { i, j in 2 * plan.counts[i] * plan.dLen(j) }) { c, i, j, s in
            let m = plan.counts[i], w = plan.dLen(j)
            let x = s[c, DecodeSlot.hidden], sq = s[c, DecodeSlot.acc], norms = s[c, DecodeSlot.prefillNorms]
            let base = (2 * l + normOffset) * w
            var h = [Float](repeating: 0, count: m * w)
            for t in 0..<m {
                let r = 1 / (sq[t] / Float(d) + eps).squareRoot()
                for e in 0..<w { h[t * w + e] = x[t * w + e] * r * norms[base + e] }
            }
            s[c, DecodeSlot.normed] = h
            s[c, DecodeSlot.out] = [Float](repeating: 0, count: m * outWidth(j))
        }
        return [sums, .collective(xPlan.carrying(perLine: plan.counts.map { max(1, $0) })), apply]
    }

    /// The runs of layer `l`; `mark(part, params)` makes the kernel marks.
    func layer(_ l: Int, mark: (String, [String: String]) -> Int32, engine: MeshEngine) -> [Run] {
        let plan = self.plan, cfg = plan.config, layout = plan.layout
        let g = cfg.groupSize, hd = cfg.headDim, heads = cfg.headCount, base = cfg.ropeFreqBase
        let scale = 1 / Float(hd).squareRoot()
        let m = plan.mt, side = grid.rows, L = plan.counts.reduce(0, +)
        let d = cfg.embeddingLength, q = cfg.queryDim, kv = cfg.kvDim, f = cfg.feedForwardLength
        let numerics = self.numerics, grid = self.grid
        var runs: [Run] = []
        func gemmMark(_ op: String, _ algorithm: String, k: Int, n: Int) -> Int32 {
            mark("\(algorithm) \(op)", ["kernel": "gemm", "algorithm": "\(algorithm)-resident", "op": op,
                                         "m": "\(L)", "k": "\(k)", "n": "\(n)", "grid": "\(side)x\(side)"])
        }
        func gemm(_ routes: ResidentGEMM.Routes, a: Int32, b: Int32, c: Int32, tiles: ResidentGEMM.Tiles, inv: Int32,
                  label: String, product: @escaping ResidentGEMM.Product) -> Run {
            let slots = ResidentGEMM.Slots(a: a, b: b, c: c, acc: DecodeSlot.acc, incoming: DecodeSlot.incoming, staging: DecodeSlot.staging)
            let g = ResidentGEMM(routes: routes, engine: engine, slots: slots, tiles: tiles, invocation: inv, label: label,
                                 product: numerics ? product : nil)
            guard let replayKey else { return .gemm(g) }
            return .gemm(g.replayable(key: [replayKey, AnyHashable(runs.count)]))
        }
        let qkvWidth: @Sendable (Int) -> Int = { j in plan.qLen(j) + 2 * plan.kvLen(j) }

        // Attention RMSNorm, then QKV = h · Wqkv (MeshGEMM; Wqkv is B, resident).
        let norm1 = mark("rmsnorm", ["kernel": "rmsnorm"])
        runs.append(phases(runs.count, norm1, [.begin(norm1)] + rmsNorm(layer: l, normOffset: 0, addOut: false, outWidth: qkvWidth) + [.end(norm1)]))
        let wideQKV = plan.qMax + 2 * plan.kvMax
        runs.append(gemm(meshRoutes, a: DecodeSlot.normed, b: DecodeSlot.wqkv(l), c: DecodeSlot.out,
                         tiles: .init(macs: m * plan.dMax * wideQKV, aElements: m * plan.dMax, bElements: plan.dMax * wideQKV, cElements: m * wideQKV),
                         inv: gemmMark("qkv", "meshgemm", k: d, n: q + 2 * kv), label: "prefill qkv tile gemm") { c, _, s in
            let o = grid.offsets(of: c)!
            let rows = plan.counts[o.py], n = qkvWidth(o.px)
            guard rows > 0, n > 0 else { return }
            TileMath.gemmAccumulate(s[c, DecodeSlot.normed], s[c, DecodeSlot.wqkv(l)], &s[c, DecodeSlot.out],
                                    m: rows, k: s[c, DecodeSlot.wqkv(l)].count / n, n: n)
        })

        // RoPE on q and k of every token; K and V become this row's cache entries (decode's layout).
        let rope = mark("rope + kv write", ["kernel": "elementwise"])
        runs.append(phases(runs.count, rope, [.begin(rope), local("prefill rope + kv write", { i, j in 2 * plan.counts[i] * (plan.qLen(j) + plan.kvLen(j)) }) { c, i, j, s in
            let rows = plan.counts[i], qn = plan.qLen(j), e = plan.kvLen(j), w = qn + 2 * e
            let kvr = layout.kvRange[j]
            var out = s[c, DecodeSlot.out]
            var qs = [Float](repeating: 0, count: rows * qn), ks = [Float](repeating: 0, count: rows * e)
            var vs = [Float](repeating: 0, count: rows * e)
            for t in 0..<rows {
                let pos = plan.tokens[i][t], o = t * w
                for pair in stride(from: 0, to: e, by: 2) {
                    let dim = kvr.lowerBound + pair
                    let theta = Double(pos) * pow(Double(base), -Double(dim % hd) / Double(hd))
                    let cs = Float(cos(theta)), sn = Float(sin(theta))
                    for rr in 0..<g {
                        let a = o + pair * g + rr, b = o + (pair + 1) * g + rr
                        let x0 = out[a], x1 = out[b]
                        out[a] = x0 * cs - x1 * sn
                        out[b] = x0 * sn + x1 * cs
                    }
                    let x0 = out[o + qn + pair], x1 = out[o + qn + pair + 1]
                    out[o + qn + pair] = x0 * cs - x1 * sn
                    out[o + qn + pair + 1] = x0 * sn + x1 * cs
                }
                for x in 0..<qn { qs[t * qn + x] = out[o + x] }
                for x in 0..<e { ks[t * e + x] = out[o + qn + x]; vs[t * e + x] = out[o + qn + e + x] }
            }
            s[c, DecodeSlot.q] = qs
            s[c, DecodeSlot.kCache(l)] = ks
            s[c, DecodeSlot.vCache(l)] = vs
        }, .end(rope)]))

        // Scores S = Q·Kᵀ per head: GEMM-T with the K cache as B; core (b, i) keeps row i's scores
        // against row b's keys, [query token][head][key token].
        runs.append(gemm(gemmtRoutes, a: DecodeSlot.q, b: DecodeSlot.kCache(l), c: DecodeSlot.scores,
                         tiles: .init(macs: m * m * plan.qMax, aElements: m * plan.qMax, bElements: m * plan.kvMax, cElements: m * heads * m),
                         inv: gemmMark("q·kᵀ", "gemmt", k: q, n: L), label: "prefill q·kᵀ partial") { c, blk, s in
            let o = grid.offsets(of: c)!
            let rows = plan.counts[o.py], keys = plan.counts[blk], e = plan.kvLen(o.px), lo = layout.kvRange[o.px].lowerBound
            var part = [Float](repeating: 0, count: rows * heads * keys)
            let qs = s[c, DecodeSlot.q], ks = s[c, DecodeSlot.kCache(l)], qn = e * g
            for t in 0..<rows {
                for u in 0..<keys {
                    for el in 0..<e {
                        let kval = ks[u * e + el], group = (lo + el) / hd
                        for rr in 0..<g { part[(t * heads + group * g + rr) * keys + u] += qs[t * qn + el * g + rr] * kval }
                    }
                }
            }
            s[c, DecodeSlot.acc] = part
        })

        // Causal softmax along each query row: max and sum are allreduces along X.
        let soft = mark("softmax", ["kernel": "softmax"])
        let perRow = plan.counts.map { max(1, $0 * heads) }
        runs.append(phases(runs.count, soft, [
            .begin(soft),
            local("prefill softmax max", { i, j in plan.counts[i] * heads * plan.counts[j] }) { c, i, j, s in
                let rows = plan.counts[i], keys = plan.counts[j]
                var sc = s[c, DecodeSlot.scores]
                var mx = [Float](repeating: -.infinity, count: rows * heads)
                for t in 0..<rows {
                    for h in 0..<heads {
                        for u in 0..<keys {
                            let x = (t * heads + h) * keys + u
                            sc[x] = plan.tokens[j][u] > plan.tokens[i][t] ? -.infinity : sc[x] * scale
                            mx[t * heads + h] = max(mx[t * heads + h], sc[x])
                        }
                    }
                }
                s[c, DecodeSlot.scores] = sc
                s[c, DecodeSlot.acc] = mx
            },
            .collective(xPlan.carrying(perLine: perRow).reducing(.max)),
            local("prefill softmax exp", { i, j in plan.counts[i] * heads * plan.counts[j] }) { c, i, j, s in
                let rows = plan.counts[i], keys = plan.counts[j], mx = s[c, DecodeSlot.acc]
                var sc = s[c, DecodeSlot.scores]
                var sum = [Float](repeating: 0, count: rows * heads)
                for t in 0..<rows {
                    for h in 0..<heads {
                        for u in 0..<keys {
                            let x = (t * heads + h) * keys + u
                            let p = Foundation.exp(sc[x] - mx[t * heads + h])
                            sc[x] = p
                            sum[t * heads + h] += p
                        }
                    }
                }
                s[c, DecodeSlot.scores] = sc
                s[c, DecodeSlot.acc] = sum
            },
            .collective(xPlan.carrying(perLine: perRow)),
            local("prefill softmax scale", { i, j in plan.counts[i] * heads * plan.counts[j] }) { c, i, j, s in
                let rows = plan.counts[i], keys = plan.counts[j], sum = s[c, DecodeSlot.acc]
                var sc = s[c, DecodeSlot.scores]
                for t in 0..<rows {
                    for h in 0..<heads {
                        let inv = 1 / sum[t * heads + h]
                        for u in 0..<keys { sc[(t * heads + h) * keys + u] *= inv }
                    }
                }
                s[c, DecodeSlot.scores] = sc
                s[c, DecodeSlot.ctx] = [Float](repeating: 0, count: rows * plan.qLen(j))
            },
            .end(soft),
        ]))

        // Context = P·V per head: MeshGEMM with P as A (row i, key block b on column b) and the V cache as B.
        runs.append(gemm(meshRoutes, a: DecodeSlot.scores, b: DecodeSlot.vCache(l), c: DecodeSlot.ctx,
                         tiles: .init(macs: m * m * plan.qMax, aElements: m * heads * m, bElements: m * plan.kvMax, cElements: m * plan.qMax),
                         inv: gemmMark("p·v", "meshgemm", k: L, n: q), label: "prefill p·v tile gemm") { c, blk, s in
            let o = grid.offsets(of: c)!
            let rows = plan.counts[o.py], keys = plan.counts[blk], e = plan.kvLen(o.px), lo = layout.kvRange[o.px].lowerBound
            guard rows > 0, keys > 0 else { return }
            let p = s[c, DecodeSlot.scores], vs = s[c, DecodeSlot.vCache(l)]
            var ctx = s[c, DecodeSlot.ctx]
            let qn = e * g
            for t in 0..<rows {
                for u in 0..<keys {
                    for el in 0..<e {
                        let vv = vs[u * e + el], group = (lo + el) / hd
                        for rr in 0..<g { ctx[t * qn + el * g + rr] += p[(t * heads + group * g + rr) * keys + u] * vv }
                    }
                }
            }
            s[c, DecodeSlot.ctx] = ctx
        })

        // O = ctx · W_O: GEMM-T against the decode tiles (K along X); core (b, i) keeps x's block b.
        runs.append(gemm(gemmtRoutes, a: DecodeSlot.ctx, b: DecodeSlot.wo(l), c: DecodeSlot.out,
                         tiles: .init(macs: m * plan.qMax * plan.dMax, aElements: m * plan.qMax, bElements: plan.qMax * plan.dMax, cElements: m * plan.dMax),
                         inv: gemmMark("o", "gemmt", k: q, n: d), label: "prefill o partial") { c, blk, s in
            let o = grid.offsets(of: c)!
            let rows = plan.counts[o.py], n = plan.dLen(blk), k = plan.qLen(o.px)
            var part = [Float](repeating: 0, count: rows * n)
            if rows > 0, n > 0, k > 0 { TileMath.gemmAccumulate(s[c, DecodeSlot.ctx], s[c, DecodeSlot.wo(l)], &part, m: rows, k: k, n: n) }
            s[c, DecodeSlot.acc] = part
        })

        // Residual, FFN RMSNorm, gate|up (MeshGEMM), SwiGLU, down (GEMM-T), residual.
        let gateWidth: @Sendable (Int) -> Int = { j in 2 * plan.fLen(j) }
        let norm2 = mark("residual + rmsnorm", ["kernel": "rmsnorm"])
        runs.append(phases(runs.count, norm2, [.begin(norm2)] + rmsNorm(layer: l, normOffset: 1, addOut: true, outWidth: gateWidth) + [.end(norm2)]))
        runs.append(gemm(meshRoutes, a: DecodeSlot.normed, b: DecodeSlot.wgu(l), c: DecodeSlot.out,
                         tiles: .init(macs: m * plan.dMax * 2 * plan.fMax, aElements: m * plan.dMax, bElements: plan.dMax * 2 * plan.fMax, cElements: m * 2 * plan.fMax),
                         inv: gemmMark("gate|up", "meshgemm", k: d, n: 2 * f), label: "prefill gate|up tile gemm") { c, _, s in
            let o = grid.offsets(of: c)!
            let rows = plan.counts[o.py], n = gateWidth(o.px)
            guard rows > 0, n > 0 else { return }
            TileMath.gemmAccumulate(s[c, DecodeSlot.normed], s[c, DecodeSlot.wgu(l)], &s[c, DecodeSlot.out],
                                    m: rows, k: s[c, DecodeSlot.wgu(l)].count / n, n: n)
        })
        let swiglu = mark("swiglu", ["kernel": "elementwise"])
        runs.append(phases(runs.count, swiglu, [.begin(swiglu), local("prefill swiglu", { i, j in 2 * plan.counts[i] * plan.fLen(j) }) { c, i, j, s in
            let rows = plan.counts[i], fl = plan.fLen(j), gu = s[c, DecodeSlot.out]
            var act = [Float](repeating: 0, count: rows * fl)
            for t in 0..<rows { for x in 0..<fl { act[t * fl + x] = ReferenceModel.silu(gu[t * 2 * fl + x]) * gu[t * 2 * fl + fl + x] } }
            s[c, DecodeSlot.act] = act
        }, .end(swiglu)]))
        runs.append(gemm(gemmtRoutes, a: DecodeSlot.act, b: DecodeSlot.wdown(l), c: DecodeSlot.out,
                         tiles: .init(macs: m * plan.fMax * plan.dMax, aElements: m * plan.fMax, bElements: plan.fMax * plan.dMax, cElements: m * plan.dMax),
                         inv: gemmMark("down", "gemmt", k: f, n: d), label: "prefill down partial") { c, blk, s in
            let o = grid.offsets(of: c)!
            let rows = plan.counts[o.py], n = plan.dLen(blk), k = plan.fLen(o.px)
            var part = [Float](repeating: 0, count: rows * n)
            if rows > 0, n > 0, k > 0 { TileMath.gemmAccumulate(s[c, DecodeSlot.act], s[c, DecodeSlot.wdown(l)], &part, m: rows, k: k, n: n) }
            s[c, DecodeSlot.acc] = part
        })
        let residual = mark("residual", ["kernel": "elementwise"])
        runs.append(phases(runs.count, residual, [.begin(residual), local("prefill residual", { i, j in plan.counts[i] * plan.dLen(j) }) { c, _, _, s in
            TileMath.add(&s[c, DecodeSlot.hidden], s[c, DecodeSlot.out])
        }, .end(residual)]))
        return runs
    }
}
