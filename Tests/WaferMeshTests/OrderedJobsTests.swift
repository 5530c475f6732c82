import Foundation
import XCTest
import WaferMesh
import WaferSpec
import WaferTrace

/// Independent runs on several host threads: results in job order, failures stop the rest, and
/// engines side by side give what they give one after another.
final class OrderedJobsTests: XCTestCase {
    struct Failed: Error, Equatable { let job: Int }

    /// Delivered in job order on the calling thread whatever order the jobs ran in.
    func testResultsArriveInJobOrder() throws {
        for threads in [1, 2, 3] {
            var seen: [Int] = []
            try OrderedJobs.run(count: 20, threads: threads, cost: { Double($0 % 7) }, job: { i in
                usleep(UInt32((i * 37) % 5) * 200)   // finish out of order
                return i * i
            }) { i, r in
                XCTAssertTrue(Thread.isMainThread)
                XCTAssertEqual(r, i * i)
                seen.append(i)
            }
            XCTAssertEqual(seen, Array(0..<20), "threads \(threads)")
        }
    }

    /// A failing job stops the jobs: what came before it and is done is delivered, nothing after
    /// it is, and its error is rethrown.
    func testAFailureStopsTheJobsAndIsRethrown() {
        for threads in [1, 2] {
            var delivered: [Int] = []
            XCTAssertThrowsError(try OrderedJobs.run(count: 12, threads: threads, job: { i in
                if i == 5 { throw Failed(job: i) }
                return i
            }) { i, _ in delivered.append(i) }) { error in
                XCTAssertEqual(error as? Failed, Failed(job: 5))
            }
            XCTAssertEqual(delivered, Array(0..<5), "threads \(threads)")
        }
    }

    /// An error thrown while delivering ends the run (after the jobs running have ended).
    func testADeliveryErrorEndsTheRun() {
        var delivered = 0
        XCTAssertThrowsError(try OrderedJobs.run(count: 8, threads: 2, job: { $0 }) { i, _ in
            if i == 3 { throw Failed(job: -1) }
            delivered += 1
        })
        XCTAssertEqual(delivered, 3)
    }

    /// Engines on two threads give the traces they give one after another (no shared state).
    func testEnginesSideBySideGiveTheResultsOfOneAfterAnother() throws {
        let spec = try MeshSpec.wse2.subgrid(width: 12, height: 10)
        @Sendable func job(_ seed: Int) throws -> Trace {
            try simulate(spec, detail: .summary) { e in try RunAheadTests.roundsProgram(e, seed: UInt64(seed), rounds: 3) }
        }
        let alone = try (0..<6).map(job)
        var together: [Trace] = []
        try OrderedJobs.run(count: 6, threads: 2, job: { try job($0) }) { _, t in together.append(t) }
        XCTAssertEqual(together.map(\.summary), alone.map(\.summary))
        XCTAssertEqual(together.map(\.linkTotals), alone.map(\.linkTotals))
        XCTAssertEqual(together.map(\.coreTotals), alone.map(\.coreTotals))
        XCTAssertGreaterThan(alone[0].summary.messages, 0)
    }
}
