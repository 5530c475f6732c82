import Foundation
import PLMR
import WaferKernels
import WaferSpec
import WaferTrace
import XCTest

/// A small sweep: every algorithm on 4×4, 8×8 and 16×16 WSE-2 sub-grids, model against engine.
final class SweepAgreementTests: XCTestCase {
    func testEveryKernelWithinTenPercentOnSmallGrids() throws {
        var rows: [ValidationRow] = []
        for side in [4, 8, 16] {
            let spec = try wse2(side, side)
            for algo in GEMMAlgorithm.allCases {
                let measured = cycles(try runGEMM(algo, spec, m: 256, k: 256, n: 256))
                let p = PLMRModel.gemm(algo.rawValue, m: 256, k: 256, n: 256, gridCols: side, gridRows: side, spec: spec)
                rows.append(ValidationRow(name: algo.rawValue, kernel: "gemm", algorithm: algo.rawValue, shape: "256^3",
                                          grid: "\(side)x\(side)", predicted: p?.cycles, measured: measured))
            }
            for algo in GEMVAlgorithm.allCases {
                let measured = cycles(try runGEMV(algo, spec, rows: 1024, cols: 1024))
                let p = PLMRModel.gemv(algo.rawValue, rows: 1024, cols: 1024, gridCols: side, gridRows: side, spec: spec)
                rows.append(ValidationRow(name: algo.rawValue, kernel: "gemv", algorithm: algo.rawValue, shape: "1024^2",
                                          grid: "\(side)x\(side)", predicted: p?.cycles, measured: measured))
            }
        }
        for r in rows {
            let e = try XCTUnwrap(r.errorPercent, "\(r.algorithm) \(r.grid)")
            XCTAssertLessThanOrEqual(abs(e), 10, "\(r.algorithm) \(r.grid): predicted \(r.predicted!), measured \(r.measured)")
        }
        let s = try XCTUnwrap(Validation.stats(rows))
        XCTAssertEqual(s.count, 21)
        XCTAssertLessThanOrEqual(s.geomeanError, 5)
    }

    func testNonSquareGridsAndOddShapes() throws {
        // SUMMA and GEMV on rectangles; ring GEMMs on the square of a rectangle; ragged tiles.
        let cases: [(Int, Int)] = [(6, 4), (5, 9), (12, 7)]
        for (w, h) in cases {
            let spec = try wse2(w, h)
            for algo in GEMMAlgorithm.allCases {
                let measured = cycles(try runGEMM(algo, spec, m: 97, k: 61, n: 83))
                let p = try XCTUnwrap(PLMRModel.gemm(algo.rawValue, m: 97, k: 61, n: 83, gridCols: w, gridRows: h, spec: spec))
                XCTAssertLessThanOrEqual(abs(errorPercent(predicted: p.cycles, measured: measured)), 10, "\(algo) \(w)x\(h)")
            }
            for algo in GEMVAlgorithm.allCases {
                let measured = cycles(try runGEMV(algo, spec, rows: 301, cols: 199))
                let p = try XCTUnwrap(PLMRModel.gemv(algo.rawValue, rows: 301, cols: 199, gridCols: w, gridRows: h, spec: spec))
                XCTAssertLessThanOrEqual(abs(errorPercent(predicted: p.cycles, measured: measured)), 10, "\(algo) \(w)x\(h)")
            }
        }
    }
}
