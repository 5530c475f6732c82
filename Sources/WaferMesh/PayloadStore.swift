/// The numbers held in every core's buffers when a run carries payloads.
///
/// Host arithmetic is Float32; the device's element size (`MeshSpec.elementBytes`) is what
/// memory and message sizes are counted in. Buffers are copy-on-write arrays, so a send
/// snapshots a buffer without copying it until either side changes it.
///
/// The buffers live in memory the store owns (not a Swift array of arrays), and the subscript
/// modifies a buffer in place: `store[c, s] += more` or `store[c, s][i] = v` copies nothing
/// when the buffer is not shared. A program's arithmetic touches only its own core's buffers,
/// so the engine may run different cores' arithmetic on different threads.
///
/// Layout: slot-major (`slot * coreCount + core`), so a phase that touches the same slot on
/// every core reads neighbouring buffer references instead of one cache line per core. The
/// accessors are inlinable: a program in another module reads a buffer without a call, and
/// `withBuffer` / `withMutableBuffer` reach the elements without retaining the array.
public final class PayloadStore: @unchecked Sendable {
    public let slotsPerCore: Int
    @usableFromInline let coreCount: Int
    /// Buffers, `slot * coreCount + core`.
    @usableFromInline let storage: UnsafeMutablePointer<[Float]>
    @usableFromInline let count: Int

    public init(coreCount: Int, slotsPerCore: Int) {
        self.slotsPerCore = slotsPerCore
        self.coreCount = coreCount
        count = coreCount * slotsPerCore
        storage = .allocate(capacity: max(1, count))
        storage.initialize(repeating: [], count: count)
    }

    deinit {
        storage.deinitialize(count: count)
        storage.deallocate()
    }

    /// Where buffer `slot` of `core` lives (checked).
    @inlinable @inline(__always) func index(_ core: Int, _ slot: Int32) -> Int {
        precondition(core >= 0 && core < coreCount && slot >= 0 && Int(slot) < slotsPerCore, "payload slot out of range")
        return Int(slot) &* coreCount &+ core
    }

    /// Every buffer, `core * slotsPerCore + slot` (a copy; O(cores × slots)).
    public var buffers: [[Float]] {
        get {
            var out: [[Float]] = []
            out.reserveCapacity(count)
            for c in 0..<coreCount { for s in 0..<slotsPerCore { out.append(storage[s * coreCount + c]) } }
            return out
        }
        set {
            precondition(newValue.count == count, "PayloadStore.buffers needs \(count) buffers")
            for c in 0..<coreCount { for s in 0..<slotsPerCore { storage[s * coreCount + c] = newValue[c * slotsPerCore + s] } }
        }
    }

    /// The buffer `slot` of `core`.
    ///
    /// - Complexity: O(1); modifying through it is in place.
    @inlinable public subscript(core: Int, slot: Int32) -> [Float] {
        _read { yield storage[index(core, slot)] }
        _modify { yield &storage[index(core, slot)] }
    }

    /// Calls `body` with the elements of buffer `slot` of `core`, borrowed (no copy, no retain).
    @inlinable @inline(__always)
    public func withBuffer<R>(_ core: Int, _ slot: Int32, _ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try storage[index(core, slot)].withUnsafeBufferPointer(body)
    }

    /// Makes buffer `slot` of `core` hold `count` elements and calls `body` with them, in place.
    ///
    /// The buffer is reused when it is not shared (a message may still hold a snapshot of it) and
    /// large enough; otherwise a new one is made. The elements' values on entry are unspecified
    /// unless `zeroed` (then all +0.0).
    @inlinable @inline(__always)
    public func withMutableBuffer<R>(_ core: Int, _ slot: Int32, count n: Int, zeroed: Bool,
                                     _ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        let p = storage + index(core, slot)
        if p.pointee.count != n {
            if p.pointee.capacity >= n && n > p.pointee.count {
                p.pointee.append(contentsOf: repeatElement(0, count: n &- p.pointee.count))
            } else if p.pointee.capacity >= n {
                p.pointee.removeLast(p.pointee.count &- n)
            } else {
                p.pointee = [Float](repeating: 0, count: n)
            }
        }
        return try p.pointee.withUnsafeMutableBufferPointer { b in
            if zeroed { b.update(repeating: 0) }
            return try body(b)
        }
    }

    /// Asks the CPU to bring buffer `slot` of `core` into the caches, one `stage` at a time.
    ///
    /// A hint for code that knows which buffers it will touch a little later (a replayed run's
    /// numerics, `MeshProgram.prefetch`): it changes nothing and faults on nothing. Each stage
    /// reads only what the stage before brought in, so call them in order some way apart:
    /// `.reference` (the buffer's reference in the store's table), `.header` (the buffer's
    /// element count and reference count), `.elements` (up to `maxLines` cache lines of them).
    ///
    /// - Complexity: O(1) (at most `maxLines` prefetches).
    @inlinable @inline(__always)
    public func prefetch(_ core: Int, _ slot: Int32, _ stage: PrefetchStage, maxLines: Int = 16) {
        guard core >= 0 && core < coreCount && slot >= 0 && Int(slot) < slotsPerCore else { return }
        let reference = storage + (Int(slot) &* coreCount &+ core)
        if stage == .reference { WaferMesh.prefetch(reference); return }
        // A `[Float]` is one reference to its storage object: a 32-byte header, then the elements.
        let object = UnsafeRawPointer(reference).load(as: UnsafeRawPointer.self)
        if stage == .header { WaferMesh.prefetch(object); return }
        let bytes = reference.pointee.count &* MemoryLayout<Float>.stride &+ 32
        var offset = 64
        while offset < bytes && offset <= maxLines &* 64 {
            WaferMesh.prefetch(object + offset)
            offset &+= 64
        }
    }
}

/// How far a prefetch of a payload buffer goes (`PayloadStore.prefetch`).
public enum PrefetchStage: Sendable {
    /// The buffer's reference, in the store's table.
    case reference
    /// The buffer's header (its reference must be in the caches).
    case header
    /// The buffer's elements (its header must be in the caches).
    case elements
}
