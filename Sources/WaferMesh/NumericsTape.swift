import Foundation
import Synchronization

/// A recorded run's numerics split into two lanes, one per host thread, for replaying them on
/// both host cores with the same results as replaying the recorded order on one.
///
/// Every entry belongs to one core: a work and a snapshot to the core whose buffers they read, a
/// copy and a store to the core that receives. The lane of a core is fixed (the first half of
/// the cores, the second half), so a core's buffers see the same operations in the same order
/// in its lane as in the recording. The only data crossing lanes is a message's payload: a copy
/// whose snapshot sits in the other lane waits until that lane has passed it. Message and
/// delivery slots are renumbered so no two uses share one (a slot reused in the recording could
/// otherwise be overwritten by one lane while the other still reads it), and a message's
/// payload stays in its table until its last copy takes it, when all its copies are in one lane,
/// or else until the replay ends.
final class TapeLanes: @unchecked Sendable {
    /// One operation of a lane (16 bytes).
    struct Op {
        var kind: Kind
        var a: Int32
        var b: Int32
        var c: Int32
    }

    enum Kind: Int32 {
        /// `execute(work: b, core: a)`.
        case work
        /// Message `c` takes a snapshot of buffer `b` of core `a`.
        case snapshot
        /// Delivery `b` gets message `a`'s payload (none when `a` < 0), once the other lane has
        /// passed its op `c` (when `c` ≥ 0).
        case copy
        /// A copy that takes the payload: the message's last copy, when all its copies are in
        /// one lane (no other lane reads it after).
        case move
        /// Core `b` stores delivery `a`'s payload in buffer `c` (none when `c` < 0).
        case store
    }

    let lanes: [[Op]]
    let messages: Int
    let deliveries: Int

    /// The lane of `core` among `coreCount`.
    @inline(__always) static func lane(of core: Int, coreCount: Int) -> Int { core &* 2 >= coreCount ? 1 : 0 }

    /// Splits `tape` (the engine's order; a copy's `c` is its receiving core).
    ///
    /// - Complexity: O(tape).
    init(_ tape: [NumericsPipeline.Entry], coreCount: Int) {
        var lanes: [[Op]] = [[], []]
        var message: [Int32: (id: Int32, lane: Int, index: Int32)] = [:]
        // Per message id: the lanes its copies are in (bits) and its last copy (lane, index).
        var copies: [(lanes: UInt8, lane: Int, index: Int)] = []
        var delivery: [Int32: Int32] = [:]
        var messages: Int32 = 0, deliveries: Int32 = 0
        for e in tape {
            switch e.kind {
            case .start, .call: break
            case .work:
                lanes[Self.lane(of: Int(e.a), coreCount: coreCount)].append(Op(kind: .work, a: e.a, b: e.b, c: 0))
            case .snapshot:
                let l = Self.lane(of: Int(e.a), coreCount: coreCount)
                message[e.c] = (messages, l, Int32(lanes[l].count))
                lanes[l].append(Op(kind: .snapshot, a: e.a, b: e.b, c: messages))
                copies.append((0, 0, -1))
                messages += 1
            case .copy, .move:
                let l = Self.lane(of: Int(e.c), coreCount: coreCount)
                let source = message[e.a]
                let wait = source.map { $0.lane != l ? $0.index : -1 } ?? -1
                if let id = source?.id { copies[Int(id)] = (copies[Int(id)].lanes | (1 << l), l, lanes[l].count) }
                lanes[l].append(Op(kind: .copy, a: source?.id ?? -1, b: deliveries, c: wait))
                delivery[e.b] = deliveries
                deliveries += 1
                if e.kind == .move { message[e.a] = nil }
            case .consume:
                let l = Self.lane(of: Int(e.b), coreCount: coreCount)
                lanes[l].append(Op(kind: .store, a: delivery.removeValue(forKey: e.a) ?? -1, b: e.b, c: e.c))
            }
        }
        for c in copies where c.index >= 0 && c.lanes.nonzeroBitCount == 1 { lanes[c.lane][c.index].kind = .move }
        self.lanes = lanes
        self.messages = Int(messages)
        self.deliveries = Int(deliveries)
    }

    var bytes: Int { lanes.reduce(0) { $0 + $1.count } * MemoryLayout<Op>.stride }
}

/// One replay of `TapeLanes`: the payload tables and each lane's progress.
final class TapeReplay: @unchecked Sendable {
    private let tape: TapeLanes
    private let store: PayloadStore
    private let slots: SlotMap
    private let execute: (Int32, Int) -> Void
    /// `MeshProgram.prefetch(work:core:store:stage:)`, or nil: no prefetching.
    private let prefetch: ((Int32, Int, PrefetchStage) -> Void)?
    private let messages: UnsafeMutablePointer<[Float]>
    private let deliveries: UnsafeMutablePointer<[Float]>
    private let progress = (PaddedAtomic(), PaddedAtomic())

    /// Ops each lane publishes its progress after (and before it waits).
    static let publishEvery = 128

    /// - Parameter slots: the recorded run's buffers renamed to the replaying program's.
    init(_ tape: TapeLanes, store: PayloadStore, slots: SlotMap = SlotMap(from: [], to: []), execute: @escaping (Int32, Int) -> Void,
         prefetch: ((Int32, Int, PrefetchStage) -> Void)?) {
        self.tape = tape
        self.store = store
        self.slots = slots
        self.execute = execute
        self.prefetch = prefetch
        messages = .allocate(capacity: max(1, tape.messages))
        messages.initialize(repeating: [], count: tape.messages)
        deliveries = .allocate(capacity: max(1, tape.deliveries))
        deliveries.initialize(repeating: [], count: tape.deliveries)
    }

    deinit {
        messages.deinitialize(count: tape.messages)
        messages.deallocate()
        deliveries.deinitialize(count: tape.deliveries)
        deliveries.deallocate()
    }

    /// Replays lane `l` (0 or 1); the other lane runs on another thread at the same time.
    ///
    /// Prefetches as the one-thread replay does (`MeshEngine.prefetchAhead`).
    func run(lane l: Int) {
        let mine = l == 0 ? progress.0 : progress.1
        let other = l == 0 ? progress.1 : progress.0
        var seen = 0
        let prefetches = prefetch != nil, prefetch = self.prefetch ?? { _, _, _ in }
        let slots = self.slots
        tape.lanes[l].withUnsafeBufferPointer { ops in
            let n = ops.count
            @inline(__always) func ahead(_ f: TapeLanes.Op, _ stage: PrefetchStage) {
                switch f.kind {
                case .work: prefetch(f.b, Int(f.a), stage)
                case .snapshot: if stage != .elements { store.prefetch(Int(f.a), slots[f.b], stage) }
                case .store: if f.c >= 0 && stage != .elements { store.prefetch(Int(f.b), slots[f.c], stage) }
                case .copy, .move: break
                }
            }
            for i in 0..<n {
                if prefetches { MeshEngine.prefetchAhead(of: i, count: n) { ahead(ops[$0], $1) } }
                let op = ops[i]
                switch op.kind {
                case .work:
                    execute(op.b, Int(op.a))
                case .snapshot:
                    messages[Int(op.c)] = store[Int(op.a), slots[op.b]]
                case .copy, .move:
                    if op.c >= 0 && seen <= Int(op.c) {
                        mine.value.store(i, ordering: .releasing)
                        seen = Self.wait(for: other, toPass: Int(op.c))
                    }
                    if op.a < 0 {
                        deliveries[Int(op.b)] = []
                    } else if op.kind == .move {
                        swap(&deliveries[Int(op.b)], &messages[Int(op.a)])
                    } else {
                        deliveries[Int(op.b)] = messages[Int(op.a)]
                    }
                case .store:
                    if op.a >= 0 {
                        if op.c >= 0 { swap(&store[Int(op.b), slots[op.c]], &deliveries[Int(op.a)]) }
                        deliveries[Int(op.a)] = []
                    }
                }
                if (i &+ 1) & (Self.publishEvery - 1) == 0 { mine.value.store(i &+ 1, ordering: .releasing) }
            }
            mine.value.store(ops.count, ordering: .releasing)
        }
    }

    /// Waits until `lane` has done its op `index`; returns how many ops it has done.
    private static func wait(for lane: PaddedAtomic, toPass index: Int) -> Int {
        var spun = 0
        while true {
            let done = lane.value.load(ordering: .acquiring)
            if done > index { return done }
            spun += 1
            if spun > 2_000 { sched_yield() }
        }
    }
}
