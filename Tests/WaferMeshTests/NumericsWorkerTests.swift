import XCTest
@testable import WaferMesh

/// The numerics worker runs each core's works in issue order, one at a time, and has run all of
/// a core's works whenever the engine settles that core — whichever thread runs them.
final class NumericsWorkerTests: XCTestCase {
    /// Per-core logs of the works run, written only by the thread running that core's work.
    final class Logs: @unchecked Sendable {
        let logs: UnsafeMutablePointer<[Int32]>
        let count: Int
        init(_ n: Int) {
            count = n
            logs = .allocate(capacity: n)
            logs.initialize(repeating: [], count: n)
        }
        deinit {
            logs.deinitialize(count: count)
            logs.deallocate()
        }
    }

    func testWorksRunInIssueOrderAndAreDoneWhenACoreIsSettled() {
        let cores = 301
        // Settling often (small batches, run on the engine thread) and rarely (large batches,
        // split over both threads).
        for settleEvery in [3, 400] {
            let worker = NumericsWorker(coreCount: cores)
            let logs = Logs(cores)
            var expected = [[Int32]](repeating: [], count: cores)
            var rng = SplitMix(seed: UInt64(settleEvery))
            for run in 0..<3 {
                worker.begin { work, core in
                    // A little arithmetic, so the threads overlap.
                    var x = Double(work)
                    for _ in 0..<Int(work % 50) { x = x * 1.000001 + 1 }
                    logs.logs[core].append(x > -1 ? work : -work)
                }
                for i in 0..<20_000 {
                    let core = Int(rng.next() % UInt64(cores))
                    if rng.next() % UInt64(settleEvery) == 0 {
                        worker.settle(core: core)
                        XCTAssertEqual(logs.logs[core], expected[core], "settling 1 in \(settleEvery), run \(run), step \(i)")
                    } else {
                        let work = Int32(truncatingIfNeeded: i + run * 100_000)
                        worker.enqueue(core: core, work: work)
                        expected[core].append(work)
                    }
                }
                worker.flush()
                for c in 0..<cores { XCTAssertEqual(logs.logs[c], expected[c], "settling 1 in \(settleEvery), core \(c)") }
            }
            if settleEvery == 400 { XCTAssertGreaterThan(worker.parallelWorks, 0, "some batches were split over two threads") }
            worker.stop()
        }
    }
}
