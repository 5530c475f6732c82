import WaferKernels
import WaferMesh
import WaferModel

/// Cuts a model's weights into the tiles each core of a decode grid holds (see `DecodeLayout`).
///
/// Every tile is stored input-major (`tile[in * outs + out]`), the orientation a local GEMV
/// `y = x · W` streams through.
enum DecodeWeights {
    /// Writes the tiles of `layers` (and the final norm and LM head when `head`) into the store.
    static func place(_ w: ModelWeights, layout: DecodeLayout, grid: KernelGrid, store: PayloadStore,
                      layers: Range<Int>, head: Bool) {
        let c = layout.config
        for i in 0..<layout.rows {
            for j in 0..<layout.cols {
                let core = grid.core(px: j, py: i)
                let dr = layout.dRange[i], kv = layout.kvRange[j], fr = layout.ffnRange[j], vr = layout.vocabRange[j]
                let qIdx = layout.queryIndex[j]
                let outs = qIdx + Array(kv) + Array(kv.map { $0 + c.kvDim })   // q | k | v (v offset marks the V matrix)
                for l in layers {
                    let lw = w.layers[l]
                    // QKV: inputs dr, outputs q (permuted), k, v.
                    var qkv = [Float](repeating: 0, count: dr.count * outs.count)
                    for (a, inDim) in dr.enumerated() {
                        for (b, o) in outs.enumerated() {
                            let value: Float
                            if b < qIdx.count { value = lw.attnQ[o, inDim] }
                            else if o < c.kvDim { value = lw.attnK[o, inDim] }
                            else { value = lw.attnV[o - c.kvDim, inDim] }
                            qkv[a * outs.count + b] = value
                        }
                    }
                    store[core, DecodeSlot.wqkv(l)] = qkv
                    // O: inputs the column's query dims (permuted), outputs dr.
                    var wo = [Float](repeating: 0, count: qIdx.count * dr.count)
                    for (a, q) in qIdx.enumerated() { for (b, o) in dr.enumerated() { wo[a * dr.count + b] = lw.attnOutput[o, q] } }
                    store[core, DecodeSlot.wo(l)] = wo
                    // Gate | up: inputs dr, outputs fr twice.
                    var gu = [Float](repeating: 0, count: dr.count * 2 * fr.count)
                    for (a, inDim) in dr.enumerated() {
                        for (b, f) in fr.enumerated() {
                            gu[a * 2 * fr.count + b] = lw.ffnGate[f, inDim]
                            gu[a * 2 * fr.count + fr.count + b] = lw.ffnUp[f, inDim]
                        }
                    }
                    store[core, DecodeSlot.wgu(l)] = gu
                    // Down: inputs fr, outputs dr.
                    var down = [Float](repeating: 0, count: fr.count * dr.count)
                    for (a, f) in fr.enumerated() { for (b, o) in dr.enumerated() { down[a * dr.count + b] = lw.ffnDown[o, f] } }
                    store[core, DecodeSlot.wdown(l)] = down
                    store[core, DecodeSlot.attnNorm(l)] = Array(lw.attnNorm[dr])
                    store[core, DecodeSlot.ffnNorm(l)] = Array(lw.ffnNorm[dr])
                    store[core, DecodeSlot.kCache(l)] = []
                    store[core, DecodeSlot.vCache(l)] = []
                }
                guard head else { continue }
                let total = w.layers.count
                store[core, DecodeSlot.outNorm(layers: total)] = Array(w.outputNorm[dr])
                var tile = [Float](repeating: 0, count: dr.count * vr.count)
                for (a, inDim) in dr.enumerated() { for (b, v) in vr.enumerated() { tile[a * vr.count + b] = w.output[v, inDim] } }
                store[core, DecodeSlot.lmHead(layers: total)] = tile
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
