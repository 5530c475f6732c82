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
    /// Tells this builder's layers from another's in replay keys (`layerKey`).
    let identity = Identity()
    final class Identity: Sendable {}

    /// What this step does to the KV cache, decided by the host.
    struct Step {
        var position: Int
        var phase: String
        var counts: [Int]          // tokens per row after the append and shift
        var appendRow: Int
        var senders: Set<Int>      // rows passing their oldest entry up
    }

    private func label(_ s: String) -> Int32 { labels[s] ?? -1 }

    /// What a layer's ops depend on: the builder (its layout, plans and routes) and the KV
    /// cache's rows.
    struct LayerKey: Hashable {
        let builder: ObjectIdentifier
        let grid: KernelGrid
        let counts: [Int]
        let appendRow: Int
        let senders: [Int]
        let numerics: Bool
    }

    /// The replay key of every layer of `step` (`PhaseProgram.replayable`): layers differ only in
    /// the weights and cache slots their works read.
    func layerKey(_ step: Step) -> LayerKey {
        LayerKey(builder: ObjectIdentifier(identity), grid: grid, counts: step.counts, appendRow: step.appendRow, senders: step.senders.sorted(), numerics: numerics)
    }

    /// A local phase whose op counts are `ops` (data, read without a call on the engine's hot
    /// path) and whose arithmetic is `work(core, row, column, store)` (with numerics only).
    /// `buffers`: the slots `work` touches (prefetched ahead of a replayed work).
    static func localPhase(label: Int32, numerics: Bool, ops: GridOps, buffers: [Int32] = [],
                           work: @escaping @Sendable (Int, Int, Int, PayloadStore) -> Void) -> PhaseProgram.Phase {
        .grid(label: label, ops: ops, work: numerics ? work : nil, buffers: buffers)
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
        func local(_ name: String, _ ops: GridOps, _ buffers: [Int32],
                   _ work: @escaping @Sendable (Int, Int, Int, PayloadStore) -> Void) -> PhaseProgram.Phase {
            Self.localPhase(label: P(name), numerics: numerics, ops: ops, buffers: buffers, work: work)
        }
        typealias S = DecodeSlot
        // Op counts per row (i) and per column (j): every local phase does
        // row[i] + column[j] + rowScale[i] · columnScale[j] ops (`GridOps`).
        let rows = grid.rows, cols = grid.cols
        let dl = (0..<rows).map(dLen), ql = (0..<cols).map(qLen), kvl = (0..<cols).map(kvLen), fl = (0..<cols).map(fLen)
        let tokens = (0..<rows).map { counts[$0] }
        /// Whether row i passes its oldest entry up (rows past the grid's: no).
        let sendsRow = (0...rows).map { senders.contains($0) }
        func ops(row: [Int]? = nil, column: [Int]? = nil, rowScale: [Int]? = nil, columnScale: [Int]? = nil) -> GridOps {
            GridOps(rows: rows, cols: cols, row: row, column: column, rowScale: rowScale, columnScale: columnScale)
        }
        var phases: [PhaseProgram.Phase] = [.begin(inv["norm1"]!)]
        // Attention RMSNorm: Σx² along Y.
        phases.append(local("rmsnorm", ops(row: dl), [S.x, S.acc]) { c, _, _, s in
            DecodeMath.sumOfSquares(core: c, store: s)
        })
        phases.append(.collective(yPlan.carrying(1)))
        phases.append(.end(inv["norm1"]!))
        // QKV GEMV (reduce along Y).
        phases.append(.begin(inv["qkv"]!))
        phases.append(local("qkv gemv", ops(row: dl, rowScale: dl, columnScale: (0..<cols).map { ql[$0] + 2 * kvl[$0] }),
                             [S.acc, S.x, S.attnNorm(l), S.wqkv(l)]) { c, _, j, s in
            DecodeMath.normGEMV(core: c, store: s, norm: DecodeSlot.attnNorm(l), weights: DecodeSlot.wqkv(l),
                                n: qLen(j) + 2 * kvLen(j), d: d, eps: eps)
        })
        phases.append(.collective(yPlan.carrying(perLine: (0..<layout.cols).map { qLen($0) + 2 * kvLen($0) })))
        phases.append(.end(inv["qkv"]!))
        phases.append(.begin(inv["attention"]!))
        // RoPE on q and k, append k and v on the append row, stage the oldest entry on shifting rows.
        // cos and sin of every RoPE pair's angle at this position (they depend on dim % hd only).
        let rope = DecodeRoPE(position: pos, base: base, headDim: hd)
        phases.append(local("rope + kv append", ops(column: (0..<cols).map { 2 * (ql[$0] + kvl[$0]) }), [S.acc, S.qkv]) { c, i, j, s in
            let kv = layout.kvRange[j], q = qLen(j), e = kvLen(j)
            let n = s.withBuffer(c, DecodeSlot.acc) { $0.count }
            s.withBuffer(c, DecodeSlot.acc) { src in
                s.withMutableBuffer(c, DecodeSlot.qkv, count: n, zeroed: false) { v in
                    if n > 0 { v.baseAddress!.update(from: src.baseAddress!, count: n) }
                    for pair in stride(from: 0, to: e, by: 2) {
                        let (cs, sn) = rope.cosSin(dim: kv.lowerBound + pair)
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
                }
            }
            let sends = sendsRow[i]
            if i == appendRow {
                s.withBuffer(c, DecodeSlot.qkv) { v in
                    s[c, DecodeSlot.kCache(l)].append(contentsOf: UnsafeBufferPointer(rebasing: v[q..<(q + e)]))
                    s[c, DecodeSlot.vCache(l)].append(contentsOf: UnsafeBufferPointer(rebasing: v[(q + e)..<(q + 2 * e)]))
                }
            }
            if sends {
                // The oldest entry leaves: K then V into the shift buffer.
                s.withBuffer(c, DecodeSlot.kCache(l)) { kc in
                    s.withBuffer(c, DecodeSlot.vCache(l)) { vc in
                        precondition(kc.count >= e && vc.count >= e, "kv shift of an empty cache")
                        s.withMutableBuffer(c, DecodeSlot.shiftOut, count: 2 * e, zeroed: false) { out in
                            for k in 0..<e { out[k] = kc[k]; out[e + k] = vc[k] }
                        }
                    }
                }
                s[c, DecodeSlot.kCache(l)].removeFirst(e)
                s[c, DecodeSlot.vCache(l)].removeFirst(e)
            }
        })
        if !senders.isEmpty {
            let routes = shiftRoutes
            let colourBase = Int32(18)
            let eb = elementBytes
            let bytesPerEntry: @Sendable (Int) -> Int = { j in 2 * kvLen(j) * eb }
            phases.append(.custom(count: { c in
                let (i, _) = Self.place(grid, c)
                return (sendsRow[i] ? 1 : 0) + (sendsRow[i + 1] ? 1 : 0)
            }, op: { c, k in
                let (i, j) = Self.place(grid, c)
                if sendsRow[i] && k == 0 {
                    return .send(route: routes[c], bytes: max(1, bytesPerEntry(j)), buffer: DecodeSlot.shiftOut)
                }
                return .recv(colour: colourBase + Int32((i + 1) % 2), buffer: DecodeSlot.shiftIn)
            }))
            phases.append(local("kv shift in", ops(rowScale: (0..<rows).map { sendsRow[$0 + 1] ? 1 : 0 },
                                                   columnScale: kvl.map { 2 * $0 }),
                                 [S.shiftIn, S.kCache(l), S.vCache(l)]) { c, i, j, s in
                guard sendsRow[i + 1] else { return }
                let e = kvLen(j)
                s.withBuffer(c, DecodeSlot.shiftIn) { got in
                    s[c, DecodeSlot.kCache(l)].append(contentsOf: UnsafeBufferPointer(rebasing: got[0..<e]))
                    s[c, DecodeSlot.vCache(l)].append(contentsOf: UnsafeBufferPointer(rebasing: got[e..<(2 * e)]))
                }
            })
        }
        // Scores: per local token and head, partial dot products over the column's dims; sum along X.
        phases.append(local("attention scores", ops(rowScale: tokens, columnScale: ql), [S.qkv, S.kCache(l), S.acc]) { c, i, j, s in
            let e = kvLen(j), lo = layout.kvRange[j].lowerBound, t = counts[i]
            s.withBuffer(c, DecodeSlot.qkv) { v in
                s.withBuffer(c, DecodeSlot.kCache(l)) { kc in
                    s.withMutableBuffer(c, DecodeSlot.acc, count: t * heads, zeroed: true) { out in
                        precondition(kc.count >= t * e && v.count >= e * g, "attention shapes")
                        for tok in 0..<t {
                            for el in 0..<e {
                                let kval = kc[tok &* e &+ el], base = tok &* heads &+ ((lo &+ el) / hd) &* g
                                for rr in 0..<g { out[base &+ rr] += v[el &* g &+ rr] * kval }
                            }
                        }
                    }
                }
            }
        })
        phases.append(.collective(xPlan.carrying(perLine: counts.map { $0 * heads })))
        // Softmax over all tokens: max along Y, exp, sum along Y.
        phases.append(local("softmax max", ops(row: tokens.map { $0 * heads }), [S.acc, S.scores]) { c, i, _, s in
            let t = counts[i]
            s.withBuffer(c, DecodeSlot.acc) { a in
                s.withMutableBuffer(c, DecodeSlot.scores, count: a.count, zeroed: false) { sc in
                    for k in 0..<a.count { sc[k] = a[k] * scale }
                }
            }
            s.withBuffer(c, DecodeSlot.scores) { sc in
                precondition(sc.count >= t * heads, "softmax shapes")
                s.withMutableBuffer(c, DecodeSlot.acc, count: heads, zeroed: false) { m in
                    m.update(repeating: -.infinity)
                    for tok in 0..<t { for h in 0..<heads { m[h] = max(m[h], sc[tok &* heads &+ h]) } }
                }
            }
        })
        phases.append(.collective(yPlan.carrying(heads).reducing(.max)))
        phases.append(local("softmax exp", ops(row: tokens.map { $0 * heads }), [S.acc, S.scores]) { c, i, _, s in
            let t = counts[i]
            withUnsafeTemporaryAllocation(of: Float.self, capacity: heads) { sum in
                sum.update(repeating: 0)
                s.withBuffer(c, DecodeSlot.acc) { m in
                    precondition(m.count >= heads, "softmax shapes")
                    s[c, DecodeSlot.scores].withUnsafeMutableBufferPointer { sc in
                        for tok in 0..<t {
                            for h in 0..<heads {
                                let p = Foundation.exp(sc[tok &* heads &+ h] - m[h])
                                sc[tok &* heads &+ h] = p
                                sum[h] += p
                            }
                        }
                    }
                }
                s.withMutableBuffer(c, DecodeSlot.acc, count: heads, zeroed: false) { out in
                    for h in 0..<heads { out[h] = sum[h] }
                }
            }
        })
        phases.append(.collective(yPlan.carrying(heads)))
        // Context: Σ_t p·V over local tokens for the column's query dims; sum along Y.
        phases.append(local("attention context", ops(rowScale: tokens, columnScale: ql), [S.acc, S.scores, S.vCache(l)]) { c, i, j, s in
            let e = kvLen(j), lo = layout.kvRange[j].lowerBound, t = counts[i]
            withUnsafeTemporaryAllocation(of: Float.self, capacity: heads) { inverse in
                s.withBuffer(c, DecodeSlot.acc) { a in
                    precondition(a.count >= heads, "attention shapes")
                    for h in 0..<heads { inverse[h] = 1 / a[h] }
                }
                s.withBuffer(c, DecodeSlot.scores) { p in
                    s.withBuffer(c, DecodeSlot.vCache(l)) { vc in
                        precondition(vc.count >= t * e && p.count >= t * heads, "attention shapes")
                        s.withMutableBuffer(c, DecodeSlot.acc, count: e * g, zeroed: true) { ctx in
                            for tok in 0..<t {
                                for el in 0..<e {
                                    let vv = vc[tok &* e &+ el], group = (lo &+ el) / hd
                                    for rr in 0..<g {
                                        let h = group &* g &+ rr
                                        ctx[el &* g &+ rr] += p[tok &* heads &+ h] * inverse[h] * vv
                                    }
                                }
                            }
                        }
                    }
                }
            }
        })
        phases.append(.collective(yPlan.carrying(perLine: (0..<layout.cols).map(qLen))))
        phases.append(.end(inv["attention"]!))
        // O projection (reduce along X) and the residual.
        phases.append(.begin(inv["o"]!))
        phases.append(local("o gemv", ops(rowScale: dl, columnScale: ql), [S.wo(l), S.acc]) { c, i, _, s in
            let k = s.withBuffer(c, DecodeSlot.acc) { $0.count }
            DecodeMath.gemvInPlace(core: c, store: s, weights: DecodeSlot.wo(l), k: k, n: dLen(i)) { a, p in a[p] }
        })
        phases.append(.collective(xPlan.carrying(perLine: (0..<layout.rows).map(dLen))))
        phases.append(.end(inv["o"]!))
        phases.append(.begin(inv["norm2"]!))
        phases.append(local("residual + rmsnorm", ops(row: dl.map { 2 * $0 }), [S.acc, S.x]) { c, _, _, s in
            let t = DecodeMath.residual(core: c, store: s, squares: true)
            s.withMutableBuffer(c, DecodeSlot.acc, count: 1, zeroed: false) { $0[0] = t }
        })
        phases.append(.collective(yPlan.carrying(1)))
        phases.append(.end(inv["norm2"]!))
        // FFN: gate|up (reduce along Y), SwiGLU, down (reduce along X), residual.
        phases.append(.begin(inv["gateup"]!))
        phases.append(local("gate|up gemv", ops(row: dl, rowScale: dl, columnScale: fl.map { 2 * $0 }),
                             [S.acc, S.x, S.ffnNorm(l), S.wgu(l)]) { c, _, j, s in
            DecodeMath.normGEMV(core: c, store: s, norm: DecodeSlot.ffnNorm(l), weights: DecodeSlot.wgu(l),
                                n: 2 * fLen(j), d: d, eps: eps)
        })
        phases.append(.collective(yPlan.carrying(perLine: (0..<layout.cols).map { 2 * fLen($0) })))
        phases.append(.end(inv["gateup"]!))
        phases.append(.begin(inv["down"]!))
        phases.append(local("down gemv", ops(column: fl.map { 2 * $0 }, rowScale: dl, columnScale: fl), [S.wdown(l), S.acc]) { c, i, j, s in
            let f = fLen(j)
            precondition(s.withBuffer(c, DecodeSlot.acc) { $0.count } >= 2 * f, "gate|up shapes")
            DecodeMath.gemvInPlace(core: c, store: s, weights: DecodeSlot.wdown(l), k: f, n: dLen(i)) { gu, p in
                DecodeMath.silu(gu[p]) * gu[f &+ p]
            }
        })
        phases.append(.collective(xPlan.carrying(perLine: (0..<layout.rows).map(dLen))))
        phases.append(.end(inv["down"]!))
        phases.append(.begin(inv["residual"]!))
        phases.append(local("residual", ops(row: dl), [S.acc, S.x]) { c, _, _, s in
            DecodeMath.residual(core: c, store: s, squares: false)
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
        let rows = grid.rows, cols = grid.cols
        let dl = (0..<rows).map(dLen), vl = (0..<cols).map(vLen)
        phases.append(Self.localPhase(label: label("rmsnorm"), numerics: numerics,
                                      ops: GridOps(rows: rows, cols: cols, row: dl), buffers: [DecodeSlot.x, DecodeSlot.acc]) { c, _, _, s in
            DecodeMath.sumOfSquares(core: c, store: s)
        })
        phases.append(.collective(yPlan.carrying(1)))
        phases.append(.end(norm))
        phases.append(.begin(gemv))
        phases.append(Self.localPhase(label: label("lm head gemv"), numerics: numerics,
                                      ops: GridOps(rows: rows, cols: cols, row: dl, rowScale: dl, columnScale: vl),
                                      buffers: [DecodeSlot.acc, DecodeSlot.x, DecodeSlot.outNorm(layers: layers), DecodeSlot.lmHead(layers: layers)]) { c, _, j, s in
            DecodeMath.normGEMV(core: c, store: s, norm: DecodeSlot.outNorm(layers: layers), weights: DecodeSlot.lmHead(layers: layers),
                                n: vLen(j), d: d, eps: eps)
        })
        phases.append(.collective(yPlan.carrying(perLine: (0..<layout.cols).map(vLen))))
        phases.append(.end(gemv))
        return PhaseProgram(grid: grid, collectiveSlots: (DecodeSlot.acc, DecodeSlot.incoming, DecodeSlot.staging), phases: phases)
    }
}
