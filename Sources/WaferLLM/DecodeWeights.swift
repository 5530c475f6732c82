import WaferKernels
import WaferMesh
import WaferModel

/// Cuts a model's weights into the tiles each core of a decode grid holds (see `DecodeLayout`).
///
/// Every tile is stored input-major (`tile[in * outs + out]`), the orientation a local GEMV
/// `y = x · W` streams through.
enum DecodeWeights {
    /// Writes the tiles of `layers` (and the final norm and LM head when `head`) into the store.
    ///
    /// Tiles are made tensor by tensor, in the order a decode step reads them, every core's tile of
    /// one tensor after the other: the tiles a phase reads on neighbouring cores are then close in
    /// host memory (fewer cache and TLB misses per step than core-by-core placement).
    static func place(_ w: ModelWeights, layout: DecodeLayout, grid: KernelGrid, store: PayloadStore,
                      layers: Range<Int>, head: Bool) {
        func eachCore(_ body: (_ core: Int, _ dr: [Int], _ j: Int) -> Void) {
            for i in 0..<layout.rows {
                let dr = Array(layout.dRange[i])
                for j in 0..<layout.cols { body(grid.core(px: j, py: i), dr, j) }
            }
        }
        for l in layers {
            let lw = w.layers[l]
            eachCore { core, dr, _ in store[core, DecodeSlot.attnNorm(l)] = dr.map { lw.attnNorm[$0] } }
            // QKV: inputs dr, outputs q (permuted), k, v.
            eachCore { core, dr, j in
                let kv = Array(layout.kvRange[j]), qIdx = layout.queryIndex[j]
                store[core, DecodeSlot.wqkv(l)] = tile(ins: dr.count, outs: qIdx.count + 2 * kv.count) { out, outs in
                    fill(out, outs: outs, offset: 0, lw.attnQ, ins: dr, rows: qIdx)
                    fill(out, outs: outs, offset: qIdx.count, lw.attnK, ins: dr, rows: kv)
                    fill(out, outs: outs, offset: qIdx.count + kv.count, lw.attnV, ins: dr, rows: kv)
                }
            }
            // O: inputs the column's query dims (permuted), outputs dr.
            eachCore { core, dr, j in
                let qIdx = layout.queryIndex[j]
                store[core, DecodeSlot.wo(l)] = tile(ins: qIdx.count, outs: dr.count) { out, outs in
                    fill(out, outs: outs, offset: 0, lw.attnOutput, ins: qIdx, rows: dr)
                }
            }
            eachCore { core, dr, _ in store[core, DecodeSlot.ffnNorm(l)] = dr.map { lw.ffnNorm[$0] } }
            // Gate | up: inputs dr, outputs fr twice.
            eachCore { core, dr, j in
                let fr = Array(layout.ffnRange[j])
                store[core, DecodeSlot.wgu(l)] = tile(ins: dr.count, outs: 2 * fr.count) { out, outs in
                    fill(out, outs: outs, offset: 0, lw.ffnGate, ins: dr, rows: fr)
                    fill(out, outs: outs, offset: fr.count, lw.ffnUp, ins: dr, rows: fr)
                }
            }
            // Down: inputs fr, outputs dr.
            eachCore { core, dr, j in
                let fr = Array(layout.ffnRange[j])
                store[core, DecodeSlot.wdown(l)] = tile(ins: fr.count, outs: dr.count) { out, outs in
                    fill(out, outs: outs, offset: 0, lw.ffnDown, ins: fr, rows: dr)
                }
            }
            eachCore { core, _, _ in
                store[core, DecodeSlot.kCache(l)] = []
                store[core, DecodeSlot.vCache(l)] = []
            }
        }
        guard head else { return }
        let total = w.layers.count
        eachCore { core, dr, _ in store[core, DecodeSlot.outNorm(layers: total)] = dr.map { w.outputNorm[$0] } }
        eachCore { core, dr, j in
            let vr = Array(layout.vocabRange[j])
            store[core, DecodeSlot.lmHead(layers: total)] = tile(ins: dr.count, outs: vr.count) { out, outs in
                fill(out, outs: outs, offset: 0, w.output, ins: dr, rows: vr)
            }
        }
    }

    /// An input-major tile of `ins × outs` elements, written by `body(elements, outs)`.
    private static func tile(ins: Int, outs: Int, _ body: (UnsafeMutablePointer<Float>, Int) -> Void) -> [Float] {
        [Float](unsafeUninitializedCapacity: ins * outs) { buffer, initialized in
            if ins * outs > 0 { body(buffer.baseAddress!, outs) }
            initialized = ins * outs
        }
    }

    /// Columns `offset..<offset + rows.count` of an input-major tile with `outs` columns:
    /// element (a, offset + b) is `m[rows[b], ins[a]]` (m's rows are outputs).
    private static func fill(_ out: UnsafeMutablePointer<Float>, outs: Int, offset: Int, _ m: WeightMatrix,
                             ins: [Int], rows: [Int]) {
        precondition(ins.allSatisfy { $0 >= 0 && $0 < m.columns } && rows.allSatisfy { $0 >= 0 && $0 < m.rows }, "weight index")
        m.values.withUnsafeBufferPointer { v in
            for (a, column) in ins.enumerated() {
                let dst = out + a * outs + offset
                for (b, row) in rows.enumerated() { dst[b] = v[row * m.columns + column] }
            }
        }
    }

    /// Device bytes of the persistent tiles of core (column j, row i), by label, for a grid that
    /// holds `layers` layers (all by default) and, when `head`, the final norm and the LM head.
    static func bytes(layout: DecodeLayout, row i: Int, col j: Int, elementBytes eb: Int,
                      layers: Int? = nil, head: Bool = true) -> [(String, Int)] {
        let c = layout.config, L = layers ?? c.layerCount
        let dr = layout.dRange[i].count, kv = layout.kvRange[j].count, fr = layout.ffnRange[j].count
        let q = layout.queryIndex[j].count, vr = layout.vocabRange[j].count
        return [
            ("Wqkv ×\(L)", L * dr * (q + 2 * kv) * eb),
            ("Wo ×\(L)", L * q * dr * eb),
            ("Wgate|up ×\(L)", L * dr * 2 * fr * eb),
            ("Wdown ×\(L)", L * fr * dr * eb),
            ("norms ×\(L)", (2 * L + (head ? 1 : 0)) * dr * eb),
            ("LM head", head ? dr * vr * eb : 0),
            ("activations", (dr + (q + 2 * kv) + q + 2 * fr + 2 * max(q + 2 * kv, 2 * fr, dr, vr) + 4 * kv) * eb),
        ]
    }
}
