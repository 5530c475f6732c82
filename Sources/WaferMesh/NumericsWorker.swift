import Foundation

/// Runs a program's arithmetic (`MeshProgram.execute`) on a helper thread while the engine
/// thread goes on simulating.
///
/// Compute ops queue their work (core, work) in a ring instead of running it at once; the helper
/// thread runs the queue in issue order, so each core's works run in exactly the order of a
/// single-threaded run, on one thread. When the engine is about to read or write a core's buffers
/// itself (a send snapshots one, a receive stores one) it first waits until the helper has run
/// every work queued for that core — usually long done, since the helper runs while the engine
/// simulates other cores — and at the end of every run it waits for the whole queue. Each core's
/// buffers therefore see exactly the operations, in exactly the order, of a single-threaded run,
/// so the numbers are bit-identical; and the arithmetic overlaps the simulation instead of
/// following it. Only programs whose `executesPerCore` is true (their arithmetic touches nothing
/// but the core's own buffers) are run this way.
///
/// When the helper falls behind (more than `backlog` works queued) and a core has nothing queued,
/// the engine thread runs that core's new work itself instead of queueing it: the two threads
/// share the arithmetic when it outweighs the simulation, and a core's works still never run on
/// both threads at once or out of order.
///
/// The ring is handed over in segments (`segment` works, or fewer when the engine needs a core
/// settled), so the two threads meet under the lock once per segment, not once per work.
final class NumericsWorker: @unchecked Sendable {
    struct Entry {
        var core: Int32
        var work: Int32
    }

    /// Works per hand-over and per completion report.
    static let segment = 64
    /// Ring capacity (a power of two); the engine waits when the helper is this far behind.
    static let capacity = 1 << 16
    /// Queued works beyond which the engine thread runs a settled core's work itself (tests set
    /// it to 0 to run every settled core's work on the engine thread).
    var backlog = 2 * NumericsWorker.segment
    /// Lock checks before a waiting thread sleeps (with a yield between checks).
    static let spins = 2_000

    private let condition = NSCondition()
    // Shared under `condition`: works handed over (sequence numbers, from 0), taken by the helper
    // and finished by it; whether either thread sleeps on the condition.
    private var published = 0
    private var taken = 0
    private var done = 0
    private var helperSleeping = false
    private var engineSleeping = false
    private var stopping = false
    private var stopped = false

    /// Entries by sequence number modulo `capacity`: written by the engine thread beyond
    /// `published`, read by the helper below it.
    private let ring: UnsafeMutablePointer<Entry>
    /// The arithmetic of the current run: set while the queue is empty.
    private var execute: ((Int32, Int) -> Void)?

    // Engine-thread state.
    /// Sequence numbers handed out (the next work's number).
    private var tail = 0
    /// `done` as last read by the engine thread.
    private var knownDone = 0
    /// Per core: one past the sequence number of its last queued work.
    private let lastWork: UnsafeMutablePointer<Int>
    private let coreCount: Int
    /// Segments handed over (`batches`, all run on the helper: `parallelBatches`), works
    /// (`works`) and those run on the helper (`parallelWorks`), for benchmarks.
    private(set) var batches = 0
    var parallelBatches: Int { batches }
    private(set) var works = 0
    private(set) var parallelWorks = 0
    /// Times the engine thread had to wait for the helper.
    private(set) var waits = 0

    init(coreCount: Int) {
        self.coreCount = coreCount
        lastWork = .allocate(capacity: max(1, coreCount))
        lastWork.initialize(repeating: 0, count: max(1, coreCount))
        ring = .allocate(capacity: Self.capacity)
        let thread = Thread { [self] in self.helperLoop() }
        thread.name = "waferscope-numerics"
        thread.start()
    }

    deinit {
        lastWork.deallocate()
        ring.deallocate()
    }

    /// Stops the helper thread. Call once, before releasing the worker.
    func stop() {
        flush()
        condition.lock()
        stopping = true
        condition.broadcast()
        while !stopped { condition.wait() }
        condition.unlock()
    }

    /// Sets the arithmetic of the next run. The queue must be empty.
    func begin(_ execute: @escaping (Int32, Int) -> Void) {
        precondition(knownDone == tail, "NumericsWorker.begin with works queued")
        self.execute = execute
    }

    /// Queues `work` on `core`.
    ///
    /// - Complexity: O(1) amortised (a lock once per `segment` works).
    @inline(__always) func enqueue(core: Int, work: Int32) {
        works &+= 1
        if tail &- knownDone > backlog && lastWork[core] <= knownDone, let execute {
            execute(work, core)
            return
        }
        parallelWorks &+= 1
        if tail &- knownDone >= Self.capacity { waitDone(tail &- Self.capacity &+ 1) }
        ring[tail & (Self.capacity - 1)] = Entry(core: Int32(truncatingIfNeeded: core), work: work)
        tail &+= 1
        lastWork[core] = tail
        if tail &- publishedByEngine >= Self.segment { publish() }
    }

    /// `published` as last set by the engine thread (only it writes `published`).
    private var publishedByEngine = 0

    /// Makes sure every work queued for `core` has run.
    @inline(__always) func settle(core: Int) {
        let need = lastWork[core]
        if need > knownDone { waitDone(need) }
    }

    /// Waits until every queued work has run.
    func flush() {
        if tail > knownDone { waitDone(tail) }
    }

    /// Hands the queued works to the helper.
    private func publish() {
        guard tail != publishedByEngine else { return }
        batches += 1
        condition.lock()
        published = tail
        knownDone = done
        if helperSleeping { condition.broadcast() }
        condition.unlock()
        publishedByEngine = tail
    }

    /// Waits until the works with sequence numbers below `need` have run.
    private func waitDone(_ need: Int) {
        if need > publishedByEngine { publish() }
        waits += 1
        var spun = 0
        condition.lock()
        while done < need {
            if spun < Self.spins {
                spun += 1
                condition.unlock()
                sched_yield()
                condition.lock()
            } else {
                engineSleeping = true
                condition.wait()
                engineSleeping = false
            }
        }
        knownDone = done
        condition.unlock()
    }

    private func helperLoop() {
        condition.lock()
        while true {
            var spun = 0
            while taken == published && !stopping {
                if spun < Self.spins {
                    spun += 1
                    condition.unlock()
                    sched_yield()
                    condition.lock()
                } else {
                    helperSleeping = true
                    condition.wait()
                    helperSleeping = false
                }
            }
            if stopping && taken == published { break }
            let start = taken, end = min(published, start + Self.segment)
            taken = end
            let run = execute
            condition.unlock()
            if let run {
                for s in start..<end {
                    let e = ring[s & (Self.capacity - 1)]
                    run(e.work, Int(e.core))
                }
            }
            condition.lock()
            done = end
            if engineSleeping { condition.broadcast() }
        }
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}
