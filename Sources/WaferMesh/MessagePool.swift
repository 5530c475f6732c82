/// Messages in flight, as parallel arrays indexed by a recycled slot.
///
/// Slots are reused through a free list, so a long run allocates no memory per message once the
/// pool has grown to the largest number in flight.
struct MessagePool {
    var key: [UInt64] = []
    var route: [Int32] = []
    var leg: [Int32] = []
    var hopsLeft: [Int32] = []
    var position: [Int32] = []
    var arrivedLeg: [Int32] = []
    var wavelets: [Int32] = []
    var bytes: [Int32] = []
    var injection: [Int64] = []
    var hops: [Int32] = []
    var relays: [Int32] = []
    var references: [Int32] = []
    var payload: [[Float]] = []
    private var free: [Int32] = []

    /// Takes a slot for a new message.
    ///
    /// - Complexity: amortised O(1).
    mutating func allocate() -> Int {
        if let s = free.popLast() { return Int(s) }
        key.append(0); route.append(0); leg.append(0); hopsLeft.append(0); position.append(0)
        arrivedLeg.append(-1); wavelets.append(0); bytes.append(0); injection.append(0)
        hops.append(0); relays.append(0); references.append(0); payload.append([])
        return key.count - 1
    }

    /// Drops one reference; recycles the slot when none are left.
    mutating func release(_ m: Int) {
        references[m] -= 1
        if references[m] == 0 {
            payload[m] = []
            free.append(Int32(m))
        }
    }

    /// Slots ever allocated (the most messages in flight at once).
    var capacity: Int { key.count }
}

/// Copies of messages delivered (or about to be) into cores' mailboxes.
struct DeliveryPool {
    var message: [Int32] = []
    var core: [Int32] = []
    var head: [Int64] = []
    var tail: [Int64] = []
    var next: [Int32] = []
    var isFinal: [Bool] = []
    private var free: [Int32] = []

    mutating func allocate() -> Int {
        if let s = free.popLast() { return Int(s) }
        message.append(0); core.append(0); head.append(0); tail.append(0); next.append(-1); isFinal.append(false)
        return message.count - 1
    }

    mutating func recycle(_ d: Int) { free.append(Int32(d)) }
}

/// Live SRAM allocations per core, as linked lists through shared arrays.
struct MemoryLedger {
    var label: [Int32] = []
    var bytes: [Int32] = []
    var next: [Int32] = []
    var head: [Int32: Int32] = [:]
    private var free: [Int32] = []

    /// Records an allocation on `core`.
    mutating func push(core: Int, label l: Int32, bytes b: Int) {
        let s: Int
        if let f = free.popLast() { s = Int(f) } else {
            label.append(0); bytes.append(0); next.append(-1); s = label.count - 1
        }
        label[s] = l; bytes[s] = Int32(clamping: b)
        next[s] = head[Int32(core)] ?? -1
        head[Int32(core)] = Int32(s)
    }

    /// Removes the most recent allocation under `label` on `core`; returns its bytes, or nil.
    mutating func pop(core: Int, label l: Int32) -> Int? {
        var prev: Int32 = -1
        var s = head[Int32(core)] ?? -1
        while s >= 0 {
            if label[Int(s)] == l {
                if prev < 0 { head[Int32(core)] = next[Int(s)] } else { next[Int(prev)] = next[Int(s)] }
                free.append(s)
                return Int(bytes[Int(s)])
            }
            prev = s
            s = next[Int(s)]
        }
        return nil
    }

    /// The live allocations on `core`, newest first.
    func live(core: Int) -> [(label: Int32, bytes: Int)] {
        var out: [(Int32, Int)] = []
        var s = head[Int32(core)] ?? -1
        while s >= 0 { out.append((label[Int(s)], Int(bytes[Int(s)]))); s = next[Int(s)] }
        return out
    }
}
