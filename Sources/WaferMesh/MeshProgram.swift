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
    /// so the engine may run it on another host thread, behind the simulation, with bit-identical
    /// results: then nothing the engine thread runs during the run (`op`, closures it calls) may
    /// read the `PayloadStore`, and `execute` must not read state that `op` changes. Default:
    /// false (run on the engine's thread).
    var executesPerCore: Bool { get }
    /// Whether `op(core:pc:)` may be called for two different cores at once, on two host threads:
    /// it changes nothing but state of the core it is asked about (a per-core cursor, say) and
    /// reads nothing another core's call changes. A replay that redoes its numerics from the ops
    /// (`NumericsRerun`) then runs the two halves of the mesh on two threads. Default: false.
    var opsPerCore: Bool { get }
    /// A promise that lets the engine replay this run from an earlier one instead of simulating
    /// it (see `MeshEngine.replaysRuns`): every program with an equal key issues, on every core,
    /// the same ops field for field, except the invocation ids of `begin` and `end`, which sit
    /// at the same places of `replayInvocations` (every id the ops mark, each once), the buffers
    /// of sends and receives listed in `replayBuffers`, and the arithmetic of compute works (same work ids, which `execute` may map to other numbers). A
    /// replay on two host threads runs `execute` for two cores at once, so with a key it must
    /// keep to each core's own buffers and immutable data (as `executesPerCore` says). Keys are
    /// compared within one engine: they must tell apart programs made with different routes or
    /// layouts. Default: nil (always simulated).
    var replayKey: AnyHashable? { get }
    /// The kernel invocations the program marks, in an order fixed by its `replayKey`.
    var replayInvocations: [Int32] { get }
    /// The payload slots that may differ between programs with an equal `replayKey` (a layer's
    /// weights, say), in an order fixed by the key: ops of such programs may name other buffers
    /// in `send` and `recv` only at the same places of this list, and a replay of their numerics
    /// renames the recorded program's slots to these. Distinct; every other slot the ops name is
    /// the same in every such program and in none of their lists. Default: none.
    var replayBuffers: [Int32] { get }
    /// A hint that `execute(work:core:store:)` will run soon (a replay knows its works ahead):
    /// prefetch `stage` of the buffers it will touch (`PayloadStore.prefetch`); the stages come
    /// in order, some works apart. Must change nothing. Default: nothing.
    func prefetch(work: Int32, core: Int, store: PayloadStore, stage: PrefetchStage)
}

extension MeshProgram {
    public func execute(work: Int32, core: Int, store: PayloadStore) {}
    public var executesPerCore: Bool { false }
    public var opsPerCore: Bool { false }
    public var replayKey: AnyHashable? { nil }
    public var replayInvocations: [Int32] { [] }
    public var replayBuffers: [Int32] { [] }
    public func prefetch(work: Int32, core: Int, store: PayloadStore, stage: PrefetchStage) {}
}
