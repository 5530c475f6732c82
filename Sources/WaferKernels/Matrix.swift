/// A dense row-major Float32 matrix: the host-side inputs and results of kernels.
public struct Matrix: Hashable, Sendable {
    public let rows: Int
    public let cols: Int
    public var values: [Float]

    public init(rows: Int, cols: Int, values: [Float]) {
        precondition(values.count == rows * cols, "Matrix: \(values.count) values for \(rows)x\(cols)")
        self.rows = rows; self.cols = cols; self.values = values
    }

    public init(rows: Int, cols: Int, repeating v: Float = 0) {
        self.init(rows: rows, cols: cols, values: Array(repeating: v, count: rows * cols))
    }

    /// Uniform values in [-1, 1) from a deterministic generator (SplitMix64).
    public static func random(rows: Int, cols: Int, seed: UInt64) -> Matrix {
        var s = seed &+ 0x9E37_79B9_7F4A_7C15
        var v = [Float](repeating: 0, count: rows * cols)
        for i in v.indices {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            v[i] = Float(z >> 40) / Float(1 << 23) - 1
        }
        return Matrix(rows: rows, cols: cols, values: v)
    }

    @inline(__always) public subscript(r: Int, c: Int) -> Float {
        get { values[r * cols + c] }
        set { values[r * cols + c] = newValue }
    }

    /// The `tr × tc` block at block coordinates (bi, bj), zero-padded past the edges.
    public func tile(_ bi: Int, _ bj: Int, _ tr: Int, _ tc: Int) -> [Float] {
        var out = [Float](repeating: 0, count: tr * tc)
        for r in 0..<tr {
            let gr = bi * tr + r
            guard gr < rows else { break }
            for c in 0..<tc {
                let gc = bj * tc + c
                guard gc < cols else { break }
                out[r * tc + c] = values[gr * cols + gc]
            }
        }
        return out
    }

    /// Writes a `tr × tc` block at block coordinates (bi, bj), dropping what lies past the edges.
    public mutating func setTile(_ bi: Int, _ bj: Int, _ tr: Int, _ tc: Int, _ t: [Float]) {
        for r in 0..<tr {
            let gr = bi * tr + r
            guard gr < rows else { break }
            for c in 0..<tc {
                let gc = bj * tc + c
                guard gc < cols else { break }
                values[gr * cols + gc] = t[r * tc + c]
            }
        }
    }

    /// The dense single-core reference product `self · b` (Float32 accumulation).
    public func multiplied(by b: Matrix) -> Matrix {
        precondition(cols == b.rows)
        var c = Matrix(rows: rows, cols: b.cols)
        TileMath.gemmAccumulate(values, b.values, &c.values, m: rows, k: cols, n: b.cols)
        return c
    }

    public var transposed: Matrix {
        var t = Matrix(rows: cols, cols: rows)
        for r in 0..<rows { for c in 0..<cols { t.values[c * rows + r] = values[r * cols + c] } }
        return t
    }

    /// Largest absolute element-wise difference.
    public func maxAbsDifference(_ o: Matrix) -> Float {
        precondition(rows == o.rows && cols == o.cols)
        var m: Float = 0
        for i in values.indices { m = max(m, abs(values[i] - o.values[i])) }
        return m
    }
}

/// Local tile arithmetic run by cores when a kernel carries payloads.
public enum TileMath {
    /// `c[m×n] += a[m×k] · b[k×n]`, row-major.
    ///
    /// - Complexity: O(m·k·n).
    public static func gemmAccumulate(_ a: [Float], _ b: [Float], _ c: inout [Float], m: Int, k: Int, n: Int) {
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    for i in 0..<m {
                        let crow = pc.baseAddress! + i &* n
                        for p in 0..<k {
                            let av = pa[i &* k &+ p]
                            if av == 0 { continue }
                            let brow = pb.baseAddress! + p &* n
                            for j in 0..<n { crow[j] += av * brow[j] }
                        }
                    }
                }
            }
        }
    }

    /// `c[m×n] = a[m×k] · b[n×k]ᵀ`, row-major.
    public static func gemmTransposedB(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                for i in 0..<m {
                    for j in 0..<n {
                        var s: Float = 0
                        for p in 0..<k { s += pa[i &* k &+ p] * pb[j &* k &+ p] }
                        c[i * n + j] = s
                    }
                }
            }
        }
        return c
    }

    /// `y[n] = x[k] · W[k×n]`.
    public static func gemv(_ x: [Float], _ w: [Float], k: Int, n: Int) -> [Float] {
        var y = [Float](repeating: 0, count: n)
        gemmAccumulate(x, w, &y, m: 1, k: k, n: n)
        return y
    }

    /// `a += b` element-wise (lengths must match).
    public static func add(_ a: inout [Float], _ b: [Float]) {
        precondition(a.count == b.count, "add: \(a.count) vs \(b.count)")
        a.withUnsafeMutableBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in for i in 0..<pa.count { pa[i] += pb[i] } }
        }
    }
}
