import WaferSpec

/// One operation a core issues. Every core runs its own sequence of these.
public enum MeshOp: Sendable, Hashable {
    /// Local arithmetic: `macs` multiply-accumulates (or element operations); takes
    /// ⌈macs / macsPerCycle⌉ + opOverhead cycles. With payloads, the program's
    /// `execute(work:core:store:)` does the real arithmetic (`work` < 0: none).
    case compute(macs: Int, label: Int32, work: Int32)
    /// Asynchronous send of `bytes` along a declared route starting at this core. The core pays
    /// the op overhead and runs on; the ramp injects one wavelet per cycle. With payloads, the
    /// contents of `buffer` are snapshotted now.
    case send(route: Int32, bytes: Int, buffer: Int32)
    /// Blocks until a message on `colour` has fully arrived (oldest first), then stores its
    /// payload in `buffer` (with payloads) and pays the op overhead.
    case recv(colour: Int32, buffer: Int32)
    /// Blocks until every message this core sent has left its injection ramp.
    case waitSends
    /// Allocates `bytes` of SRAM under `label` (PLMR-M accounting).
    case alloc(label: Int32, bytes: Int)
    /// Frees the most recent live allocation under `label`.
    case free(label: Int32)
    /// Marks the start of a kernel invocation (see `MeshEngine.invocation`).
    case begin(invocation: Int32)
    /// Marks the end of a kernel invocation.
    case end(invocation: Int32)
    /// Does nothing and takes no time (lets a program keep a fixed number of ops per step).
    case nop
}

/// A distributed program: what every core does, computed on demand.
///
/// Programs are SPMD-like functions of (core, program counter), so the engine stores no
/// per-core op lists: a full-fabric run needs no memory per op.
public protocol MeshProgram {
    /// The op `core` issues at `pc`, or nil when the core has finished.
    func op(core: Int, pc: Int) -> MeshOp?
    /// The real arithmetic of a compute op, run only when the engine carries payloads.
    func execute(work: Int32, core: Int, store: PayloadStore)
    /// Whether `execute` reads and writes nothing but `core`'s own buffers (and immutable data),
    /// so the engine may run it on another host thread — in order per core, with bit-identical
    /// results. Default: false (run on the engine's thread).
    var executesPerCore: Bool { get }
}

extension MeshProgram {
    public func execute(work: Int32, core: Int, store: PayloadStore) {}
    public var executesPerCore: Bool { false }
}

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
public final class PayloadStore: @unchecked Sendable {
    public let slotsPerCore: Int
    /// Buffers, `core * slotsPerCore + slot`.
    private let storage: UnsafeMutablePointer<[Float]>
    private let count: Int

    public init(coreCount: Int, slotsPerCore: Int) {
        self.slotsPerCore = slotsPerCore
        count = coreCount * slotsPerCore
        storage = .allocate(capacity: max(1, count))
        storage.initialize(repeating: [], count: count)
    }

    deinit {
        storage.deinitialize(count: count)
        storage.deallocate()
    }

    /// Every buffer, `core * slotsPerCore + slot` (a copy; O(cores × slots)).
    public var buffers: [[Float]] {
        get { Array(UnsafeBufferPointer(start: storage, count: count)) }
        set {
            precondition(newValue.count == count, "PayloadStore.buffers needs \(count) buffers")
            for i in 0..<count { storage[i] = newValue[i] }
        }
    }

    /// The buffer `slot` of `core`.
    ///
    /// - Complexity: O(1); modifying through it is in place.
    public subscript(core: Int, slot: Int32) -> [Float] {
        get {
            let i = core &* slotsPerCore &+ Int(slot)
            precondition(i >= 0 && i < count, "payload slot out of range")
            return storage[i]
        }
        _modify {
            let i = core &* slotsPerCore &+ Int(slot)
            precondition(i >= 0 && i < count, "payload slot out of range")
            yield &storage[i]
        }
    }
}
