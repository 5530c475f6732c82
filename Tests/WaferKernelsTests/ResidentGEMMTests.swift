import XCTest
import WaferKernels
import WaferMesh
import WaferSpec
import WaferTrace

final class ResidentGEMMTests: XCTestCase {
    /// Uneven contiguous blocks, like the decode layout's splits (some may be empty).
    private func split(_ n: Int, _ parts: Int) -> [Range<Int>] {
        var out: [Range<Int>] = [], start = 0
        for p in 0..<parts {
            let c = n / parts + (p < n % parts ? 1 : 0)
            out.append(start..<(start + c)); start += c
        }
        return out
    }

    private func block(_ m: Matrix, _ r: Range<Int>, _ c: Range<Int>) -> [Float] {
        r.flatMap { i in c.map { j in m[i, j] } }
    }

    private let slots = ResidentGEMM.Slots(a: 3, b: 4, c: 5, acc: 0, incoming: 1, staging: 2)

    func testMeshGEMMFormMatchesTheDenseProductAndRestoresB() throws {
        for (side, m, k, n) in [(1, 3, 4, 5), (2, 5, 3, 4), (4, 9, 10, 7), (5, 7, 13, 11), (6, 3, 8, 12)] {
            let a = Matrix.random(rows: m, cols: k, seed: 11), b = Matrix.random(rows: k, cols: n, seed: 12)
            let mr = split(m, side), kr = split(k, side), nr = split(n, side)
            var initialB: [Int: [Float]] = [:]
            let (trace, kernel, engine) = try runKernel(testSpec(side, side), payloads: true) { e, g in
                let store = e.store!
                for py in 0..<side {
                    for px in 0..<side {
                        let c = g.core(px: px, py: py)
                        store[c, 3] = block(a, mr[py], kr[px])
                        store[c, 4] = block(b, kr[py], nr[px])
                        store[c, 5] = [Float](repeating: 0, count: mr[py].count * nr[px].count)
                        initialB[c] = store[c, 4]
                    }
                }
                let inv = e.invocation(name: "test meshgemm", params: [:])
                let tiles = ResidentGEMM.Tiles(macs: 8, aElements: 6, bElements: 6, cElements: 4)
                return try ResidentGEMM(.meshgemm, engine: e, grid: g, slots: slots, tiles: tiles, invocation: inv,
                                        label: "test") { core, _, s in
                    let (px, py) = g.offsets(of: core)!
                    let rows = mr[py].count, cols = nr[px].count
                    guard rows > 0, cols > 0 else { return }
                    TileMath.gemmAccumulate(s[core, 3], s[core, 4], &s[core, 5], m: rows, k: s[core, 4].count / cols, n: cols)
                }
            }
            let dense = a.multiplied(by: b)
            let store = engine.store!
            for py in 0..<side {
                for px in 0..<side {
                    let c = kernel.grid.core(px: px, py: py)
                    let want = block(dense, mr[py], nr[px])
                    XCTAssertEqual(store[c, 5].count, want.count)
                    for (x, y) in zip(store[c, 5], want) { XCTAssertEqual(x, y, accuracy: 1e-4, "side \(side) core (\(px),\(py))") }
                    XCTAssertEqual(store[c, 4], initialB[c], "B is back where it started on (\(px),\(py)), side \(side)")
                }
            }
            if side > 2 { XCTAssertEqual(trace.summary.maxHops, 2, "every ring step is at most 2 hops") }
            XCTAssertLessThanOrEqual(trace.maxColoursPerCore, 24)
        }
    }

    func testGEMMTFormReduceAddsIntoTheBlockColumnAndRestoresB() throws {
        for (side, m, k, n) in [(1, 2, 3, 4), (3, 7, 5, 6), (4, 8, 9, 5), (5, 6, 11, 9)] {
            let a = Matrix.random(rows: m, cols: k, seed: 21), b = Matrix.random(rows: n, cols: k, seed: 22)
            let mr = split(m, side), kr = split(k, side), nr = split(n, side)
            var initialB: [Int: [Float]] = [:]
            let (_, kernel, engine) = try runKernel(testSpec(side, side), payloads: true) { e, g in
                let store = e.store!
                for py in 0..<side {
                    for px in 0..<side {
                        let c = g.core(px: px, py: py)
                        store[c, 3] = block(a, mr[py], kr[px])
                        store[c, 4] = block(b, nr[py], kr[px])
                        initialB[c] = store[c, 4]
                    }
                }
                let inv = e.invocation(name: "test gemmt", params: [:])
                let tiles = ResidentGEMM.Tiles(macs: 8, aElements: 6, bElements: 6, cElements: 4)
                return try ResidentGEMM(.gemmt, engine: e, grid: g, slots: slots, tiles: tiles, invocation: inv,
                                        label: "test") { core, blk, s in
                    let (px, py) = g.offsets(of: core)!
                    s[core, 0] = TileMath.gemmTransposedB(s[core, 3], s[core, 4], m: mr[py].count, k: kr[px].count, n: nr[blk].count)
                }
            }
            let dense = a.multiplied(by: Matrix(rows: k, cols: n, values: (0..<k).flatMap { i in (0..<n).map { j in b[j, i] } }))
            let store = engine.store!
            for py in 0..<side {
                for px in 0..<side {
                    let c = kernel.grid.core(px: px, py: py)
                    let want = block(dense, mr[py], nr[px])
                    XCTAssertEqual(store[c, 5].count, want.count, "side \(side) core (\(px),\(py))")
                    for (x, y) in zip(store[c, 5], want) { XCTAssertEqual(x, y, accuracy: 1e-4, "side \(side) core (\(px),\(py))") }
                    XCTAssertEqual(store[c, 4], initialB[c], "B is back where it started")
                }
            }
        }
    }

    func testTimingOnlyRunTakesTheSameCyclesAsTheRunWithNumbers() throws {
        let side = 4
        func run(_ payloads: Bool) throws -> Trace {
            var product: ResidentGEMM.Product?
            if payloads {
                product = { (core: Int, _: Int, s: PayloadStore) in s[core, 5][0] += 1 }
            }
            let (trace, _, _) = try runKernel(testSpec(side, side), payloads: payloads) { (e: MeshEngine, g: KernelGrid) -> ResidentGEMM in
                if let store = e.store {
                    for c in 0..<(side * side) { store[c, 3] = [1, 2]; store[c, 4] = [3, 4]; store[c, 5] = [0] }
                }
                let inv = e.invocation(name: "t", params: [:])
                let tiles = ResidentGEMM.Tiles(macs: 64, aElements: 16, bElements: 16, cElements: 16)
                return try ResidentGEMM(.meshgemm, engine: e, grid: g, slots: slots, tiles: tiles, invocation: inv, label: "t",
                                        product: product)
            }
            return trace
        }
        let a = try run(true), b = try run(false)
        XCTAssertEqual(a.summary.makespanCycles, b.summary.makespanCycles)
        XCTAssertGreaterThan(a.summary.makespanCycles, 0)
    }

    func testNonSquareGridIsAnError() throws {
        let spec = testSpec(4, 3)
        let engine = try MeshEngine(spec: spec, recorder: try TraceRecorder(spec: spec, detail: .summary), payloadSlots: nil)
        let grid = try KernelGrid(geometry: engine.geometry)
        XCTAssertThrowsError(try ResidentGEMM(.meshgemm, engine: engine, grid: grid, slots: slots,
                                              tiles: .init(macs: 1, aElements: 1, bElements: 1, cElements: 1),
                                              invocation: 0, label: "x", product: nil))
    }
}
