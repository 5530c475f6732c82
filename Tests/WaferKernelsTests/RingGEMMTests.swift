import XCTest
import WaferKernels
import WaferMesh
import WaferSpec
import WaferTrace

final class RingGEMMTests: XCTestCase {
    func testInterleavedRingOrders() {
        XCTAssertEqual(RingOrder.interleaved(6), [0, 2, 4, 5, 3, 1])
        XCTAssertEqual(RingOrder.interleaved(5), [0, 2, 4, 3, 1])
        XCTAssertEqual(RingOrder.interleaved(2), [0, 1])
        XCTAssertEqual(RingOrder.interleaved(1), [0])
        for n in 2...40 {
            let o = RingOrder.interleaved(n)
            XCTAssertEqual(Set(o), Set(0..<n))
            for k in 0..<n { XCTAssertLessThanOrEqual(abs(o[k] - o[(k + 1) % n]), 2, "n=\(n)") }
        }
    }

    func testProductsMatchTheDenseReference() throws {
        for variant in [RingGEMM.Variant.meshgemm, .cannon] {
            for (side, shape) in [(4, GEMMShape(m: 16, k: 12, n: 8)), (5, GEMMShape(m: 13, k: 7, n: 11)),
                                  (6, GEMMShape(m: 6, k: 6, n: 6)), (1, GEMMShape(m: 3, k: 4, n: 5))] {
                let a = Matrix.random(rows: shape.m, cols: shape.k, seed: 1)
                let b = Matrix.random(rows: shape.k, cols: shape.n, seed: 2)
                let (_, kernel, engine) = try runKernel(testSpec(side, side), payloads: true) { e, g in
                    try RingGEMM(variant, engine: e, grid: g, shape: shape, a: a, b: b)
                }
                let c = kernel.result(engine.store!)
                XCTAssertLessThan(c.maxAbsDifference(a.multiplied(by: b)), 1e-4, "\(variant) side \(side)")
            }
        }
    }

    func testNonSquareMeshUsesItsSquare() throws {
        let shape = GEMMShape(m: 10, k: 9, n: 7)
        let a = Matrix.random(rows: 10, cols: 9, seed: 3), b = Matrix.random(rows: 9, cols: 7, seed: 4)
        let (trace, kernel, engine) = try runKernel(testSpec(6, 4), payloads: true) { e, g in
            try RingGEMM(.meshgemm, engine: e, grid: g, shape: shape, a: a, b: b)
        }
        XCTAssertEqual(kernel.side, 4)
        XCTAssertLessThan(kernel.result(engine.store!).maxAbsDifference(a.multiplied(by: b)), 1e-4)
        XCTAssertEqual(trace.coreTotals.macs[5], 0, "core (5,0) is outside the 4x4 square")
    }

    func testMeshGEMMNeverSendsFartherThanTwoHopsAndCannonWrapsAcrossTheRow() throws {
        for side in [6, 9, 16] {
            let shape = GEMMShape(m: side * 2, k: side * 2, n: side * 2)
            let (mesh, _, _) = try runKernel(testSpec(side, side), payloads: false) { e, g in
                try RingGEMM(.meshgemm, engine: e, grid: g, shape: shape)
            }
            XCTAssertEqual(mesh.messages.map(\.hops).max(), 2, "side \(side)")
            XCTAssertEqual(mesh.summary.maxHops, 2)
            let (cannon, _, _) = try runKernel(testSpec(side, side), payloads: false) { e, g in
                try RingGEMM(.cannon, engine: e, grid: g, shape: shape)
            }
            XCTAssertEqual(cannon.summary.maxHops, Int64(side - 1), "the wraparound crosses N − 1 hops")
            // O(1) routes per core for both, and MeshGEMM keeps one flow per directed link per ring.
            XCTAssertLessThanOrEqual(mesh.maxColoursPerCore, 18, "3 colours per ring: data and credits, rows and columns")
            XCTAssertLessThanOrEqual(cannon.maxColoursPerCore, 24)
            XCTAssertLessThan(mesh.summary.makespanCycles, cannon.summary.makespanCycles, "side \(side)")
        }
    }

    func testTimingOnlyRunsGiveTheSameTimings() throws {
        let shape = GEMMShape(m: 24, k: 24, n: 24)
        let a = Matrix.random(rows: 24, cols: 24, seed: 5), b = Matrix.random(rows: 24, cols: 24, seed: 6)
        let (real, _, _) = try runKernel(testSpec(6, 6), payloads: true) { e, g in
            try RingGEMM(.meshgemm, engine: e, grid: g, shape: shape, a: a, b: b)
        }
        let (timing, _, _) = try runKernel(testSpec(6, 6), payloads: false) { e, g in
            try RingGEMM(.meshgemm, engine: e, grid: g, shape: shape)
        }
        XCTAssertEqual(real.spans, timing.spans)
        XCTAssertEqual(real.messages, timing.messages)
        XCTAssertEqual(real.summary, timing.summary)
    }

    func testMemoryIsFiveTilesPerCore() throws {
        let shape = GEMMShape(m: 64, k: 32, n: 16)
        let (trace, kernel, _) = try runKernel(testSpec(4, 4), payloads: false) { e, g in
            try RingGEMM(.meshgemm, engine: e, grid: g, shape: shape)
        }
        let eb = 2
        let expected = (2 * kernel.mt * kernel.kt + 2 * kernel.kt * kernel.nt + kernel.mt * kernel.nt) * eb
        XCTAssertEqual(trace.peakSramBytesPerCore, expected)
        XCTAssertEqual(trace.kernels.count, 1)
        XCTAssertEqual(trace.kernels[0].params["algorithm"], "meshgemm")
    }
}
