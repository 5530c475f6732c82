/// One pending simulation event. Ordered by time, then by a global key, then by slot.
///
/// The key puts the event kind in its top two bits and a global id below (message id, core
/// id), so ties at one cycle are broken the same way in every run and every partitioning.
struct Event {
    var time: Int64
    var key: UInt64
    var slot: Int32

    @inline(__always) static func < (a: Event, b: Event) -> Bool {
        if a.time != b.time { return a.time < b.time }
        if a.key != b.key { return a.key < b.key }
        return a.slot < b.slot
    }
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

/// A binary min-heap of events.
struct EventQueue {
    private var heap: [Event] = []

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }

    init() { heap.reserveCapacity(1024) }

    /// - Complexity: O(log n).
    @inline(__always) mutating func push(_ e: Event) {
        heap.append(e)
        heap.withUnsafeMutableBufferPointer { h in
            var i = h.count - 1
            while i > 0 {
                let p = (i - 1) >> 1
                if !(h[i] < h[p]) { break }
                h.swapAt(i, p)
                i = p
            }
        }
    }

    /// - Complexity: O(log n).
    @inline(__always) mutating func pop() -> Event? {
        guard !heap.isEmpty else { return nil }
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap.withUnsafeMutableBufferPointer { h in
                let n = h.count
                var i = 0
                let e = last
                while true {
                    let l = 2 * i + 1
                    if l >= n { break }
                    var c = l
                    if l + 1 < n && h[l + 1] < h[l] { c = l + 1 }
                    if !(h[c] < e) { break }
                    h[i] = h[c]
                    i = c
                }
                h[i] = e
            }
        }
        return top
    }
}
