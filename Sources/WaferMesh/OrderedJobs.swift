import Foundation

/// Runs independent jobs on several host threads and hands their results back in job order.
///
/// Job `i` runs on whichever worker thread is free; `deliver` sees the results on the calling
/// thread, job 0 first, each as soon as it and every job before it are done, so output written
/// from `deliver` is the same, line for line, as a one-thread run's. After the first job that
/// throws, no new job starts; the results before it that are done are still delivered (up to the
/// first job that never ran), then its error is rethrown. Jobs must not share mutable state: each
/// builds its own engine and recorder (engines share nothing, so runs side by side give the results
/// of runs one after another). `waferscope sweep` runs its points this way.
public enum OrderedJobs {
    /// Runs `job(0) … job(count − 1)` on up to `threads` threads (inline when `threads` is 1).
    ///
    /// - Parameter cost: an estimate of each job's cost; threads start the costliest jobs first
    ///   (the longest one then does not run alone at the end), delivery stays in job order.
    /// - Throws: the error of the job that failed first (one thread: the first in job order), or
    ///   of `deliver`.
    public static func run<R>(count: Int, threads: Int, cost: (Int) -> Double = { _ in 0 },
                              job: @escaping @Sendable (Int) throws -> R, deliver: (Int, R) throws -> Void) throws {
        if threads <= 1 || count <= 1 {
            for i in 0..<count { try deliver(i, try job(i)) }
            return
        }
        let costs = (0..<count).map(cost)
        let board = Board<R>(order: (0..<count).sorted { (costs[$0], $1) > (costs[$1], $0) })
        let workers = min(threads, count)
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

    /// The jobs' shared state, under one lock: the next job to start, the finished results not yet
    /// taken, whether to stop, and how many workers still run.
    private final class Board<R>: @unchecked Sendable {
        private let lock = NSCondition()
        private var results: [Result<R, any Error>?]
        /// Jobs in the order they start.
        private let order: [Int]
        private var next = 0
        private var started: [Bool]
        /// The first failure, which stopped the jobs.
        private var failure: (any Error)?
        private var stopped = false
        private var running = 0

        init(order: [Int]) {
            self.order = order
            results = Array(repeating: nil, count: order.count)
            started = Array(repeating: false, count: order.count)
        }

        /// A worker's loop: claim the next job, run it, post its result.
        func work(_ job: (Int) throws -> R) {
            lock.lock()
            running += 1
            while !stopped && next < order.count {
                let i = order[next]
                next += 1
                started[i] = true
                lock.unlock()
                let r = Result { try job(i) }
                lock.lock()
                results[i] = r
                if case .failure(let e) = r, failure == nil {
                    failure = e
                    stopped = true
                }
                lock.broadcast()
            }
            running -= 1
            lock.broadcast()
            lock.unlock()
        }

        /// Waits for job `i`'s result and takes it; after a failure, a job that never started
        /// gives that failure.
        func take(_ i: Int) -> Result<R, any Error> {
            lock.lock()
            defer { lock.unlock() }
            while results[i] == nil {
                if stopped && !started[i], let failure { return .failure(failure) }
                lock.wait()
            }
            let r = results[i]!
            results[i] = nil
            return r
        }

        /// Starts no new job and waits for the ones running to end.
        func stopAndJoin() {
            lock.lock()
            stopped = true
            // A worker that has not reached its loop yet finds `stopped` set and leaves at once.
            while running > 0 { lock.wait() }
            lock.unlock()
        }
    }
}
