import Foundation

/// The individual operations of the dense LLaMA forward pass.
///
/// These are the definitions the mesh implementation is checked against, so each is a
/// plain, self-contained function on `[Float]`. The hot ones (`matvec`, `dot`) run over
/// unsafe buffers with wrapping index arithmetic and eight independent accumulators so
/// that the optimiser can vectorise them; the array-level wrappers are for callers and
/// tests, while `forward` uses the pointer kernels on preallocated scratch space.
extension ReferenceModel {
    // MARK: Normalisation

    /// RMSNorm: `y[i] = x[i] / sqrt(mean(x²) + ε) · weight[i]`.
    ///
    /// The mean of squares is accumulated in `Double`.
    /// - Precondition: `weight.count == x.count`.
    /// - Complexity: O(n).
    public static func rmsNorm(_ x: [Float], weight: [Float], epsilon: Float) -> [Float] {
        precondition(weight.count == x.count, "rmsNorm: weight has \(weight.count) elements for \(x.count)")
        var out = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                out.withUnsafeMutableBufferPointer { op in
                    rmsNormKernel(xp.baseAddress, wp.baseAddress, op.baseAddress, count: x.count, epsilon: epsilon)
                }
            }
        }
        return out
    }

    /// The reciprocal RMS scale `1 / sqrt(mean(x²) + ε)` that `rmsNorm` applies.
    public static func rmsScale(_ x: [Float], epsilon: Float) -> Float {
        x.withUnsafeBufferPointer { rmsScaleKernel($0.baseAddress, count: x.count, epsilon: epsilon) }
    }

    static func rmsScaleKernel(_ x: UnsafePointer<Float>?, count: Int, epsilon: Float) -> Float {
        guard let x, count > 0 else { return 0 }
        var sum: Double = 0
        var i = 0
        while i < count {
            let v = Double(x[i])
            sum += v * v
            i &+= 1
        }
        return Float(1 / (sum / Double(count) + Double(epsilon)).squareRoot())
    }

    static func rmsNormKernel(_ x: UnsafePointer<Float>?, _ w: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>?,
                              count: Int, epsilon: Float) {
        guard let x, let w, let y else { return }
        let scale = rmsScaleKernel(x, count: count, epsilon: epsilon)
        var i = 0
        while i < count {
            y[i] = x[i] * scale * w[i]
            i &+= 1
        }
    }

    // MARK: Rotary position embedding

    /// The RoPE angles' cosines and sines for `position`: element `i` is for the pair
    /// `(2i, 2i+1)` with `θ_i = position · base^(−2i/headDim)`, computed in `Double`.
    public static func ropeCosSin(position: Int, headDim: Int, freqBase: Float) -> (cos: [Float], sin: [Float]) {
        let half = headDim / 2
        var c = [Float](repeating: 1, count: half)
        var s = [Float](repeating: 0, count: half)
        for i in 0 ..< half {
            let inverseFrequency = pow(Double(freqBase), -2 * Double(i) / Double(headDim))
            let angle = Double(position) * inverseFrequency
            c[i] = Float(cos(angle))
            s[i] = Float(sin(angle))
        }
        return (c, s)
    }

    /// Applies rotary position embedding in place to `headCount` heads of width `headDim`
    /// laid out one after another in `x`.
    ///
    /// GGUF/llama.cpp "normal" RoPE: within each head the adjacent pair `(x[2i], x[2i+1])`
    /// is rotated by `θ_i = position · base^(−2i/headDim)`:
    /// `x'[2i] = x[2i]·cos θ − x[2i+1]·sin θ`, `x'[2i+1] = x[2i]·sin θ + x[2i+1]·cos θ`.
    /// - Precondition: `x.count == headCount · headDim`, `headDim` even.
    public static func rope(_ x: inout [Float], headCount: Int, headDim: Int, position: Int, freqBase: Float) {
        precondition(x.count == headCount * headDim && headDim % 2 == 0, "rope: bad shape")
        let (c, s) = ropeCosSin(position: position, headDim: headDim, freqBase: freqBase)
        x.withUnsafeMutableBufferPointer { xp in
            c.withUnsafeBufferPointer { cp in
                s.withUnsafeBufferPointer { sp in
                    ropeKernel(xp.baseAddress, cp.baseAddress, sp.baseAddress, headCount: headCount, headDim: headDim)
                }
            }
        }
    }

    static func ropeKernel(_ x: UnsafeMutablePointer<Float>?, _ c: UnsafePointer<Float>?, _ s: UnsafePointer<Float>?,
                           headCount: Int, headDim: Int) {
        guard let x, let c, let s else { return }
        let half = headDim / 2
        var h = 0
        while h < headCount {
            let head = x + h &* headDim
            var i = 0
            while i < half {
                let x0 = head[2 &* i]
                let x1 = head[2 &* i &+ 1]
                head[2 &* i] = x0 * c[i] - x1 * s[i]
                head[2 &* i &+ 1] = x0 * s[i] + x1 * c[i]
                i &+= 1
            }
            h &+= 1
        }
    }

    // MARK: Linear algebra

    /// `y = W x` for a row-major `W` (rows = outputs).
    ///
    /// - Precondition: `x.count == w.columns`.
    /// - Complexity: O(rows × columns).
    public static func matvec(_ w: WeightMatrix, _ x: [Float]) -> [Float] {
        precondition(x.count == w.columns, "matvec: \(x.count) inputs for \(w.rows)×\(w.columns)")
        var y = [Float](repeating: 0, count: w.rows)
        w.values.withUnsafeBufferPointer { wp in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    matvecKernel(wp.baseAddress, xp.baseAddress, yp.baseAddress, rows: w.rows, columns: w.columns)
                }
            }
        }
        return y
    }

    /// The dot product of two equally long vectors.
    ///
    /// - Complexity: O(n).
    public static func dot(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "dot: lengths \(a.count) and \(b.count)")
        return a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                guard let pa = ap.baseAddress, let pb = bp.baseAddress else { return 0 }
                return dotKernel(pa, pb, count: a.count)
            }
        }
    }

    /// Eight-lane dot product over raw pointers.
    ///
    /// Lane `k` accumulates `a[i]·b[i]` for every `i ≡ k (mod 8)` below the last multiple
    /// of 8 (multiply, then add: no fused multiply-add); the remaining tail elements are
    /// added to lane 0; the result is `((l0+l1)+(l2+l3)) + ((l4+l5)+(l6+l7))`.
    ///
    /// Optimised builds run the lanes as two `SIMD4<Float>` registers; debug builds, where
    /// SIMD types are very slow, run eight scalar accumulators. The arithmetic is the same
    /// operation for operation, so both builds give bit-identical results.
    /// - Complexity: O(count).
    @inline(__always)
    static func dotKernel(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        #if DEBUG
        var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
        var s4: Float = 0, s5: Float = 0, s6: Float = 0, s7: Float = 0
        var pa = a, pb = b
        var remaining = count
        while remaining >= 8 {
            s0 += pa[0] * pb[0]
            s1 += pa[1] * pb[1]
            s2 += pa[2] * pb[2]
            s3 += pa[3] * pb[3]
            s4 += pa[4] * pb[4]
            s5 += pa[5] * pb[5]
            s6 += pa[6] * pb[6]
            s7 += pa[7] * pb[7]
            pa += 8
            pb += 8
            remaining &-= 8
        }
        #else
        var lo = SIMD4<Float>(), hi = SIMD4<Float>()
        var ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var remaining = count
        while remaining >= 8 {
            lo += ra.loadUnaligned(as: SIMD4<Float>.self) * rb.loadUnaligned(as: SIMD4<Float>.self)
            hi += ra.loadUnaligned(fromByteOffset: 16, as: SIMD4<Float>.self)
                * rb.loadUnaligned(fromByteOffset: 16, as: SIMD4<Float>.self)
            ra += 32
            rb += 32
            remaining &-= 8
        }
        var s0 = lo[0]
        let s1 = lo[1], s2 = lo[2], s3 = lo[3], s4 = hi[0], s5 = hi[1], s6 = hi[2], s7 = hi[3]
        var pa = ra.assumingMemoryBound(to: Float.self), pb = rb.assumingMemoryBound(to: Float.self)
        #endif
        while remaining > 0 {
            s0 += pa[0] * pb[0]
            pa += 1
            pb += 1
            remaining &-= 1
        }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    }

    /// `y[r] = Σ_c w[r·columns + c] · x[c]` for `r < rows`.
    ///
    /// - Complexity: O(rows × columns).
    static func matvecKernel(_ w: UnsafePointer<Float>?, _ x: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>?,
                             rows: Int, columns: Int) {
        guard let w, let x, let y else { return }
        var r = 0
        while r < rows {
            y[r] = dotKernel(w + r &* columns, x, count: columns)
            r &+= 1
        }
    }

    // MARK: Activations

    /// Numerically stable softmax (the maximum is subtracted before `exp`).
    ///
    /// - Complexity: O(n).
    public static func softmax(_ x: [Float]) -> [Float] {
        var y = x
        y.withUnsafeMutableBufferPointer { softmaxKernel($0.baseAddress, count: x.count) }
        return y
    }

    static func softmaxKernel(_ x: UnsafeMutablePointer<Float>?, count: Int) {
        guard let x, count > 0 else { return }
        var maximum = -Float.infinity
        var i = 0
        while i < count {
            maximum = Swift.max(maximum, x[i])
            i &+= 1
        }
        var sum: Float = 0
        i = 0
        while i < count {
            let e = Foundation.exp(x[i] - maximum)
            x[i] = e
            sum += e
            i &+= 1
        }
        let inverse = 1 / sum
        i = 0
        while i < count {
            x[i] *= inverse
            i &+= 1
        }
    }

    /// SiLU (swish): `x · σ(x) = x / (1 + e^(−x))`.
    @inline(__always)
    public static func silu(_ x: Float) -> Float {
        x / (1 + Foundation.exp(-x))
    }

    /// SwiGLU combination of the FFN's gate and up projections: `silu(gate[i]) · up[i]`.
    public static func swiglu(gate: [Float], up: [Float]) -> [Float] {
        precondition(gate.count == up.count, "swiglu: lengths \(gate.count) and \(up.count)")
        var out = [Float](repeating: 0, count: gate.count)
        for i in gate.indices { out[i] = silu(gate[i]) * up[i] }
        return out
    }

    // MARK: Attention

    /// Causal grouped-query attention of one new query over the cached keys and values.
    ///
    /// - Parameters:
    ///   - query: `headCount · headDim` values, RoPE already applied.
    ///   - keys, values: `length × (kvHeadCount · headDim)` row-major, one row per position
    ///     (keys RoPE'd); the query attends to all `length` rows (it is the last position).
    /// - Returns: `headCount · headDim` values; query head `h` uses KV head `h / (headCount / kvHeadCount)`.
    /// - Complexity: O(headCount × length × headDim).
    public static func attention(query: [Float], keys: [Float], values: [Float], length: Int,
                                 headCount: Int, kvHeadCount: Int, headDim: Int) -> [Float] {
        let kvDim = kvHeadCount * headDim
        precondition(query.count == headCount * headDim && headCount % kvHeadCount == 0, "attention: bad query shape")
        precondition(keys.count >= length * kvDim && values.count >= length * kvDim, "attention: cache too short")
        var out = [Float](repeating: 0, count: headCount * headDim)
        var scores = [Float](repeating: 0, count: Swift.max(length, 1))
        query.withUnsafeBufferPointer { q in
            keys.withUnsafeBufferPointer { k in
                values.withUnsafeBufferPointer { v in
                    out.withUnsafeMutableBufferPointer { o in
                        scores.withUnsafeMutableBufferPointer { s in
                            attentionKernel(q.baseAddress, k.baseAddress, v.baseAddress, o.baseAddress, s.baseAddress,
                                            length: length, headCount: headCount, kvHeadCount: kvHeadCount, headDim: headDim)
                        }
                    }
                }
            }
        }
        return out
    }

    static func attentionKernel(_ q: UnsafePointer<Float>?, _ k: UnsafePointer<Float>?, _ v: UnsafePointer<Float>?,
                                _ out: UnsafeMutablePointer<Float>?, _ scores: UnsafeMutablePointer<Float>?,
                                length: Int, headCount: Int, kvHeadCount: Int, headDim: Int) {
        guard let q, let k, let v, let out, let scores, length > 0 else { return }
        let kvDim = kvHeadCount &* headDim
        let group = headCount / kvHeadCount
        let scale = 1 / Float(headDim).squareRoot()
        var h = 0
        while h < headCount {
            let kvOffset = (h / group) &* headDim
            let qh = q + h &* headDim
            var t = 0
            while t < length {
                scores[t] = dotKernel(qh, k + (t &* kvDim &+ kvOffset), count: headDim) * scale
                t &+= 1
            }
            softmaxKernel(scores, count: length)
            let oh = out + h &* headDim
            oh.update(repeating: 0, count: headDim)
            t = 0
            while t < length {
                let p = scores[t]
                let vt = v + (t &* kvDim &+ kvOffset)
                var j = 0
                while j < headDim {
                    oh[j] += p * vt[j]
                    j &+= 1
                }
                t &+= 1
            }
            h &+= 1
        }
    }

    // MARK: Sampling

    /// Index of the largest element (the first one on ties), or `nil` for an empty array.
    public static func argmax(_ x: [Float]) -> Int? {
        guard var best = x.indices.first else { return nil }
        for i in x.indices where x[i] > x[best] { best = i }
        return best
    }
}
