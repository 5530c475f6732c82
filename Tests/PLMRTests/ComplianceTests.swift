import PLMR
import WaferKernels
import WaferSpec
import WaferTrace
import XCTest

/// The model's PLMR figures (peak SRAM, colours, longest route) against what the engine measured.
final class ComplianceTests: XCTestCase {
    func check(_ p: KernelPrediction?, _ t: Trace, _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let p = try XCTUnwrap(p, what, file: file, line: line)
        XCTAssertEqual(p.peakSramBytes, t.peakSramBytesPerCore, "M of \(what)", file: file, line: line)
        XCTAssertEqual(p.coloursPerCore, t.maxColoursPerCore, "R of \(what)", file: file, line: line)
        XCTAssertEqual(p.maxHops, Int(t.summary.maxHops), "L of \(what)", file: file, line: line)
        XCTAssertEqual(p.compliance.memoryFits, p.peakSramBytes! <= t.spec.sramBytesPerCore, file: file, line: line)
    }

    func testGEMMComplianceMatchesTheEngine() throws {
        for side in [2, 3, 5, 8, 12, 13] {
            let spec = try wse2(side, side)
            let (m, k, n) = (side * 7, side * 5 + 3, side * 6)
            for algo in GEMMAlgorithm.allCases {
                let t = try runGEMM(algo, spec, m: m, k: k, n: n)
                try check(PLMRModel.gemm(algo.rawValue, m: m, k: k, n: n, gridCols: side, gridRows: side, spec: spec),
                          t, "\(algo) \(side)x\(side)")
            }
        }
    }

    func testSUMMAOnARectangleAndGEMVCompliance() throws {
        let spec = try wse2(6, 4)
        let t = try runGEMM(.summa, spec, m: 40, k: 36, n: 30)
        try check(PLMRModel.gemm("summa", m: 40, k: 36, n: 30, gridCols: 6, gridRows: 4, spec: spec), t, "summa 6x4")
        for (w, h) in [(3, 9), (4, 16), (2, 7)] {
            let spec = try wse2(w, h)
            for algo in GEMVAlgorithm.allCases {
                let t = try runGEMV(algo, spec, rows: 100, cols: 60)
                try check(PLMRModel.gemv(algo.rawValue, rows: 100, cols: 60, gridCols: w, gridRows: h, spec: spec),
                          t, "gemv \(algo) \(w)x\(h)")
            }
        }
    }

    func testVerdicts() throws {
        // MeshGEMM 2048³ on 8×8 needs 256×256 tiles: 5 of them at 2 B, 640 KB > 48 KB.
        let big = try XCTUnwrap(PLMRModel.gemm("meshgemm", m: 2048, k: 2048, n: 2048, gridCols: 8, gridRows: 8, spec: try wse2(8, 8)))
        XCTAssertFalse(big.compliance.memoryFits)
        XCTAssertTrue(big.verdicts.contains("M: 640.0 KB of 48.0 KB VIOLATED"), "\(big.verdicts)")
        XCTAssertTrue(big.verdicts.contains("L: max 2 hops, 0 relays"), "\(big.verdicts)")
        // SUMMA needs a colour per source row and column: 32 + 32 > 24.
        let summa = try XCTUnwrap(PLMRModel.gemm("summa", m: 512, k: 512, n: 512, gridCols: 32, gridRows: 32, spec: try wse2(32, 32)))
        XCTAssertEqual(summa.coloursPerCore, 64)
        XCTAssertTrue(summa.verdicts.contains("R: 64 of 24 colours VIOLATED"), "\(summa.verdicts)")
        XCTAssertEqual(summa.maxHops, 31)
        // Cannon's wraparound crosses the row; MeshGEMM stays within 2 hops with O(1) colours.
        let cannon = try XCTUnwrap(PLMRModel.gemm("cannon", m: 512, k: 512, n: 512, gridCols: 32, gridRows: 32, spec: try wse2(32, 32)))
        XCTAssertEqual(cannon.maxHops, 31)
        let mesh = try XCTUnwrap(PLMRModel.gemm("meshgemm", m: 512, k: 512, n: 512, gridCols: 32, gridRows: 32, spec: try wse2(32, 32)))
        XCTAssertEqual(mesh.maxHops, 2)
        // Data and credit rings on rows and columns, 3 colours each (+ alignment towards the
        // successor on half the rows): O(1), the same on any grid.
        XCTAssertEqual(mesh.coloursPerCore, 18)
        XCTAssertEqual(PLMRModel.gemm("meshgemm", m: 512, k: 512, n: 512, gridCols: 64, gridRows: 64, spec: try wse2(64, 64))?.coloursPerCore, 18)
        XCTAssertTrue(mesh.compliance.routesFit && mesh.compliance.memoryFits)
        XCTAssertEqual(mesh.verdicts.count, 4)
        XCTAssertTrue(mesh.verdicts[0].hasPrefix("P: 1024 of 1024 cores"))
    }
}
