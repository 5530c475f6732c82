import XCTest
@testable import WaferKernels
import WaferMesh
import WaferSpec
import WaferTrace

final class MeshGEMVTests: XCTestCase {
    let algorithms: [LineAlgorithm] = [.ktree(groups: 3), .ktree(groups: 1), .pipeline, .ring]

    func testEveryAllreduceGivesTheDenseResultOnEveryCore() throws {
        for alg in algorithms {
            for (w, h, rows, cols) in [(4, 9, 40, 17), (5, 5, 25, 25), (3, 7, 11, 30), (1, 6, 6, 2)] {
                let x = Matrix.random(rows: 1, cols: rows, seed: 7).values
                let wm = Matrix.random(rows: rows, cols: cols, seed: 8)
                let (_, k, e) = try runKernel(testSpec(w, h), payloads: true) { e, g in
                    try MeshGEMV(engine: e, grid: g, rows: rows, cols: cols, algorithm: alg, x: x, w: wm)
                }
                let ref = Matrix(rows: 1, cols: rows, values: x).multiplied(by: wm).values
                let y = k.result(e.store!)
                XCTAssertEqual(y.count, cols)
                XCTAssertLessThan(zip(y, ref).map { abs($0 - $1) }.max()!, 1e-4, "\(alg) \(w)x\(h)")
                XCTAssertLessThan(k.replicaSpread(e.store!), 1e-4, "\(alg): every core of a column holds y_j")
            }
        }
    }

    func testKTreeCriticalPathFollowsTheGroups() throws {
        // Relay stages (reduce-and-forward) on the critical path: K-tree ~ g/2 + G/2, pipeline ~ n.
        let n = 36
        func makespan(_ alg: LineAlgorithm) throws -> Int64 {
            let (t, _, _) = try runKernel(testSpec(1, n), payloads: false) { e, g in
                try MeshGEMV(engine: e, grid: g, rows: n * 4, cols: 8, algorithm: alg)
            }
            return t.summary.makespanCycles
        }
        let tree6 = try makespan(.ktree(groups: 6)), tree1 = try makespan(.ktree(groups: 1))
        let tree36 = try makespan(.ktree(groups: 36)), pipe = try makespan(.pipeline)
        XCTAssertLessThan(tree6, tree1, "√n groups beat one group")
        XCTAssertLessThan(tree6, tree36, "√n groups beat n groups")
        XCTAssertLessThan(tree6, pipe)
        // The K-tree's relay stages: 6 groups of 6 → 3 stages inside, 3 across, each one recv+add+send.
        let sched = LineSchedule.ktree(n: n, elements: 8, groups: 6, broadcast: true, colourBase: 0)
        let receivesAtRoot = sched.ops[sched.ops.indices.max { a, b in sched.ops[a].count < sched.ops[b].count }!]
        XCTAssertLessThanOrEqual(receivesAtRoot.filter { if case .recv = $0 { return true } else { return false } }.count, 4)
    }

    func testKTreeRoutesPassThroughWithoutRelaysAndUseFewColours() throws {
        let (t, _, _) = try runKernel(testSpec(2, 49), payloads: false) { e, g in
            try MeshGEMV(engine: e, grid: g, rows: 98, cols: 4, algorithm: .ktree(groups: 7))
        }
        XCTAssertEqual(t.summary.maxRelays, 0)
        XCTAssertEqual(t.summary.maxHops, 24, "the broadcast multicasts from the middle root (24) to each end")
        XCTAssertLessThanOrEqual(t.maxColoursPerCore, 7)
    }
}
