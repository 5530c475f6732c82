/// One pending simulation event at a known cycle: a global key, then a slot.
///
/// The key puts the event kind in its top two bits and a global id below (message id, core
/// id), so ties at one cycle are broken the same way in every run and every partitioning. The
/// slot (message, delivery or core slot) only separates copies of one message delivered at once.
struct Event {
    var key: UInt64
    var slot: Int32

    @inline(__always) static func < (a: Event, b: Event) -> Bool {
        a.key != b.key ? a.key < b.key : a.slot < b.slot
    }

    @inline(__always) var kind: Int { Int(truncatingIfNeeded: key >> 62) }
}

/// Event kinds, in the order they run within one cycle.
enum EventKind: UInt64 {
    /// A message head at a router (fresh, forwarded or turned).
    case hop = 0
    /// A relay core re-injecting a stored message.
    case relay = 1
    /// A message tail delivered into a core's mailbox.
    case delivery = 2
    /// A core issuing its next operation.
    case core = 3

    @inline(__always) func key(_ id: UInt64) -> UInt64 { rawValue << 62 | (id & ((1 << 62) - 1)) }
}

/// An event beyond the calendar's horizon.
struct FarEvent {
    var time: Int64
    var event: Event
}

/// A list of events for one (cycle, kind), as a chain of chunks from the queue's shared arena.
struct ChunkList {
    var first: Int32 = -1
    var last: Int32 = -1
    /// Events in the last chunk.
    var fill: Int32 = 0
    var count: Int32 = 0
}

/// The pending events, popped in (time, key, slot) order: a calendar queue.
///
/// Events within `horizon` cycles of the current one go to an unsorted list per (cycle mod
/// horizon, kind); a list is gathered and sorted once, when its cycle and kind come up (lists fill
/// as a few sorted runs, and are usually already in order). Lists are chains of fixed-size chunks
/// drawn from one arena, so memory follows the events pending, not the busiest cycle ever seen
/// times the horizon. Events further out wait in a binary heap on time alone and move into
/// their list when their cycle comes. An event pushed for the current cycle with a kind already
/// being drained (a send's head, a relay's re-injection) goes to a small side heap merged with
/// the sorted list, so the pop order is exactly that of one global heap on (time, key, slot).
///
/// The queue owns raw memory: its owner calls `free()` once.
struct EventQueue {
    static let horizonBits = 14
    static let horizon = 1 << horizonBits
    static let mask = horizon - 1
    static let chunkBits = 6
    static let chunk = 1 << chunkBits

    /// The current cycle (the time of the last event popped).
    private(set) var now: Int64 = 0
    /// The kind being drained at `now` (-1 before the first).
    private(set) var phase = -1
    private let lists: RawArray<ChunkList>
    /// One bit per calendar slot with events, and one bit per non-zero word of those: finding
    /// the next cycle with events reads two words, not a scan of the horizon.
    private let occupied: RawArray<UInt64>
    private let occupiedWords: RawArray<UInt64>
    private var arena: RawVec<Event>
    private var nextChunk: RawVec<Int32>
    private var freeChunks: RawVec<Int32>
    private var current: RawVec<Event>
    private var cursor = 0
    private var side: RawVec<Event>
    private var far: RawVec<FarEvent>
    private var runs: RawVec<Int32>
    private var scratch: RawVec<Event>

    /// Events that went through the far heap (a tuning figure).
    private(set) var farPushes = 0
    /// Lists that needed a sort (were not already in order), per kind, and the events in them.
    private(set) var sorts = (0, 0, 0, 0)
    private(set) var sortedEvents = (0, 0, 0, 0)
    /// Ascending runs in the lists that needed a sort.
    private(set) var sortedRuns = 0

    init() {
        lists = RawArray(repeating: ChunkList(), count: Self.horizon * 4)
        occupied = RawArray(repeating: 0, count: Self.horizon / 64)
        occupiedWords = RawArray(repeating: 0, count: max(1, Self.horizon / 4096))
        arena = RawVec(capacity: 256 * Self.chunk)
        nextChunk = RawVec(capacity: 256)
        freeChunks = RawVec(capacity: 256)
        current = RawVec(capacity: 1024)
        side = RawVec(capacity: 64)
        far = RawVec(capacity: 1024)
        runs = RawVec(capacity: 64)
        scratch = RawVec(capacity: 1024)
    }

    func free() {
        lists.free()
        occupied.free()
        occupiedWords.free()
        arena.free()
        nextChunk.free()
        freeChunks.free()
        current.free()
        side.free()
        far.free()
        runs.free()
        scratch.free()
    }

    /// Bytes of memory the queue holds.
    var allocatedBytes: Int {
        lists.allocatedBytes + occupied.allocatedBytes + occupiedWords.allocatedBytes + arena.allocatedBytes + nextChunk.allocatedBytes
            + freeChunks.allocatedBytes + current.allocatedBytes + side.allocatedBytes + far.allocatedBytes
            + runs.allocatedBytes + scratch.allocatedBytes
    }

    /// Starts a new run at cycle `t0`, the earliest time any event will be pushed. The queue must be empty.
    mutating func start(at t0: Int64) {
        precondition(cursor >= current.count && side.count == 0 && far.count == 0, "event queue restarted while not empty")
        now = t0
        phase = -1
        cursor = 0
        current.removeAll()
    }

    /// Adds an event at cycle `t` (never earlier than `now`).
    ///
    /// - Complexity: O(1), or O(log n) beyond the horizon or for an earlier kind in the current cycle.
    @inline(__always) mutating func push(time t: Int64, _ e: Event) {
        let d = t &- now
        assert(d >= 0, "event scheduled in the past")
        let kind = e.kind
        if d == 0 && kind <= phase {
            sidePush(e)
        } else if UInt64(bitPattern: d) < UInt64(Self.horizon) {
            let s = Int(truncatingIfNeeded: t) & Self.mask
            append(e, to: s << 2 | kind)
            mark(s)
        } else {
            farPush(FarEvent(time: t, event: e))
        }
    }

    @inline(__always) private mutating func append(_ e: Event, to li: Int) {
        let l = lists.base + li
        if l.pointee.fill == Int32(Self.chunk) || l.pointee.last < 0 {
            let c = takeChunk()
            if l.pointee.last < 0 { l.pointee.first = c } else { nextChunk[Int(l.pointee.last)] = c }
            l.pointee.last = c
            l.pointee.fill = 0
        }
        arena[Int(l.pointee.last) << Self.chunkBits | Int(l.pointee.fill)] = e
        l.pointee.fill += 1
        l.pointee.count += 1
    }

    private mutating func takeChunk() -> Int32 {
        if freeChunks.count > 0 {
            let c = freeChunks.removeLast()
            nextChunk[Int(c)] = -1
            return c
        }
        let c = Int32(nextChunk.count)
        nextChunk.append(-1)
        arena.reserve((nextChunk.count) << Self.chunkBits)
        arena.extend(to: (nextChunk.count) << Self.chunkBits)
        return c
    }

    /// The next event in (time, key, slot) order, with `now` set to its time; nil when none is left.
    @inline(__always) mutating func pop() -> Event? {
        while true {
            if side.count > 0 {
                if cursor < current.count {
                    let a = current[cursor]
                    if a < side[0] { cursor += 1; return a }
                }
                return sidePop()
            }
            if cursor < current.count {
                let a = current[cursor]
                cursor += 1
                return a
            }
            if !nextList() { return nil }
        }
    }

    /// The event `d` places after the last one popped in the current (cycle, kind) list, if the
    /// list has that many left (events of the side heap are not looked at): for prefetching.
    @inline(__always) func peek(_ d: Int) -> Event? {
        let i = cursor &+ d
        return i < current.count ? current[i] : nil
    }

    /// Moves to the next non-empty (cycle, kind) list. Returns false when the queue is empty.
    private mutating func nextList() -> Bool {
        while true {
            phase += 1
            if phase == 4 {
                unmark(Int(truncatingIfNeeded: now) & Self.mask)
                guard advanceTime() else { phase = 4; return false }
                phase = 0
            }
            let li = (Int(truncatingIfNeeded: now) & Self.mask) << 2 | phase
            if lists[li].count > 0 {
                gather(li)
                cursor = 0
                sortCurrent()
                return true
            }
        }
    }

    /// Copies list `li` into `current` and returns its chunks to the free pool.
    private mutating func gather(_ li: Int) {
        current.removeAll()
        current.reserve(Int(lists[li].count))
        var c = lists[li].first
        let lastChunk = lists[li].last
        while c >= 0 {
            let n = c == lastChunk ? Int(lists[li].fill) : Self.chunk
            current.append(contentsOf: arena.base + (Int(c) << Self.chunkBits), count: n)
            freeChunks.append(c)
            c = c == lastChunk ? -1 : nextChunk[Int(c)]
        }
        lists[li] = ChunkList()
    }

    /// Marks calendar slot `s` as holding events.
    @inline(__always) private func mark(_ s: Int) {
        let w = s >> 6
        occupied[w] |= 1 << UInt64(s & 63)
        occupiedWords[w >> 6] |= 1 << UInt64(w & 63)
    }

    /// Marks calendar slot `s` as empty.
    @inline(__always) private func unmark(_ s: Int) {
        let w = s >> 6
        let word = occupied[w] & ~(UInt64(1) << UInt64(s & 63))
        occupied[w] = word
        if word == 0 { occupiedWords[w >> 6] &= ~(UInt64(1) << UInt64(w & 63)) }
    }

    /// The first marked calendar slot at or after `pos` (no wrap-around), or -1.
    @inline(__always) private func firstMarked(from pos: Int) -> Int {
        var w = pos >> 6
        let word = occupied[w] & (~UInt64(0) << UInt64(pos & 63))
        if word != 0 { return w << 6 | word.trailingZeroBitCount }
        w += 1
        var sw = w >> 6
        let summaries = occupiedWords.count
        guard sw < summaries else { return -1 }
        var summary = occupiedWords[sw] & (~UInt64(0) << UInt64(w & 63))
        while summary == 0 {
            sw += 1
            guard sw < summaries else { return -1 }
            summary = occupiedWords[sw]
        }
        let wi = sw << 6 | summary.trailingZeroBitCount
        return wi << 6 | occupied[wi].trailingZeroBitCount
    }

    /// Sets `now` to the next cycle with events and moves far events of that cycle into their lists.
    ///
    /// - Complexity: O(horizon / 4096) word reads to find the next marked slot.
    private mutating func advanceTime() -> Bool {
        var next = Int64.max
        let base = Int(truncatingIfNeeded: now) & Self.mask
        // The current slot is unmarked, so a wrapped-around find is a later cycle.
        var p = base + 1 < Self.horizon ? firstMarked(from: base + 1) : -1
        if p < 0 { p = firstMarked(from: 0) }
        if p >= 0 { next = now + Int64((p - base) & Self.mask) }
        if far.count > 0 && far[0].time <= next { next = far[0].time }
        guard next != .max else { return false }
        now = next
        let s = Int(truncatingIfNeeded: next) & Self.mask
        while far.count > 0 && far[0].time == next {
            let e = farPop().event
            append(e, to: s << 2 | e.kind)
            mark(s)
        }
        return true
    }

    /// Sorts the list just gathered, unless it is already in order (the common case).
    ///
    /// Lists are concatenations of a few ascending runs (each cycle's pushes come in key
    /// order), so this is a natural merge sort: find the runs, merge neighbours pairwise.
    ///
    /// - Complexity: O(n log r) for n events in r runs.
    private mutating func sortCurrent() {
        let n = current.count
        let b = current.base
        var i = 1
        while i < n && !(b[i] < b[i - 1]) { i += 1 }
        if i >= n { return }
        if n <= 16 {
            while i < n {
                let x = b[i]
                var j = i
                while j > 0 && x < b[j - 1] { b[j] = b[j - 1]; j -= 1 }
                b[j] = x
                i += 1
            }
            countSort(events: n, runs: 2)
            return
        }
        runs.removeAll()
        runs.append(0)
        runs.append(Int32(i))
        i += 1
        while i < n {
            if b[i] < b[i - 1] { runs.append(Int32(i)) }
            i += 1
        }
        runs.append(Int32(n))
        countSort(events: n, runs: runs.count - 1)
        scratch.reserve(n)
        var src = b, dst = scratch.base
        while runs.count > 2 {
            // Merge runs (0,1), (2,3), …; an odd last run is copied over.
            var w = 0
            var r = 0
            while r + 1 < runs.count {
                let lo = Int(runs[r]), hi = Int(runs[r + 1])
                if r + 2 < runs.count {
                    let end = Int(runs[r + 2])
                    Self.merge(src, lo, hi, end, into: dst)
                    runs[w] = Int32(lo)
                    r += 2
                } else {
                    (dst + lo).update(from: src + lo, count: hi - lo)
                    runs[w] = Int32(lo)
                    r += 1
                }
                w += 1
            }
            runs[w] = Int32(n)
            runs.truncate(to: w + 1)
            swap(&src, &dst)
        }
        if src != b { b.update(from: src, count: n) }
    }

    @inline(__always) private static func merge(_ s: UnsafeMutablePointer<Event>, _ lo: Int, _ mid: Int, _ hi: Int,
                                                into d: UnsafeMutablePointer<Event>) {
        var i = lo, j = mid, k = lo
        while i < mid && j < hi {
            if s[j] < s[i] { d[k] = s[j]; j += 1 } else { d[k] = s[i]; i += 1 }
            k += 1
        }
        if i < mid { (d + k).update(from: s + i, count: mid - i) }
        if j < hi { (d + k).update(from: s + j, count: hi - j) }
    }

    private mutating func countSort(events n: Int, runs r: Int) {
        switch phase {
        case 0: sorts.0 += 1; sortedEvents.0 += n
        case 1: sorts.1 += 1; sortedEvents.1 += n
        case 2: sorts.2 += 1; sortedEvents.2 += n
        default: sorts.3 += 1; sortedEvents.3 += n
        }
        sortedRuns += r
    }

    // MARK: - Heaps

    private mutating func sidePush(_ e: Event) {
        side.append(e)
        let h = side.base
        var i = side.count - 1
        while i > 0 {
            let p = (i - 1) >> 1
            if !(h[i] < h[p]) { break }
            let t = h[i]; h[i] = h[p]; h[p] = t
            i = p
        }
    }

    private mutating func sidePop() -> Event {
        let top = side[0]
        let last = side.removeLast()
        let n = side.count
        if n > 0 {
            let h = side.base
            var i = 0
            while true {
                let l = 2 * i + 1
                if l >= n { break }
                var c = l
                if l + 1 < n && h[l + 1] < h[l] { c = l + 1 }
                if !(h[c] < last) { break }
                h[i] = h[c]
                i = c
            }
            h[i] = last
        }
        return top
    }

    private mutating func farPush(_ e: FarEvent) {
        farPushes += 1
        far.append(e)
        let h = far.base
        var i = far.count - 1
        while i > 0 {
            let p = (i - 1) >> 1
            if h[i].time >= h[p].time { break }
            let t = h[i]; h[i] = h[p]; h[p] = t
            i = p
        }
    }

    private mutating func farPop() -> FarEvent {
        let top = far[0]
        let last = far.removeLast()
        let n = far.count
        if n > 0 {
            let h = far.base
            var i = 0
            while true {
                let l = 2 * i + 1
                if l >= n { break }
                var c = l
                if l + 1 < n && h[l + 1].time < h[l].time { c = l + 1 }
                if h[c].time >= last.time { break }
                h[i] = h[c]
                i = c
            }
            h[i] = last
        }
        return top
    }
}
