import PLMR
import WaferKernels
import WaferSpec
import WaferTrace
import XCTest

/// The entry point that reads kernel marks: parameters in, prediction (or nil) out.
final class ModelEntryTests: XCTestCase {
    func testMarksFromRealRunsArePredictedFromTheirParameters() throws {
        let spec = try wse2(6, 6)
        let gemm = try runGEMM(.gemmt, spec, m: 30, k: 24, n: 18, groups: 2)
        let mark = gemm.kernels[0]
        XCTAssertEqual(mark.params["groups"], "2")
        let p = try XCTUnwrap(PLMRModel.predict(kernel: mark.name, params: mark.params, spec: spec))
        XCTAssertEqual(p.kernel, "gemm")
        XCTAssertEqual(p.algorithm, "gemmt")
        XCTAssertEqual(p.cycles, PLMRModel.gemm("gemmt", m: 30, k: 24, n: 18, gridCols: 6, gridRows: 6, groups: 2, spec: spec)?.cycles)
        let gemv = try runGEMV(.pipeline, spec, rows: 50, cols: 40)
        let q = try XCTUnwrap(PLMRModel.predict(kernel: gemv.kernels[0].name, params: gemv.kernels[0].params, spec: spec))
        XCTAssertEqual(q.algorithm, "pipeline")
        XCTAssertEqual(q.cycles, cycles(gemv))
    }

    func testUnknownKernelsAndBadParametersGiveNil() throws {
        let spec = try wse2(8, 8)
        XCTAssertNil(PLMRModel.predict(kernel: "rmsnorm", params: ["phase": "prefill"], spec: spec))
        XCTAssertNil(PLMRModel.predict(kernel: "meshgemm", params: ["kernel": "gemm", "algorithm": "meshgemm", "m": "8"], spec: spec))
        XCTAssertNil(PLMRModel.predict(kernel: "x", params: ["kernel": "gemm", "algorithm": "strassen", "m": "8", "k": "8", "n": "8", "grid": "8x8"], spec: spec))
        XCTAssertNil(PLMRModel.gemv("ktree", rows: 0, cols: 4, gridCols: 2, gridRows: 2, spec: spec))
        XCTAssertNil(PLMRModel.gemm("gemmt", m: 4, k: 4, n: 4, gridCols: 2, gridRows: 2, groups: 0, spec: spec))
        XCTAssertNil(PLMRModel.parseGrid("8by8"))
        XCTAssertEqual(PLMRModel.parseGrid("12×4")?.cols, 12)
    }

    func testCollectiveMarks() throws {
        let spec = try wse2(16, 8)
        // An allreduce along X of a 16×8 grid: lines of 16 cores, 8 of them.
        let a = try XCTUnwrap(PLMRModel.predict(kernel: "allreduce", params: ["grid": "16x8", "axis": "x", "elements": "1", "op": "max"], spec: spec))
        XCTAssertEqual(a.kernel, "allreduce")
        XCTAssertEqual(a.algorithm, "ktree")
        XCTAssertEqual(a.cycles, PLMRModel.allreduce("ktree", lineLength: 16, elements: 1, spec: spec)?.cycles)
        XCTAssertNil(a.peakSramBytes)
        let b = try XCTUnwrap(PLMRModel.predict(kernel: "broadcast", params: ["n": "8", "elements": "64", "root": "3"], spec: spec))
        // Root 3 of 8: west 3 hops (first send), east 4 hops injected after the west message left
        // the ramp: o + max(o, w) + 4α + w − 1 + o + o with w = 32: 24 + 32 + 4 + 31 + 48 = 139.
        XCTAssertEqual(b.cycles, 139)
        XCTAssertNil(PLMRModel.predict(kernel: "allreduce", params: ["elements": "4"], spec: spec), "no line length")
        XCTAssertNil(PLMRModel.predict(kernel: "allreduce", params: ["grid": "4x4", "axis": "z", "elements": "4"], spec: spec))
    }

    func testCostBreakdownAddsUp() throws {
        let spec = try wse2(32, 32)
        for algo in ["meshgemm", "cannon", "summa", "gemmt"] {
            let p = try XCTUnwrap(PLMRModel.gemm(algo, m: 1024, k: 512, n: 256, gridCols: 32, gridRows: 32, spec: spec))
            XCTAssertEqual(p.computeCycles + p.communicationCycles + p.overheadCycles, p.cycles, algo)
            XCTAssertTrue(["compute", "communication", "overhead"].contains(p.dominantTerm))
            XCTAssertEqual(p.steps, 32)
        }
        for algo in ["ktree", "pipeline", "ring"] {
            let p = try XCTUnwrap(PLMRModel.gemv(algo, rows: 4096, cols: 4096, gridCols: 32, gridRows: 32, spec: spec))
            XCTAssertEqual(p.breakdown.total, p.cycles, algo)
        }
    }
}
