import Foundation
import WaferMesh
import WaferModel

/// The local arithmetic of a decode step, on a core's payload slots in place.
///
/// Every function does exactly the floating-point operations, in exactly the order, of the
/// straightforward array code it replaced (`TileMath.gemv`, `reduce`, `map`), so results are
/// bit-identical; what it saves is the host's overhead: no array is allocated per core and
/// phase, and buffers are read through borrowed pointers (no retain/release per access).
enum DecodeMath {
    /// `y[0..<n] += Σ_p a(p) · w[p·n ..< p·n + n]` over p ascending, skipping `a(p) == 0`: the
    /// summation order of `TileMath.gemmAccumulate` with one row.
    ///
    /// - Complexity: O(k·n).
    @inline(__always)
    static func gemv(k: Int, n: Int, w: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, _ a: (Int) -> Float) {
        var row = w
        for p in 0..<k {
            let av = a(p)
            if av != 0 {
                for j in 0..<n { y[j] += av * row[j] }
            }
            row += n
        }
    }

    /// `ReferenceModel.silu`'s expression, inlinable here (that one is a call into another module
    /// per element): the same operations, so the same bits.
    @inline(__always) static func silu(_ x: Float) -> Float {
        x / (1 + Foundation.exp(-x))
    }

    /// `x.reduce(0) { $0 + $1 * $1 }`.
    @inline(__always) static func sumOfSquares(_ x: UnsafeBufferPointer<Float>) -> Float {
        var s: Float = 0
        for v in x { s = s + v * v }
        return s
    }

    /// Writes Σx² of slot `x` into slot `acc` (one element).
    static func sumOfSquares(core c: Int, store s: PayloadStore) {
        let t = s.withBuffer(c, DecodeSlot.x) { sumOfSquares($0) }
        s.withMutableBuffer(c, DecodeSlot.acc, count: 1, zeroed: false) { $0[0] = t }
    }

    /// RMSNorm of slot `x` (Σx² already reduced into `acc[0]`) times the norm weights in slot
    /// `norm`, then a GEMV with the tile in slot `weights` (n outputs) into `acc`.
    static func normGEMV(core c: Int, store s: PayloadStore, norm: Int32, weights: Int32, n: Int, d: Int, eps: Float) {
        let r = s.withBuffer(c, DecodeSlot.acc) { 1 / ($0[0] / Float(d) + eps).squareRoot() }
        s.withBuffer(c, DecodeSlot.x) { x in
            s.withBuffer(c, norm) { nw in
                s.withBuffer(c, weights) { w in
                    let k = x.count
                    precondition(nw.count >= k && w.count >= k * n, "decode tile shapes")
                    s.withMutableBuffer(c, DecodeSlot.acc, count: n, zeroed: true) { y in
                        guard k > 0, let yb = y.baseAddress, let wb = w.baseAddress,
                              let xb = x.baseAddress, let nb = nw.baseAddress else { return }
                        gemv(k: k, n: n, w: wb, y: yb) { p in xb[p] * r * nb[p] }
                    }
                }
            }
        }
    }

    /// A GEMV from slot `acc` (k = its length, `a(p)` the input made of it) with the tile in
    /// slot `weights` into `acc` (n outputs).
    @inline(__always)
    static func gemvInPlace(core c: Int, store s: PayloadStore, weights: Int32, k: Int, n: Int,
                            _ a: (UnsafePointer<Float>, Int) -> Float) {
        s.withBuffer(c, weights) { w in
            precondition(w.count >= k * n, "decode tile shapes")
            withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, n)) { y in
                let yb = y.baseAddress!
                yb.initialize(repeating: 0, count: n)
                s.withBuffer(c, DecodeSlot.acc) { input in
                    guard let wb = w.baseAddress, let ib = input.baseAddress else { return }
                    gemv(k: k, n: n, w: wb, y: yb) { p in a(ib, p) }
                }
                s.withMutableBuffer(c, DecodeSlot.acc, count: n, zeroed: false) { out in
                    if n > 0 { out.baseAddress!.update(from: yb, count: n) }
                }
            }
        }
    }

    /// `x += acc` element-wise (lengths must match); returns Σx² of the result when `squares`.
    @discardableResult
    static func residual(core c: Int, store s: PayloadStore, squares: Bool) -> Float {
        s.withBuffer(c, DecodeSlot.acc) { a in
            var t: Float = 0
            let n = a.count
            s[c, DecodeSlot.x].withUnsafeMutableBufferPointer { x in
                precondition(x.count == n, "add: \(x.count) vs \(n)")
                for i in 0..<n { x[i] += a[i] }
                if squares { t = sumOfSquares(UnsafeBufferPointer(x)) }
            }
            return t
        }
    }
}

/// cos and sin of RoPE's angle for every even dimension of a head at one position, computed as
/// the rotation did per core (Double angle, rounded to Float), once per program instead.
struct DecodeRoPE: Sendable {
    let cs: [Float], sn: [Float]
    let headDim: Int

    init(position pos: Int, base: Float, headDim hd: Int) {
        headDim = hd
        var cs: [Float] = [], sn: [Float] = []
        for dim in stride(from: 0, to: hd, by: 2) {
            let theta = Double(pos) * pow(Double(base), -Double(dim) / Double(hd))
            cs.append(Float(cos(theta)))
            sn.append(Float(sin(theta)))
        }
        self.cs = cs
        self.sn = sn
    }

    /// cos and sin for the pair starting at model dimension `dim` (even).
    @inline(__always) func cosSin(dim: Int) -> (Float, Float) {
        let k = (dim % headDim) / 2
        return (cs[k], sn[k])
    }
}
