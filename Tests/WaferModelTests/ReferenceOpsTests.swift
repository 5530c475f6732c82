import Foundation
import XCTest
@testable import WaferModel

/// The per-operation reference functions against hand-computed values.
final class ReferenceOpsTests: XCTestCase {
    func testRMSNorm() {
        // mean(x²) = (9 + 16) / 2 = 12.5
        let y = ReferenceModel.rmsNorm([3, -4], weight: [1, 2], epsilon: 0)
        let s = 1 / Float(12.5).squareRoot()
        XCTAssertEqual(y[0], 3 * s, accuracy: 1e-6)
        XCTAssertEqual(y[1], -8 * s, accuracy: 1e-6)
        XCTAssertEqual(ReferenceModel.rmsNorm([0, 0], weight: [1, 1], epsilon: 1e-5), [0, 0])
        XCTAssertEqual(ReferenceModel.rmsScale([2, 2, 2, 2], epsilon: 0), 0.5)
    }

    func testRoPERotatesAdjacentPairs() {
        var x: [Float] = [1, 0, 1, 0, 0, 1, 0, 1]   // two heads of width 4
        ReferenceModel.rope(&x, headCount: 2, headDim: 4, position: 3, freqBase: 100)
        // Pair 0 turns by 3 rad; pair 1 by 3 · 100^(−2/4) = 0.3 rad.
        let expected: [Float] = [cos(3), sin(3), cos(0.3), sin(0.3), -sin(3), cos(3), -sin(0.3), cos(0.3)]
        for (a, b) in zip(x, expected) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }

    func testRoPEProperties() {
        var rng = SplitMix64(seed: 5)
        let q = (0 ..< 16).map { _ in rng.nextSymmetric(1) }
        let k = (0 ..< 16).map { _ in rng.nextSymmetric(1) }
        var q0 = q
        ReferenceModel.rope(&q0, headCount: 1, headDim: 16, position: 0, freqBase: 10_000)
        XCTAssertEqual(q0, q)   // position 0 is the identity
        // The score depends only on the relative position.
        func score(_ m: Int, _ n: Int) -> Float {
            var a = q, b = k
            ReferenceModel.rope(&a, headCount: 1, headDim: 16, position: m, freqBase: 10_000)
            ReferenceModel.rope(&b, headCount: 1, headDim: 16, position: n, freqBase: 10_000)
            return ReferenceModel.dot(a, b)
        }
        XCTAssertEqual(score(7, 3), score(104, 100), accuracy: 1e-4)
        var far = q
        ReferenceModel.rope(&far, headCount: 1, headDim: 16, position: 5000, freqBase: 10_000)
        XCTAssertEqual(ReferenceModel.dot(far, far), ReferenceModel.dot(q, q), accuracy: 1e-4)   // norm preserved
    }

    func testMatvecAndDot() {
        let w = WeightMatrix(rows: 2, columns: 3, values: [1, 2, 3, -1, 0, 0.5])
        XCTAssertEqual(ReferenceModel.matvec(w, [1, 1, 2]), [9, 0])
        var rng = SplitMix64(seed: 9)
        for n in [0, 1, 7, 8, 9, 17, 576] {
            let a = (0 ..< n).map { _ in rng.nextSymmetric(1) }
            let b = (0 ..< n).map { _ in rng.nextSymmetric(1) }
            let naive = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            XCTAssertEqual(Double(ReferenceModel.dot(a, b)), naive, accuracy: 1e-4, "n = \(n)")
        }
        XCTAssertEqual(w[1, 2], 0.5)
        XCTAssertEqual(w.row(1), [-1, 0, 0.5])
        XCTAssertEqual(w.rows(1 ..< 2).values, [-1, 0, 0.5])
    }

    func testDotHasTheDocumentedSummationOrder() {
        // Debug and release builds take different code paths; both must equal this replica bit for bit.
        func replica(_ a: [Float], _ b: [Float]) -> Float {
            var lane = [Float](repeating: 0, count: 8)
            let blocked = a.count / 8 * 8
            for i in 0 ..< blocked { lane[i % 8] += a[i] * b[i] }
            for i in blocked ..< a.count { lane[0] += a[i] * b[i] }
            return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]))
        }
        var rng = SplitMix64(seed: 21)
        for n in [0, 3, 8, 13, 64, 577, 1536] {
            let a = (0 ..< n).map { _ in rng.nextSymmetric(10) }
            let b = (0 ..< n).map { _ in rng.nextSymmetric(10) }
            XCTAssertEqual(ReferenceModel.dot(a, b).bitPattern, replica(a, b).bitPattern, "n = \(n)")
        }
    }

    func testSoftmax() {
        let p = ReferenceModel.softmax([1, 2, 3])
        let e: [Float] = [exp(1), exp(2), exp(3)]
        let total = e.reduce(0, +)
        for (a, b) in zip(p, e) { XCTAssertEqual(a, b / total, accuracy: 1e-6) }
        let big = ReferenceModel.softmax([1000, 1000, -1000])   // must not overflow
        XCTAssertEqual(big[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(big[2], 0)
        XCTAssertEqual(ReferenceModel.softmax([]), [])
    }

    func testSiLUAndSwiGLU() {
        XCTAssertEqual(ReferenceModel.silu(0), 0)
        XCTAssertEqual(ReferenceModel.silu(1), 1 / (1 + exp(-1)), accuracy: 1e-7)
        XCTAssertEqual(ReferenceModel.silu(-20), -20 / (1 + exp(20)), accuracy: 1e-9)
        XCTAssertEqual(ReferenceModel.silu(30), 30, accuracy: 1e-5)
        XCTAssertEqual(ReferenceModel.swiglu(gate: [0, 1], up: [5, 2]), [0, 2 * ReferenceModel.silu(1)])
    }

    func testAttentionWithGQA() {
        // 4 query heads share 2 KV heads (head width 2), two cached positions.
        let keys: [Float] = [1, 0, 0, 1,    // position 0: kv head 0, kv head 1
                             0, 1, 1, 0]    // position 1
        let values: [Float] = [10, 20, 30, 40,
                               50, 60, 70, 80]
        let query: [Float] = [0, 0, 0, 0, 100, 0, 100, 0]
        let out = ReferenceModel.attention(query: query, keys: keys, values: values, length: 2,
                                           headCount: 4, kvHeadCount: 2, headDim: 2)
        // Heads 0 and 1 (kv head 0) have zero queries: uniform average of kv head 0's values.
        XCTAssertEqual(Array(out[0 ..< 4]), [30, 40, 30, 40])
        // Head 2 (kv head 1) matches position 1's key strongly; head 3 likewise.
        XCTAssertEqual(out[4], 70, accuracy: 1e-3)
        XCTAssertEqual(out[5], 80, accuracy: 1e-3)
        XCTAssertEqual(out[6], 70, accuracy: 1e-3)
        // With one position the output is that position's value whatever the query.
        let single = ReferenceModel.attention(query: [3, -2, 1, 9], keys: [1, 2], values: [7, 8], length: 1,
                                              headCount: 2, kvHeadCount: 1, headDim: 2)
        XCTAssertEqual(single, [7, 8, 7, 8])
    }

    func testArgmax() {
        XCTAssertEqual(ReferenceModel.argmax([1, 5, 5, 2]), 1)
        XCTAssertNil(ReferenceModel.argmax([]))
    }
}
