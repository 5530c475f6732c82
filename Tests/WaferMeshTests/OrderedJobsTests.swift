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

    /// A failing job stops the jobs as on one thread: everything before it is delivered, its
    /// error is rethrown — also when later jobs start first (costs reversed).
    func testAFailureStopsTheJobsAtTheSameRowAsOneThread() {
        for (threads, reversed) in [(1, false), (2, false), (2, true), (3, true)] {
            var delivered: [Int] = []
            XCTAssertThrowsError(try OrderedJobs.run(count: 12, threads: threads, cost: { reversed ? Double($0) : 0 }, job: { i in
                if i == 5 { throw Failed(job: i) }
                usleep(500)
                return i
            }) { i, _ in delivered.append(i) }) { error in
                XCTAssertEqual(error as? Failed, Failed(job: 5))
            }
            XCTAssertEqual(delivered, Array(0..<5), "threads \(threads), reversed \(reversed)")
        }
    }

    /// Two failures: the one earlier in job order is rethrown even when it fails later in time.
    func testTheFirstFailureInJobOrderWins() {
        var delivered: [Int] = []
        XCTAssertThrowsError(try OrderedJobs.run(count: 10, threads: 2, cost: { $0 == 7 ? 1 : 0 }, job: { i in
            if i == 7 { throw Failed(job: 7) }          // starts first, fails at once
            if i == 3 { usleep(20_000); throw Failed(job: 3) }
            return i
        }) { i, _ in delivered.append(i) }) { error in
            XCTAssertEqual(error as? Failed, Failed(job: 3))
        }
        XCTAssertEqual(delivered, [0, 1, 2])
    }

    /// Once a failure is known, no job after it starts.
    func testNoJobAfterAFailureStarts() {
        let started = StartLog()
        XCTAssertThrowsError(try OrderedJobs.run(count: 40, threads: 2, job: { i in
            started.add(i)
            if i == 2 { throw Failed(job: 2) }
            usleep(2_000)
            return i
        }) { _, _ in })
        // Jobs start in order; at most the two running when job 2 failed come after it.
        XCTAssertLessThanOrEqual(started.indices.max() ?? 0, 4)
        XCTAssertTrue(Set(0...2).isSubset(of: started.indices))
    }

    /// An error thrown while delivering ends the run (after the jobs running have ended).
    func testADeliveryErrorEndsTheRun() {
        var delivered = 0
        XCTAssertThrowsError(try OrderedJobs.run(count: 8, threads: 2, job: { $0 }) { i, _ in
            if i == 3 { throw Failed(job: -1) }
            delivered += 1
        }) { error in
            XCTAssertEqual(error as? Failed, Failed(job: -1))
        }
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

/// Job indices that started, from any thread.
final class StartLog: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [Int] = []
    func add(_ i: Int) { lock.lock(); list.append(i); lock.unlock() }
    var indices: Set<Int> { lock.lock(); defer { lock.unlock() }; return Set(list) }
}
