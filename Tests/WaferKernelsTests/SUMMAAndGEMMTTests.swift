import XCTest
import WaferKernels
import WaferMesh
import WaferSpec
import WaferTrace

final class SUMMATests: XCTestCase {
    func testProductMatchesTheDenseReferenceOnSquareAndNonSquareGrids() throws {
        for (w, h, shape) in [(4, 4, GEMMShape(m: 16, k: 16, n: 16)), (3, 2, GEMMShape(m: 7, k: 11, n: 5)),
                              (5, 3, GEMMShape(m: 9, k: 8, n: 10)), (1, 1, GEMMShape(m: 2, k: 3, n: 4))] {
            let a = Matrix.random(rows: shape.m, cols: shape.k, seed: 11)
            let b = Matrix.random(rows: shape.k, cols: shape.n, seed: 12)
            let (_, k, e) = try runKernel(testSpec(w, h), payloads: true) { e, g in
                try SUMMA(engine: e, grid: g, shape: shape, a: a, b: b)
            }
            XCTAssertLessThan(k.result(e.store!).maxAbsDifference(a.multiplied(by: b)), 1e-4, "\(w)x\(h)")
        }
    }

    func testRoutesPerCoreGrowWithTheGrid() throws {
        var colours: [Int] = []
        for side in [4, 8, 12] {
            let (t, _, _) = try runKernel(testSpec(side, side), payloads: false) { e, g in
                try SUMMA(engine: e, grid: g, shape: GEMMShape(m: side, k: side, n: side))
            }
            colours.append(t.maxColoursPerCore)
        }
        XCTAssertEqual(colours, [8, 16, 24], "one colour per source row and column")
        // Beyond R = 24 the run is a PLMR-R violation.
        XCTAssertThrowsError(try runKernel(testSpec(13, 13), payloads: false) { e, g in
            try SUMMA(engine: e, grid: g, shape: GEMMShape(m: 13, k: 13, n: 13))
        }) { error in XCTAssertTrue("\(error)".contains("PLMR-R"), "\(error)") }
    }

    func testBroadcastsReachTheFarthestCore() throws {
        let (t, _, _) = try runKernel(testSpec(8, 8), payloads: false) { e, g in
            try SUMMA(engine: e, grid: g, shape: GEMMShape(m: 16, k: 16, n: 16))
        }
        XCTAssertEqual(t.summary.maxHops, 7)
    }
}

final class GEMMTTests: XCTestCase {
    func testProductWithTransposedBMatchesTheDenseReference() throws {
        for (side, shape) in [(4, GEMMShape(m: 8, k: 12, n: 16)), (5, GEMMShape(m: 9, k: 7, n: 13)), (1, GEMMShape(m: 3, k: 2, n: 4))] {
            let a = Matrix.random(rows: shape.m, cols: shape.k, seed: 21)
            let b = Matrix.random(rows: shape.n, cols: shape.k, seed: 22)
            let (_, k, e) = try runKernel(testSpec(side, side), payloads: true) { e, g in
                try GEMMT(engine: e, grid: g, shape: shape, a: a, b: b)
            }
            XCTAssertLessThan(k.result(e.store!).maxAbsDifference(a.multiplied(by: b.transposed)), 1e-4, "side \(side)")
        }
    }

    func testShiftsAreShortAndNothingIsTransposed() throws {
        let (t, _, _) = try runKernel(testSpec(9, 9), payloads: false) { e, g in
            try GEMMT(engine: e, grid: g, shape: GEMMShape(m: 18, k: 18, n: 18))
        }
        // B shifts ≤ 2 hops along Y; the ReduceAdd routes stay inside a row (K-tree across √P groups).
        let vertical = t.messages.filter { t.geometry.x(of: Int($0.source)) == t.geometry.x(of: Int($0.destination)) && $0.source != $0.destination }
        XCTAssertFalse(vertical.isEmpty)
        XCTAssertTrue(vertical.allSatisfy { $0.hops <= 2 })
        XCTAssertLessThanOrEqual(t.maxColoursPerCore, 17, "B ring data and credits (≤ 6) plus the ReduceAdd (≤ 8)")
    }
}
