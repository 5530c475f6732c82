import Foundation
import Synchronization

/// Runs a run's arithmetic on a second host thread, behind the simulation, in the engine's order.
///
/// With it the engine thread does no arithmetic and touches no payload: every compute work,
/// every snapshot a send takes, every copy a router hands a core and every copy a receive stores
/// becomes one 16-byte entry in a ring, which a helper thread replays in the order the engine
/// wrote it. That order is the order a single-threaded run does the same things in, so each
/// buffer sees exactly the same operations in the same order and the numbers are bit-identical.
/// The simulation never depends on the numbers (a decode step's timing is the same with and
/// without them), so the engine waits for the helper only when the ring is full and at the end
/// of a run (`end`), after which the store is the engine's again.
///
/// Payloads of messages and deliveries live in the helper's own tables while a run is piped
/// (`begin` takes the pools' payloads over and `end` hands them back), so copies still in
/// mailboxes carry over into runs that do their arithmetic on the engine thread.
///
/// Only programs whose `executesPerCore` is true are piped: their arithmetic reads nothing the
/// engine changes during a run.
final class NumericsPipeline: @unchecked Sendable {
    /// One thing to replay.
    struct Entry {
        var kind: Kind
        var a: Int32
        var b: Int32
        var c: Int32
    }

    enum Kind: Int32 {
        /// A run starts: its arithmetic and store are the ones `begin` set.
        case start
        /// `execute(work: b, core: a)`.
        case work
        /// Message `c` carries a snapshot of buffer `b` of core `a`.
        case snapshot
        /// Delivery `b` gets a copy of message `a`'s payload.
        case copy
        /// Delivery `b` takes message `a`'s payload (the message's last copy).
        case move
        /// Core `b` stores delivery `a`'s payload in buffer `c` (none when `c` < 0); the delivery is recycled.
        case consume
        /// Calls the closure `call` set (a replay's second lane, `TapeReplay`).
        case call
    }

    /// Entries the ring holds (a power of two): 512 KB, within the host's L2 cache.
    static let capacity = 1 << 15
    /// The engine publishes what it wrote every this many entries (and whenever it waits).
    static let publishEvery = 256
    /// Checks for more work this many times before yielding the processor.
    static let spins = 2_000

    private let ring: UnsafeMutablePointer<Entry>
    /// Entries published by the engine thread, and replayed by the helper (each on a cache line
    /// of its own, as is each thread's state: sharing one would make every push and every replay
    /// pull the line from the other core).
    private let written = PaddedAtomic()
    private let replayed = PaddedAtomic()
    /// 1 while a run is piped.
    private let live = PaddedAtomic()

    /// Engine-thread state.
    private struct Producer {
        var tail = 0
        var replayedSeen = 0
        var runs = 0
        var stalls = 0
    }
    private let producer: UnsafeMutablePointer<Producer>
    /// Helper-thread state.
    private struct Consumer {
        var works = 0
    }
    private let consumer: UnsafeMutablePointer<Consumer>

    /// Entries written (beyond each run's `start`), and the times the engine waited for room in the ring (for benchmarks).
    var entries: Int { producer.pointee.tail - producer.pointee.runs }
    var stalls: Int { producer.pointee.stalls }
    /// Works run on the helper thread (read between runs).
    var works: Int { consumer.pointee.works }

    // Set by `begin` and read by the helper at the run's `start` entry; the helper's payload tables.
    private var execute: ((Int32, Int) -> Void)?
    private var callBody: (() -> Void)?
    private var store: PayloadStore?
    /// The helper's references for the current run (not counted: `execute` and `store` hold them),
    /// so that replaying touches no reference count the engine thread also touches.
    private unowned(unsafe) var runStore: PayloadStore?
    private var messagePayload = RawVec<[Float]>(capacity: 1024)
    private var deliveryPayload = RawVec<[Float]>(capacity: 1024)

    private let condition = NSCondition()
    private var stopping = false
    private var stopped = false

    init() {
        ring = .allocate(capacity: Self.capacity)
        producer = Self.line(Producer())
        consumer = Self.line(Consumer())
        let thread = Thread { [self] in self.helperLoop() }
        thread.name = "waferscope-numerics"
        thread.start()
    }

    deinit {
        ring.deallocate()
        UnsafeMutableRawPointer(producer).deallocate()
        UnsafeMutableRawPointer(consumer).deallocate()
        messagePayload.freeReleasingElements()
        deliveryPayload.freeReleasingElements()
    }

    /// Stops the helper thread. Call once, with no run piped, before releasing the pipeline.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !stopped { condition.wait() }
        condition.unlock()
    }

    /// Starts piping a run: its arithmetic is `execute` on `store`, and the payloads of messages
    /// and deliveries move from the pools into the pipeline.
    func begin(store: PayloadStore, messages: inout MessagePool, deliveries: inout DeliveryPool,
               _ execute: @escaping (Int32, Int) -> Void) {
        precondition(live.value.load(ordering: .relaxed) == 0, "a run is piped already")
        self.execute = execute
        self.store = store
        Self.take(&messages.payload, into: &messagePayload)
        Self.take(&deliveries.payload, into: &deliveryPayload)
        messages.carriesPayloads = false
        deliveries.carriesPayloads = false
        condition.lock()
        live.value.store(1, ordering: .releasing)
        condition.broadcast()
        condition.unlock()
        producer.pointee.runs += 1
        push(Entry(kind: .start, a: 0, b: 0, c: 0))
    }

    /// Waits until every entry has been replayed, then hands the payloads back to the pools.
    func end(messages: inout MessagePool, deliveries: inout DeliveryPool) {
        waitForReplay(upTo: producer.pointee.tail)
        live.value.store(0, ordering: .releasing)
        messages.carriesPayloads = true
        deliveries.carriesPayloads = true
        messages.padPayloads()
        deliveries.padPayloads()
        Self.give(&messagePayload, to: &messages.payload)
        Self.give(&deliveryPayload, to: &deliveries.payload)
        execute = nil
        callBody = nil
        store = nil
        runStore = nil
    }

    /// Has the helper call `body` once it has replayed everything before, starting now (the
    /// entries are published at once: the caller may wait for what `body` does). One per run.
    func call(_ body: @escaping () -> Void) {
        callBody = body
        push(Entry(kind: .call, a: 0, b: 0, c: 0))
        written.value.store(producer.pointee.tail, ordering: .releasing)
    }

    // MARK: Engine thread

    @inline(__always) func work(core: Int, work: Int32) {
        push(Entry(kind: .work, a: Int32(truncatingIfNeeded: core), b: work, c: 0))
    }

    @inline(__always) func snapshot(core: Int, buffer: Int32, message m: Int) {
        push(Entry(kind: .snapshot, a: Int32(truncatingIfNeeded: core), b: buffer, c: Int32(truncatingIfNeeded: m)))
    }

    @inline(__always) func copy(message m: Int, delivery d: Int, isFinal: Bool) {
        push(Entry(kind: isFinal ? .move : .copy, a: Int32(truncatingIfNeeded: m), b: Int32(truncatingIfNeeded: d), c: 0))
    }

    @inline(__always) func consume(delivery d: Int, core: Int, buffer: Int32) {
        push(Entry(kind: .consume, a: Int32(truncatingIfNeeded: d), b: Int32(truncatingIfNeeded: core), c: buffer))
    }

    /// - Complexity: O(1), unless the ring is full.
    @inline(__always) private func push(_ e: Entry) {
        let p = producer
        let tail = p.pointee.tail
        if tail &- p.pointee.replayedSeen >= Self.capacity { waitForRoom() }
        ring[tail & (Self.capacity - 1)] = e
        p.pointee.tail = tail &+ 1
        if (tail &+ 1) & (Self.publishEvery - 1) == 0 { written.value.store(tail &+ 1, ordering: .releasing) }
    }

    /// The ring looked full by the last position seen: look again, and wait (a stall) only if it is.
    @inline(never) private func waitForRoom() {
        let p = producer
        p.pointee.replayedSeen = replayed.value.load(ordering: .acquiring)
        guard p.pointee.tail &- p.pointee.replayedSeen >= Self.capacity else { return }
        p.pointee.stalls += 1
        waitForReplay(upTo: p.pointee.tail - Self.capacity / 2)
    }

    /// Publishes everything written and waits until the helper has replayed entry `n − 1`.
    private func waitForReplay(upTo n: Int) {
        written.value.store(producer.pointee.tail, ordering: .releasing)
        var spun = 0
        while true {
            let seen = replayed.value.load(ordering: .acquiring)
            producer.pointee.replayedSeen = seen
            if seen >= n { return }
            spun += 1
            if spun > Self.spins { sched_yield() }
        }
    }

    // MARK: Helper thread

    private func helperLoop() {
        var done = 0
        condition.lock()
        while true {
            while live.value.load(ordering: .acquiring) == 0 && !stopping { condition.wait() }
            if stopping { break }
            condition.unlock()
            done = replay(from: done)
            condition.lock()
        }
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    /// Replays entries as they are published until the run ends; returns the entries replayed.
    private func replay(from start: Int) -> Int {
        var h = start
        var spun = 0
        var run: ((Int32, Int) -> Void)?
        while true {
            let w = written.value.load(ordering: .acquiring)
            if h < w {
                spun = 0
                while h < w {
                    apply(ring[h & (Self.capacity - 1)], run: &run)
                    h &+= 1
                    if h & (Self.publishEvery - 1) == 0 { replayed.value.store(h, ordering: .releasing) }
                }
                replayed.value.store(h, ordering: .releasing)
                continue
            }
            // Nothing new: the run may have ended (`end` waits for every entry before it clears `live`).
            if live.value.load(ordering: .acquiring) == 0 && written.value.load(ordering: .acquiring) == h { return h }
            spun += 1
            // A long stretch of the run with no arithmetic: stop holding the processor.
            if spun > 50 * Self.spins { usleep(20) } else if spun > Self.spins { sched_yield() }
        }
    }

    /// Replays one entry; `run` is the current run's arithmetic (set by its `start` entry).
    @inline(__always) private func apply(_ e: Entry, run: inout ((Int32, Int) -> Void)?) {
        switch e.kind {
        case .work:
            consumer.pointee.works &+= 1
            run?(e.b, Int(e.a))
        case .start:
            run = execute
            runStore = store
        case .snapshot:
            guard let store = runStore else { return }
            Self.reach(&messagePayload, Int(e.c))
            messagePayload[Int(e.c)] = store[Int(e.a), e.b]
        case .copy:
            Self.reach(&deliveryPayload, Int(e.b))
            Self.reach(&messagePayload, Int(e.a))
            deliveryPayload[Int(e.b)] = messagePayload[Int(e.a)]
        case .move:
            Self.reach(&deliveryPayload, Int(e.b))
            Self.reach(&messagePayload, Int(e.a))
            // The delivery's slot is empty (recycled slots are), so the message's is left empty.
            swap(&deliveryPayload[Int(e.b)], &messagePayload[Int(e.a)])
        case .consume:
            Self.reach(&deliveryPayload, Int(e.a))
            if let store = runStore, e.c >= 0 { swap(&store[Int(e.b), e.c], &deliveryPayload[Int(e.a)]) }
            deliveryPayload[Int(e.a)] = []
        case .call:
            callBody?()
        }
    }

    /// A value alone on a 128-byte-aligned block (two cache lines, for the adjacent-line prefetcher).
    private static func line<T>(_ value: T) -> UnsafeMutablePointer<T> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(128, MemoryLayout<T>.stride), alignment: 128)
        let p = raw.bindMemory(to: T.self, capacity: 1)
        p.initialize(to: value)
        return p
    }

    /// Makes `i` an index of `v` (new slots hold no payload).
    @inline(__always) private static func reach(_ v: inout RawVec<[Float]>, _ i: Int) {
        while v.count <= i { v.append([]) }
    }

    /// Moves every payload of `pool` into `mine` (index for index), leaving the pool's empty.
    private static func take(_ pool: inout RawVec<[Float]>, into mine: inout RawVec<[Float]>) {
        for i in 0..<pool.count where !pool[i].isEmpty {
            reach(&mine, i)
            swap(&mine[i], &pool[i])
        }
    }

    /// Moves every payload of `mine` back into `pool` (which covers every slot in use, and holds
    /// none of its own while a run is piped), leaving `mine` empty.
    private static func give(_ mine: inout RawVec<[Float]>, to pool: inout RawVec<[Float]>) {
        for i in 0..<mine.count where !mine[i].isEmpty {
            precondition(i < pool.count, "a payload for a slot the pool never had")
            swap(&mine[i], &pool[i])
        }
    }
}

/// An atomic integer with no other data on its cache lines.
final class PaddedAtomic: Sendable {
    private let before: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)
    let value = Atomic<Int>(0)
    private let after: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)
}
