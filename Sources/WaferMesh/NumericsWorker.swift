import Foundation

/// Runs a program's arithmetic (`MeshProgram.execute`) in batches on two host threads.
///
/// Compute ops queue their work with their core instead of running it at once. When the engine
/// is about to read or write a core's buffers itself (a send snapshots one, a receive stores
/// one) and that core has queued work — and at the end of every run — the whole queue runs:
/// split by core into chunks (all of a core's work in one chunk, in issue order), which the
/// engine thread and a helper thread claim one at a time. Each core's buffers therefore see
/// exactly the operations, in exactly the order, of a single-threaded run, so the numbers are
/// bit-identical. The engine thread never waits for the helper except for a chunk the helper
/// is running, so a busy host costs little. Only programs whose `executesPerCore` is true
/// (their arithmetic touches nothing but the core's own buffers) are run this way.
final class NumericsWorker: @unchecked Sendable {
    struct Entry {
        var core: Int32
        var work: Int32
    }

    /// Chunks a batch is split into (by core id modulo this).
    static let chunks = 16
    /// Batches smaller than this run on the engine thread alone.
    static let parallelThreshold = 96

    private let condition = NSCondition()
    // Shared under `condition`.
    private var jobPosted = 0
    private var nextChunk = 0
    private var chunksDone = 0
    private var stopping = false
    private var stopped = false

    // The current batch, split into chunks: written by the engine thread before a job is posted,
    // read by both threads during it.
    private var sorted: [Entry] = []
    private var chunkStart = [Int](repeating: 0, count: NumericsWorker.chunks + 1)
    /// Fill positions of the counting sort (engine thread; kept to allocate nothing per batch).
    private var fill = [Int](repeating: 0, count: NumericsWorker.chunks)
    private var execute: ((Int32, Int) -> Void)?

    // Engine-thread state.
    private var pending: [Entry] = []
    /// Batch number in which each core last queued work.
    private let pendingBatch: UnsafeMutablePointer<Int32>
    private var batch: Int32 = 1
    private let coreCount: Int
    /// Batches run, and those split over both threads (for benchmarks).
    private(set) var batches = 0
    private(set) var parallelBatches = 0
    /// Works run, and those run in batches split over both threads.
    private(set) var works = 0
    private(set) var parallelWorks = 0

    init(coreCount: Int) {
        self.coreCount = coreCount
        pendingBatch = .allocate(capacity: max(1, coreCount))
        pendingBatch.initialize(repeating: 0, count: coreCount)
        let thread = Thread { [self] in self.helperLoop() }
        thread.name = "waferscope-numerics"
        thread.start()
    }

    deinit { pendingBatch.deallocate() }

    /// Stops the helper thread. Call once, before releasing the worker.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !stopped { condition.wait() }
        condition.unlock()
    }

    /// Sets the arithmetic of the next run. The queue must be empty.
    func begin(_ execute: @escaping (Int32, Int) -> Void) {
        precondition(pending.isEmpty)
        self.execute = execute
    }

    /// Queues `work` on `core`.
    ///
    /// - Complexity: O(1) amortised.
    @inline(__always) func enqueue(core: Int, work: Int32) {
        pending.append(Entry(core: Int32(truncatingIfNeeded: core), work: work))
        pendingBatch[core] = batch
    }

    /// Makes sure every work queued for `core` has run (running the whole queue if needed).
    @inline(__always) func settle(core: Int) {
        if pendingBatch[core] == batch { flush() }
    }

    /// Runs every queued work.
    func flush() {
        guard !pending.isEmpty, let execute else { return }
        batches += 1
        works += pending.count
        batch &+= 1
        if pending.count < Self.parallelThreshold {
            for e in pending { execute(e.work, Int(e.core)) }
            pending.removeAll(keepingCapacity: true)
            return
        }
        parallelBatches += 1
        parallelWorks += pending.count
        // Counting sort by chunk, stable: each core's works stay in issue order.
        let k = Self.chunks
        for i in 0...k { chunkStart[i] = 0 }
        for e in pending { chunkStart[chunk(of: Int(e.core)) + 1] += 1 }
        for i in 0..<k { chunkStart[i + 1] += chunkStart[i] }
        for i in 0..<k { fill[i] = chunkStart[i] }
        // `sorted` keeps its capacity from batch to batch (no allocation once it is large enough).
        if sorted.count < pending.count {
            sorted.append(contentsOf: repeatElement(Entry(core: 0, work: 0), count: pending.count - sorted.count))
        }
        for e in pending {
            let c = chunk(of: Int(e.core))
            sorted[fill[c]] = e
            fill[c] += 1
        }
        pending.removeAll(keepingCapacity: true)
        condition.lock()
        nextChunk = 0
        chunksDone = 0
        jobPosted += 1
        condition.broadcast()
        condition.unlock()
        runChunks()
        condition.lock()
        while chunksDone < k { condition.wait() }
        condition.unlock()
    }

    /// Chunks are bands of consecutive cores (whole rows on most grids), so data a row shares is
    /// retained and released on one thread.
    @inline(__always) private func chunk(of core: Int) -> Int { core * Self.chunks / max(1, coreCount) }

    /// Claims and runs chunks of the posted batch until none is left.
    private func runChunks() {
        let k = Self.chunks
        while true {
            condition.lock()
            let c = nextChunk
            if c < k { nextChunk += 1 }
            condition.unlock()
            guard c < k else { return }
            if let execute {
                sorted.withUnsafeBufferPointer { s in
                    for i in chunkStart[c]..<chunkStart[c + 1] { execute(s[i].work, Int(s[i].core)) }
                }
            }
            condition.lock()
            chunksDone += 1
            if chunksDone == k { condition.broadcast() }
            condition.unlock()
        }
    }

    /// Checks for a new job this many times before sleeping (batches come every fraction of a
    /// millisecond while a run does arithmetic; waking a sleeping thread takes longer than that).
    static let spins = 5_000

    private func helperLoop() {
        var seen = 0
        condition.lock()
        while true {
            var spun = 0
            while jobPosted == seen && !stopping && spun < Self.spins {
                condition.unlock()
                spun += 1
                condition.lock()
            }
            while jobPosted == seen && !stopping { condition.wait() }
            if stopping { break }
            seen = jobPosted
            condition.unlock()
            runChunks()
            condition.lock()
        }
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}
