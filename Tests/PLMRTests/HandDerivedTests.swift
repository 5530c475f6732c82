import PLMR
import WaferKernels
import WaferSpec
import XCTest

/// Small contention-free cases whose cycles are derived by hand (in the comments) from the engine's
/// documented semantics; model and engine must both give exactly that.
///
/// All use `handSpec`: α = 1, o = 2, 1 MAC/cycle, 4-byte elements and 4 B/cycle links, so a message
/// of E elements is E wavelets; a send issued at t injects at t + 2; a message injected at i
/// reaches a core h hops away with its tail at i + h + E − 1; a receive completes 2 after the
/// tail; a compute of n MACs takes n + 2.
final class HandDerivedTests: XCTestCase {
    /// 2×2 MeshGEMM, m = k = n = 4: 2×2 tiles (4-wavelet messages), local product 8 MACs → 10.
    ///
    /// Row 1 aligns (1 round): send A at 0 → inject 2 → tail 2+1+3 = 6 → received at 8.
    /// Row 1, step 0 from 8: send A (inject 10), send B (issue 10, inject max(12, 10+4) = 14),
    /// compute 12…22; A from its row neighbour (injected 10) has its tail at 14 → received 24;
    /// B from row 0 (row 0 injects its B at 6: after its A at 2 leaves the ramp) tail 10 → 26.
    /// Last step: compute 26…36. Row 0 ends earlier (B from row 1 arrives at 18 → 20, +10 = 30).
    /// Kernel: 36. Cannon on 2×2 has the same ring (0 → 1 → 0), so the same 36. (With P = 2 no
    /// credit is exchanged: alignment has one round, and credits flow only before steps 1 … P − 2.)
    func testTwoByTwoMeshGEMMAndCannon() throws {
        let spec = handSpec(2, 2)
        for algo in [GEMMAlgorithm.meshgemm, .cannon] {
            let predicted = try XCTUnwrap(PLMRModel.gemm(algo.rawValue, m: 4, k: 4, n: 4, gridCols: 2, gridRows: 2, spec: spec))
            XCTAssertEqual(predicted.cycles, 36, "\(algo)")
            XCTAssertEqual(cycles(try runGEMM(algo, spec, m: 4, k: 4, n: 4)), 36, "\(algo)")
        }
    }

    /// K-tree GEMV on a line of 9 cores (grid 1×9), rows = 9, cols = 2: local 1·2 MACs → 4;
    /// the allreduce carries E = 2 elements (2 wavelets), a reduce costs 2 + 2 = 4.
    ///
    /// Groups of 3 ([0,3), [3,6), [6,9)) with roots 1, 4, 7; the global root is 4.
    /// Phase 1 (each group alike): 0 and 2 send at 4 → inject 6 → heads at 1 at 7; they share
    /// 1's ejection ramp: tails 8 and 10. Root 1: receive 10, reduce 14, receive 16, reduce 20.
    /// Phase 2: 1 and 7 send to 4 (3 hops) at 20 → inject 22 → heads 25; tails 26 and 28.
    /// Root 4: receive 28, reduce 32, receive 34, reduce 38.
    /// Broadcast: west issue 38 → inject 40 → head at 0 at 44, tail 45 → receive 47, copy 49;
    /// east issue 40 → inject 42 → head at 8 at 46, tail 47 → receive 49, copy 51. Kernel: 51.
    func testKTreeGEMVOnALineOfNine() throws {
        let spec = handSpec(1, 9)
        let predicted = try XCTUnwrap(PLMRModel.gemv("ktree", rows: 9, cols: 2, gridCols: 1, gridRows: 9, spec: spec))
        XCTAssertEqual(predicted.cycles, 51)
        XCTAssertEqual(cycles(try runGEMV(.ktree, spec, rows: 9, cols: 2, groups: 3)), 51)
        XCTAssertEqual(predicted.maxHops, 4, "the multicast from the middle to either end")
    }

    /// Pipeline GEMV on a line of 4: local 4; forward link o + (α + w − 1) + o + (E + o)
    /// = 2 + 2 + 2 + 4 = 10, backward link 2 + 2 + 2 + 2 (copy) = 8; 4 + 3·(10 + 8) = 58.
    func testPipelineGEMVOnALineOfFour() throws {
        let spec = handSpec(1, 4)
        XCTAssertEqual(PLMRModel.gemv("pipeline", rows: 4, cols: 2, gridCols: 1, gridRows: 4, spec: spec)?.cycles, 58)
        XCTAssertEqual(cycles(try runGEMV(.pipeline, spec, rows: 4, cols: 2)), 58)
    }

    /// Ring GEMV on a line of 4: chunks of ⌈2/4⌉ = 1 element (1 wavelet, so w − 1 = 0).
    /// Interleaved ring 0 → 2 → 3 → 1 → 0: links of 2, 1, 2, 1 hops. Staging o = 2, then 6 steps of
    /// o + h + o plus the step's compute (reduce-scatter 1 + 2, allgather copy 2). The chain of
    /// messages walks 6 consecutive ring links: at most 2+1+2+1 + 2+1 = 9 hops.
    /// 4 (local) + 2 + 6·4 + 9 + 3·3 + 3·2 = 54.
    func testRingGEMVOnALineOfFour() throws {
        let spec = handSpec(1, 4)
        XCTAssertEqual(PLMRModel.gemv("ring", rows: 4, cols: 2, gridCols: 1, gridRows: 4, spec: spec)?.cycles, 54)
        XCTAssertEqual(cycles(try runGEMV(.ring, spec, rows: 4, cols: 2)), 54)
    }

    /// 2×2 SUMMA, m = k = n = 4: 2 steps of 2×2 panels (4 wavelets), local 10.
    ///
    /// Step 0 (owners column 0, row 0): (0,0) injects A east at 2, B south at 6. (0,1) receives A
    /// (tail 6) at 8, sends B south (inject 10), computes to 20. (1,0) sends A east (inject 2),
    /// receives B (tail 10) at 12, computes to 22. (1,1) receives A at 8, B (tail 14) at 16,
    /// computes to 26. Step 1 (owners column 1, row 1): (1,1) injects A west at 28, B north at 32.
    /// (1,0) receives A (tail 32) at 34, sends B north (inject 36). (0,0) receives A from (0,1)
    /// (injected 22, tail 26) at 28 and B (tail 40) at 42, computes to 52. Kernel: 52.
    func testTwoByTwoSUMMA() throws {
        let spec = handSpec(2, 2)
        XCTAssertEqual(PLMRModel.gemm("summa", m: 4, k: 4, n: 4, gridCols: 2, gridRows: 2, spec: spec)?.cycles, 52)
        XCTAssertEqual(cycles(try runGEMM(.summa, spec, m: 4, k: 4, n: 4)), 52)
    }

    /// A single core: no communication at all, one compute of 3·5·7 = 105 MACs (+ o) = 107;
    /// GEMM-T's root also keeps its tile (one more op: 109).
    func testOneCoreIsOneCompute() throws {
        let spec = handSpec(1, 1)
        for algo in GEMMAlgorithm.allCases {
            let expected = algo == .gemmt ? 109 : 107
            XCTAssertEqual(PLMRModel.gemm(algo.rawValue, m: 3, k: 5, n: 7, gridCols: 1, gridRows: 1, spec: spec)?.cycles, expected)
            XCTAssertEqual(cycles(try runGEMM(algo, spec, m: 3, k: 5, n: 7)), expected, "\(algo)")
        }
    }
}
