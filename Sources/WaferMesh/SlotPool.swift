/// The state of one message while its head is routed: 64 bytes, so a hop touches one cache
/// line of it. The slot is recycled when the head reaches the route's end (the deliveries carry
/// what is left to record), so deliveries and receives never touch it.
struct MessageState {
    /// Global id: source core << 40 | sequence.
    var key: UInt64
    /// Cycle the head entered the source router.
    var injection: Int64
    var route: Int32
    /// Index of the current leg in the route table's leg list.
    var leg: Int32
    /// Index of the route's last leg.
    var lastLeg: Int32
    var hopsLeft: Int32
    /// Router the head is at.
    var position: Int32
    /// Flags of the leg the head arrived on (0 when fresh or re-injected by a relay).
    var arrivedFlags: Int32
    var wavelets: Int32
    var bytes: Int32
    var hops: Int32
    var relays: Int32
    var colour: Int32
    /// The current leg's direction (bits 0–7) and flags (bits 8–15), so a hop along a leg reads
    /// nothing but this record and its link.
    var legInfo: Int32
}

/// Records in recycled slots (last-freed-first), with payloads (real numerics) beside them: the
/// messages in flight (`MessagePool`) and the copies delivered or on their way (`DeliveryPool`).
///
/// Slots are reused last-freed-first, so a long run allocates no memory per message once the
/// pool has grown to the largest number in flight. Payloads live beside the states in raw memory
/// of array references (assigned and swapped in place: no uniqueness check of an outer array),
/// touched only when the engine carries them.
struct SlotPool<State> {
    private(set) var states = RawVec<State>(capacity: 1024)
    var payload: RawVec<[Float]>
    private var free = RawVec<Int32>(capacity: 1024)
    /// Payloads are kept here (false for timing-only runs, and while a `NumericsPipeline` keeps them).
    var carriesPayloads: Bool
    /// The state a new slot starts with (the caller overwrites it).
    private let blank: State

    init(blank: State, carriesPayloads: Bool) {
        self.blank = blank
        self.carriesPayloads = carriesPayloads
        payload = RawVec(capacity: carriesPayloads ? 1024 : 1)
    }

    /// Takes a slot (its state is overwritten by the caller).
    ///
    /// - Complexity: amortised O(1).
    @inline(__always) mutating func allocate() -> Int {
        if free.count > 0 { return Int(free.removeLast()) }
        states.append(blank)
        if carriesPayloads { payload.append([]) }
        return states.count - 1
    }

    /// Recycles slot `i` (a message whose head reached the route's end, a copy received).
    @inline(__always) mutating func release(_ i: Int) {
        if carriesPayloads { payload[i] = [] }
        free.append(Int32(i))
    }

    /// Gives every slot a payload entry again (slots allocated while payloads were kept elsewhere have none).
    mutating func padPayloads() {
        while payload.count < states.count { payload.append([]) }
    }

    /// Slots ever allocated (the most in use at once).
    var capacity: Int { states.count }

    var allocatedBytes: Int { states.allocatedBytes + free.allocatedBytes + payload.allocatedBytes }

    func freeMemory() { states.free(); free.free(); payload.freeReleasingElements() }
}

/// Messages in flight. A message's slot is recycled when its head reaches the route's end.
typealias MessagePool = SlotPool<MessageState>

extension SlotPool where State == MessageState {
    init(carriesPayloads: Bool) {
        self.init(blank: MessageState(key: 0, injection: 0, route: 0, leg: 0, lastLeg: 0, hopsLeft: 0, position: 0,
                                      arrivedFlags: 0, wavelets: 0, bytes: 0, hops: 0, relays: 0, colour: 0, legInfo: 0),
                  carriesPayloads: carriesPayloads)
    }
}

/// A copy of a message delivered (or about to be) into a core's mailbox, with everything its
/// delivery and its receive need (64 bytes).
struct DeliveryState {
    /// The message's global id (source core << 40 | sequence).
    var key: UInt64
    /// Cycle the message entered its source router.
    var injection: Int64
    /// Cycle the head was delivered.
    var head: Int64
    /// Cycle the tail arrives (`head + w − 1`): the copy can be received from then on.
    var tail: Int64
    var core: Int32
    /// Next delivery in the core's mailbox (-1: none).
    var next: Int32
    /// The message's colour (mailboxes are searched by colour).
    var colour: Int32
    var bytes: Int32
    var hops: Int32
    var relays: Int32
    var isFinal: Bool
}

/// Copies delivered into mailboxes (or about to be). A slot is recycled when its copy is received.
typealias DeliveryPool = SlotPool<DeliveryState>

extension SlotPool where State == DeliveryState {
    init(carriesPayloads: Bool) {
        self.init(blank: DeliveryState(key: 0, injection: 0, head: 0, tail: 0, core: 0, next: -1, colour: 0, bytes: 0,
                                       hops: 0, relays: 0, isFinal: false),
                  carriesPayloads: carriesPayloads)
    }
}

/// Live SRAM allocations, as per-core linked lists (heads in each core's state) through a shared
/// pool of 12-byte entries; freed entries are chained through the same `next` field.
struct MemoryLedger {
    struct Entry {
        var label: Int32
        var bytes: Int32
        var next: Int32
    }
    private(set) var entries = RawVec<Entry>(capacity: 1024)
    private var freeHead: Int32 = -1

    /// Records an allocation in front of the list at `head`; returns the new head.
    ///
    /// - Complexity: amortised O(1).
    @inline(__always) mutating func push(head: Int32, label: Int32, bytes: Int) -> Int32 {
        let e = Entry(label: label, bytes: Int32(clamping: bytes), next: head)
        if freeHead >= 0 {
            let s = freeHead
            freeHead = entries[Int(s)].next
            entries[Int(s)] = e
            return s
        }
        entries.append(e)
        return Int32(entries.count - 1)
    }

    /// Removes the most recent allocation under `label` from the list at `head`.
    ///
    /// - Returns: its bytes and the entry it held (`push`'s return), or nil when the list has
    ///   none under `label`.
    /// - Complexity: O(live allocations of the core).
    @inline(__always) mutating func pop(head: inout Int32, label: Int32) -> (bytes: Int, entry: Int32)? {
        var prev: Int32 = -1
        var s = head
        while s >= 0 {
            let e = entries[Int(s)]
            if e.label == label {
                if prev < 0 { head = e.next } else { entries[Int(prev)].next = e.next }
                entries[Int(s)].next = freeHead
                freeHead = s
                return (Int(e.bytes), s)
            }
            prev = s
            s = e.next
        }
        return nil
    }

    /// The allocations of the list at `head`, newest first.
    func live(head: Int32) -> [(label: Int32, bytes: Int)] {
        var out: [(Int32, Int)] = []
        var s = head
        while s >= 0 { out.append((entries[Int(s)].label, Int(entries[Int(s)].bytes))); s = entries[Int(s)].next }
        return out
    }

    var allocatedBytes: Int { entries.allocatedBytes }

    func freeMemory() { entries.free() }
}
