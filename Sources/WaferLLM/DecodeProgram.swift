import Foundation
import WaferKernels
import WaferMesh
import WaferModel

/// Builds the `PhaseProgram`s of one decode step: one per layer, then the LM head.
///
/// Every phase is SPMD over the grid; the numbers move only through the collectives and the KV
/// shift, exactly as the cores would move them. Local arithmetic counts one op per
/// multiply-accumulate or element operation.
struct DecodeProgramBuilder {
    let layout: DecodeLayout
    let grid: KernelGrid
    let yPlan: LinePlanHandle
    let xPlan: LinePlanHandle
    let shiftRoutes: [Int32]
    let labels: [String: Int32]
    let numerics: Bool
    let elementBytes: Int

    /// What this step does to the KV cache, decided by the host.
    struct Step {
        var position: Int
        var phase: String
        var counts: [Int]          // tokens per row after the append and shift
        var appendRow: Int
        var senders: Set<Int>      // rows passing their oldest entry up
    }

    private func label(_ s: String) -> Int32 { labels[s] ?? -1 }

    /// A local phase whose op count and arithmetic are functions of the core's (row, column).
    static func localPhase(label: Int32, grid: KernelGrid, numerics: Bool,
                           ops: @escaping @Sendable (Int, Int) -> Int,
                           work: @escaping @Sendable (Int, Int, Int, PayloadStore) -> Void) -> PhaseProgram.Phase {
        let opsFn: @Sendable (Int) -> Int = { c in
            let p = place(grid, c)
            return ops(p.i, p.j)
        }
        var workFn: (@Sendable (Int, PayloadStore) -> Void)?
        if numerics {
            workFn = { c, s in
                let p = place(grid, c)
                work(c, p.i, p.j, s)
            }
        }
        return .local(label: label, ops: opsFn, work: workFn)
    }

    /// Row i and column j of a core (only called for cores of the grid).
    @inline(__always) private static func place(_ grid: KernelGrid, _ core: Int) -> (i: Int, j: Int) {
        let o = grid.offsets(of: core)!
        return (o.py, o.px)
    }

    /// - Parameter invocations: the kernel marks of this layer's parts: norm1, qkv, attention, o,
    ///   norm2, gateup, down, residual (each wraps its phases; none nest).
    func layer(_ l: Int, step: Step, invocations inv: [String: Int32]) -> PhaseProgram {
        let layout = self.layout, grid = self.grid, cfg = layout.config
        let g = cfg.groupSize, hd = cfg.headDim, heads = cfg.headCount, d = cfg.embeddingLength
        let eps = cfg.rmsNormEpsilon, base = cfg.ropeFreqBase, pos = step.position
        let counts = step.counts, appendRow = step.appendRow, senders = step.senders
        let scale = 1 / Float(hd).squareRoot()
        let kvLen: @Sendable (Int) -> Int = { j in layout.kvRange[j].count }
        let qLen: @Sendable (Int) -> Int = { j in layout.queryIndex[j].count }
        let dLen: @Sendable (Int) -> Int = { i in layout.dRange[i].count }
        let fLen: @Sendable (Int) -> Int = { j in layout.ffnRange[j].count }
        let numerics = self.numerics
        func P(_ s: String) -> Int32 { label(s) }
        func local(_ name: String, _ ops: @escaping @Sendable (Int, Int) -> Int,
                   _ work: @escaping @Sendable (Int, Int, Int, PayloadStore) -> Void) -> PhaseProgram.Phase {
            Self.localPhase(label: P(name), grid: grid, numerics: numerics, ops: ops, work: work)
        }
        var phases: [PhaseProgram.Phase] = [.begin(inv["norm1"]!)]
        // Attention RMSNorm: Σx² along Y.
        phases.append(local("rmsnorm", { i, _ in dLen(i) }) { c, _, _, s in
            s[c, DecodeSlot.acc] = [s[c, DecodeSlot.x].reduce(0) { $0 + $1 * $1 }]
        })
        phases.append(.collective(yPlan.carrying(1)))
        phases.append(.end(inv["norm1"]!))
        // QKV GEMV (reduce along Y).
        phases.append(.begin(inv["qkv"]!))
        phases.append(local("qkv gemv", { i, j in dLen(i) + dLen(i) * (qLen(j) + 2 * kvLen(j)) }) { c, _, j, s in
            let x = s[c, DecodeSlot.x], w = s[c, DecodeSlot.attnNorm(l)]
            let r = 1 / (s[c, DecodeSlot.acc][0] / Float(d) + eps).squareRoot()
            let h = (0..<x.count).map { x[$0] * r * w[$0] }
            s[c, DecodeSlot.acc] = TileMath.gemv(h, s[c, DecodeSlot.wqkv(l)], k: h.count, n: qLen(j) + 2 * kvLen(j))
        })
        phases.append(.collective(yPlan.carrying(perLine: (0..<layout.cols).map { qLen($0) + 2 * kvLen($0) })))
        phases.append(.end(inv["qkv"]!))
        phases.append(.begin(inv["attention"]!))
        // RoPE on q and k, append k and v on the append row, stage the oldest entry on shifting rows.
        phases.append(local("rope + kv append", { _, j in 2 * (qLen(j) + kvLen(j)) }) { c, i, j, s in
            var v = s[c, DecodeSlot.acc]
            let kv = layout.kvRange[j], q = qLen(j), e = kvLen(j)
            for pair in stride(from: 0, to: e, by: 2) {
                let dim = kv.lowerBound + pair
                let theta = Double(pos) * pow(Double(base), -Double(dim % hd) / Double(hd))
                let cs = Float(cos(theta)), sn = Float(sin(theta))
                // The pair's query dims: (pair, rr) and (pair + 1, rr) for each head rr of the group.
                for rr in 0..<g {
                    let a = pair * g + rr, b = (pair + 1) * g + rr
                    let x0 = v[a], x1 = v[b]
                    v[a] = x0 * cs - x1 * sn
                    v[b] = x0 * sn + x1 * cs
                }
                let x0 = v[q + pair], x1 = v[q + pair + 1]
                v[q + pair] = x0 * cs - x1 * sn
                v[q + pair + 1] = x0 * sn + x1 * cs
            }
            s[c, DecodeSlot.qkv] = v
            if senders.contains(i) {
                var kc = s[c, DecodeSlot.kCache(l)], vc = s[c, DecodeSlot.vCache(l)]
                if i == appendRow { kc += v[q..<(q + e)]; vc += v[(q + e)..<(q + 2 * e)] }
                s[c, DecodeSlot.shiftOut] = Array(kc[0..<e]) + Array(vc[0..<e])
                s[c, DecodeSlot.kCache(l)] = Array(kc[e...])
                s[c, DecodeSlot.vCache(l)] = Array(vc[e...])
            } else if i == appendRow {
                s[c, DecodeSlot.kCache(l)] += v[q..<(q + e)]
                s[c, DecodeSlot.vCache(l)] += v[(q + e)..<(q + 2 * e)]
            }
        })
        if !senders.isEmpty {
            let routes = shiftRoutes
            let colourBase = Int32(18)
            let eb = elementBytes
            let bytesPerEntry: @Sendable (Int) -> Int = { j in 2 * kvLen(j) * eb }
            phases.append(.custom(count: { c in
                let (i, _) = Self.place(grid, c)
                return (senders.contains(i) ? 1 : 0) + (senders.contains(i + 1) ? 1 : 0)
            }, op: { c, k in
                let (i, j) = Self.place(grid, c)
                if senders.contains(i) && k == 0 {
                    return .send(route: routes[c], bytes: max(1, bytesPerEntry(j)), buffer: DecodeSlot.shiftOut)
                }
                return .recv(colour: colourBase + Int32((i + 1) % 2), buffer: DecodeSlot.shiftIn)
            }))
            phases.append(local("kv shift in", { i, j in senders.contains(i + 1) ? 2 * kvLen(j) : 0 }) { c, i, j, s in
                guard senders.contains(i + 1) else { return }
                let e = kvLen(j), got = s[c, DecodeSlot.shiftIn]
                s[c, DecodeSlot.kCache(l)] += got[0..<e]
                s[c, DecodeSlot.vCache(l)] += got[e..<(2 * e)]
            })
        }
        // Scores: per local token and head, partial dot products over the column's dims; sum along X.
        phases.append(local("attention scores", { i, j in counts[i] * qLen(j) }) { c, i, j, s in
            let v = s[c, DecodeSlot.qkv], kc = s[c, DecodeSlot.kCache(l)]
            let e = kvLen(j), kv = layout.kvRange[j], t = counts[i]
            var out = [Float](repeating: 0, count: t * heads)
            for tok in 0..<t {
                for el in 0..<e {
                    let kval = kc[tok * e + el], group = (kv.lowerBound + el) / hd
                    for rr in 0..<g { out[tok * heads + group * g + rr] += v[el * g + rr] * kval }
                }
            }
            s[c, DecodeSlot.acc] = out
        })
        phases.append(.collective(xPlan.carrying(perLine: counts.map { $0 * heads })))
        // Softmax over all tokens: max along Y, exp, sum along Y.
        phases.append(local("softmax max", { i, _ in counts[i] * heads }) { c, i, _, s in
            let sc = s[c, DecodeSlot.acc].map { $0 * scale }
            s[c, DecodeSlot.scores] = sc
            var m = [Float](repeating: -.infinity, count: heads)
            for tok in 0..<counts[i] { for h in 0..<heads { m[h] = max(m[h], sc[tok * heads + h]) } }
            s[c, DecodeSlot.acc] = m
        })
        phases.append(.collective(yPlan.carrying(heads).reducing(.max)))
        phases.append(local("softmax exp", { i, _ in counts[i] * heads }) { c, i, _, s in
            let m = s[c, DecodeSlot.acc]
            var sc = s[c, DecodeSlot.scores]
            var sum = [Float](repeating: 0, count: heads)
            for tok in 0..<counts[i] {
                for h in 0..<heads {
                    let p = Foundation.exp(sc[tok * heads + h] - m[h])
                    sc[tok * heads + h] = p
                    sum[h] += p
                }
            }
            s[c, DecodeSlot.scores] = sc
            s[c, DecodeSlot.acc] = sum
        })
        phases.append(.collective(yPlan.carrying(heads)))
        // Context: Σ_t p·V over local tokens for the column's query dims; sum along Y.
        phases.append(local("attention context", { i, j in counts[i] * qLen(j) }) { c, i, j, s in
            let inverse = s[c, DecodeSlot.acc].map { 1 / $0 }, p = s[c, DecodeSlot.scores], vc = s[c, DecodeSlot.vCache(l)]
            let e = kvLen(j), kv = layout.kvRange[j]
            var ctx = [Float](repeating: 0, count: e * g)
            for tok in 0..<counts[i] {
                for el in 0..<e {
                    let vv = vc[tok * e + el], group = (kv.lowerBound + el) / hd
                    for rr in 0..<g { let h = group * g + rr; ctx[el * g + rr] += p[tok * heads + h] * inverse[h] * vv }
                }
            }
            s[c, DecodeSlot.acc] = ctx
        })
        phases.append(.collective(yPlan.carrying(perLine: (0..<layout.cols).map(qLen))))
        phases.append(.end(inv["attention"]!))
        // O projection (reduce along X) and the residual.
        phases.append(.begin(inv["o"]!))
        phases.append(local("o gemv", { i, j in qLen(j) * dLen(i) }) { c, i, _, s in
            s[c, DecodeSlot.acc] = TileMath.gemv(s[c, DecodeSlot.acc], s[c, DecodeSlot.wo(l)], k: s[c, DecodeSlot.acc].count, n: dLen(i))
        })
        phases.append(.collective(xPlan.carrying(perLine: (0..<layout.rows).map(dLen))))
        phases.append(.end(inv["o"]!))
        phases.append(.begin(inv["norm2"]!))
        phases.append(local("residual + rmsnorm", { i, _ in 2 * dLen(i) }) { c, _, _, s in
            var x = s[c, DecodeSlot.x]
            TileMath.add(&x, s[c, DecodeSlot.acc])
            s[c, DecodeSlot.x] = x
            s[c, DecodeSlot.acc] = [x.reduce(0) { $0 + $1 * $1 }]
        })
        phases.append(.collective(yPlan.carrying(1)))
        phases.append(.end(inv["norm2"]!))
        // FFN: gate|up (reduce along Y), SwiGLU, down (reduce along X), residual.
        phases.append(.begin(inv["gateup"]!))
        phases.append(local("gate|up gemv", { i, j in dLen(i) + dLen(i) * 2 * fLen(j) }) { c, _, j, s in
            let x = s[c, DecodeSlot.x], w = s[c, DecodeSlot.ffnNorm(l)]
            let r = 1 / (s[c, DecodeSlot.acc][0] / Float(d) + eps).squareRoot()
            let h = (0..<x.count).map { x[$0] * r * w[$0] }
            s[c, DecodeSlot.acc] = TileMath.gemv(h, s[c, DecodeSlot.wgu(l)], k: h.count, n: 2 * fLen(j))
        })
        phases.append(.collective(yPlan.carrying(perLine: (0..<layout.cols).map { 2 * fLen($0) })))
        phases.append(.end(inv["gateup"]!))
        phases.append(.begin(inv["down"]!))
        phases.append(local("down gemv", { i, j in 2 * fLen(j) + fLen(j) * dLen(i) }) { c, i, j, s in
            let gu = s[c, DecodeSlot.acc], f = fLen(j)
            let act = (0..<f).map { ReferenceModel.silu(gu[$0]) * gu[f + $0] }
            s[c, DecodeSlot.acc] = TileMath.gemv(act, s[c, DecodeSlot.wdown(l)], k: f, n: dLen(i))
        })
        phases.append(.collective(xPlan.carrying(perLine: (0..<layout.rows).map(dLen))))
        phases.append(.end(inv["down"]!))
        phases.append(.begin(inv["residual"]!))
        phases.append(local("residual", { i, _ in dLen(i) }) { c, _, _, s in
            var x = s[c, DecodeSlot.x]
            TileMath.add(&x, s[c, DecodeSlot.acc])
            s[c, DecodeSlot.x] = x
        })
        phases.append(.end(inv["residual"]!))
        return PhaseProgram(grid: grid, collectiveSlots: (DecodeSlot.acc, DecodeSlot.incoming, DecodeSlot.staging), phases: phases)
    }

    /// Final RMSNorm and the LM head (reduce along Y: logits split along X, on every row).
    func head(norm: Int32, gemv: Int32) -> PhaseProgram {
        let layout = self.layout, grid = self.grid, cfg = layout.config
        let d = cfg.embeddingLength, eps = cfg.rmsNormEpsilon, layers = cfg.layerCount
        let dLen: @Sendable (Int) -> Int = { i in layout.dRange[i].count }
        let vLen: @Sendable (Int) -> Int = { j in layout.vocabRange[j].count }
        let numerics = self.numerics
        var phases: [PhaseProgram.Phase] = [.begin(norm)]
        phases.append(Self.localPhase(label: label("rmsnorm"), grid: grid, numerics: numerics, ops: { i, _ in dLen(i) }) { c, _, _, s in
            s[c, DecodeSlot.acc] = [s[c, DecodeSlot.x].reduce(0) { $0 + $1 * $1 }]
        })
        phases.append(.collective(yPlan.carrying(1)))
        phases.append(.end(norm))
        phases.append(.begin(gemv))
        phases.append(Self.localPhase(label: label("lm head gemv"), grid: grid, numerics: numerics,
                                      ops: { i, j in dLen(i) + dLen(i) * vLen(j) }) { c, _, j, s in
            let x = s[c, DecodeSlot.x], w = s[c, DecodeSlot.outNorm(layers: layers)]
            let r = 1 / (s[c, DecodeSlot.acc][0] / Float(d) + eps).squareRoot()
            let h = (0..<x.count).map { x[$0] * r * w[$0] }
            s[c, DecodeSlot.acc] = TileMath.gemv(h, s[c, DecodeSlot.lmHead(layers: layers)], k: h.count, n: vLen(j))
        })
        phases.append(.collective(yPlan.carrying(perLine: (0..<layout.cols).map(vLen))))
        phases.append(.end(gemv))
        return PhaseProgram(grid: grid, collectiveSlots: (DecodeSlot.acc, DecodeSlot.incoming, DecodeSlot.staging), phases: phases)
    }
}
