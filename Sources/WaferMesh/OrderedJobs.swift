import Foundation

/// Runs independent jobs on several host threads and hands their results back in job order.
///
/// Job `i` runs on whichever worker thread is free; `deliver` sees the results on the calling
/// thread, job 0 first, each as soon as it and every job before it are done, so output written
/// from `deliver` is the same, line for line, as a one-thread run's. Failures end the same way as
/// on one thread: every job before the first failing one (in job order) runs and is delivered,
/// no job after it starts once the failure is known, and that job's error is rethrown.
///
/// Jobs must not share mutable state: each builds its own engine and recorder (engines share
/// nothing, so runs side by side give the results of runs one after another). `waferscope sweep`
/// runs its points this way.
public enum OrderedJobs {
    /// Runs `job(0) … job(count − 1)` on up to `threads` threads (inline when `threads` is 1).
    ///
    /// - Parameter cost: an estimate of each job's cost; threads start the costliest jobs first
    ///   (the longest one then does not run alone at the end), delivery stays in job order. A
    ///   result that is ready waits for those before it, so a run stopped from outside (a signal)
    ///   has delivered only the results before the first unfinished job.
    /// - Throws: the error of the first failing job in job order (as one thread would), or of
    ///   `deliver` (after the jobs running then have ended).
    public static func run<R>(count: Int, threads: Int, cost: (Int) -> Double = { _ in 0 },
                              job: @escaping @Sendable (Int) throws -> R, deliver: (Int, R) throws -> Void) throws {
        if threads <= 1 || count <= 1 {
            for i in 0..<count { try deliver(i, try job(i)) }
            return
        }
        let costs = (0..<count).map(cost)
        let workers = min(threads, count)
        let board = Board<R>(order: (0..<count).sorted { (costs[$0], $1) > (costs[$1], $0) }, workers: workers)
        for _ in 0..<workers {
            let thread = Thread { board.work(job) }
            thread.stackSize = 8 << 20
            thread.start()
        }
        defer { board.stopAndJoin() }
        for i in 0..<count {
            switch board.take(i) {
            case .success(let r): try deliver(i, r)
            case .failure(let e): throw e
            }
        }
    }

    /// The jobs' shared state, under one lock: the start order and how far it got, the results
    /// not yet taken, the lowest failing job so far, and how many worker threads have not ended.
    private final class Board<R>: @unchecked Sendable {
        private let lock = NSCondition()
        private var results: [Result<R, any Error>?]
        /// Jobs in the order they start.
        private let order: [Int]
        private var next = 0
        /// Jobs at or beyond this index are not needed (the lowest failed one, or 0 once stopped).
        private var limit: Int
        private var running: Int

        init(order: [Int], workers: Int) {
            self.order = order
            results = Array(repeating: nil, count: order.count)
            limit = order.count
            running = workers
        }

        /// A worker's loop: claim the next needed job, run it, post its result.
        ///
        /// A job is needed while its index is below `limit`; `limit` only falls, so a job skipped
        /// once is never needed later, and every job below the final limit runs.
        func work(_ job: (Int) throws -> R) {
            lock.lock()
            while true {
                while next < order.count && order[next] >= limit { next += 1 }
                guard next < order.count else { break }
                let i = order[next]
                next += 1
                lock.unlock()
                let r = Result { try job(i) }
                lock.lock()
                results[i] = r
                if case .failure = r, i < limit { limit = i }
                lock.broadcast()
            }
            running -= 1
            lock.broadcast()
            lock.unlock()
        }

        /// Waits for job `i`'s result and takes it (job `i` is below `limit`, or is the failed one).
        func take(_ i: Int) -> Result<R, any Error> {
            lock.lock()
            defer { lock.unlock() }
            while results[i] == nil { lock.wait() }
            let r = results[i]!
            results[i] = nil
            return r
        }

        /// Starts no new job and waits for every worker thread to end.
        func stopAndJoin() {
            lock.lock()
            limit = 0
            while running > 0 { lock.wait() }
            lock.unlock()
        }
    }
}
