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
}

extension MeshProgram {
    public func execute(work: Int32, core: Int, store: PayloadStore) {}
}

/// The numbers held in every core's buffers when a run carries payloads.
///
/// Host arithmetic is Float32; the device's element size (`MeshSpec.elementBytes`) is what
/// memory and message sizes are counted in. Buffers are copy-on-write arrays, so a send
/// snapshots a buffer without copying it until either side changes it.
public final class PayloadStore {
    public let slotsPerCore: Int
    public var buffers: [[Float]]

    public init(coreCount: Int, slotsPerCore: Int) {
        self.slotsPerCore = slotsPerCore
        buffers = Array(repeating: [], count: coreCount * slotsPerCore)
    }

    /// The buffer `slot` of `core`.
    public subscript(core: Int, slot: Int32) -> [Float] {
        get { buffers[core * slotsPerCore + Int(slot)] }
        set { buffers[core * slotsPerCore + Int(slot)] = newValue }
    }
}
