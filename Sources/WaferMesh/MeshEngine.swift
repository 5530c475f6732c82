import Foundation
import WaferSpec
import WaferTrace

/// What to do when a run breaks the PLMR-M or PLMR-R budget.
public enum ViolationPolicy: Sendable {
    /// Stop the run with `MeshError.violation` at the first one.
    case abort
    /// Record every violation in the trace and run on (what-if studies).
    case record
}

/// The state of one core: 64 bytes, one cache line.
struct CoreState {
    /// The core's clock: the cycle it issues its next op at, or (blocked or just woken in a
    /// receive) the cycle it started waiting.
    var time: Int64
    /// Cycle the injection ramp (core → router) is free.
    var rampIn: Int64
    /// Cycle the ejection ramp (router → core) is free.
    var rampOut: Int64
    /// Start of the core's current kernel invocation.
    var invocationStart: Int64
    var pc: Int32
    /// Colour a blocked core waits on; -1 running, -2 finished, -3 woken by a delivery,
    /// -4 − route: a send's issue overhead paid (the message starts on the next visit; -4 alone
    /// when the route id is out of range, which the send then reports).
    var wait: Int32
    var mailHead: Int32
    var mailTail: Int32
    var sequence: Int32
    var sramNow: Int32
    var sramPeak: Int32
    /// Newest live allocation in the memory ledger (-1: none).
    var ledger: Int32

    static let initial = CoreState(time: 0, rampIn: 0, rampOut: 0, invocationStart: 0, pc: 0, wait: -1,
                                   mailHead: -1, mailTail: -1, sequence: 0, sramNow: 0, sramPeak: 0, ledger: -1)
}

/// The state of one directed link: when it is free and what it carried (12 bytes).
///
/// `free` counts cycles from `MeshEngine.linkEpoch` in 32 bits; a link free further out than
/// that keeps `farLink` there and its cycle in `MeshEngine.farLinkFree` (see `linkFree`). Totals
/// are 32-bit with exact carries kept aside (`MeshEngine.linkCarries`), and handed to the
/// recorder when it asks (`flushTotals`).
struct LinkState {
    var free: UInt32
    var busy: UInt32
    var bytes: UInt32

    /// `free`'s mark for a link whose free cycle is in `MeshEngine.farLinkFree`.
    static let farLink = UInt32.max
}

/// Counts of what the engine did, for benchmarks.
public struct EngineStats: Sendable {
    public var hopEvents: Int64 = 0
    public var relayEvents: Int64 = 0
    public var deliveryEvents: Int64 = 0
    public var coreEvents: Int64 = 0
    public var messages: Int64 = 0
    /// All events popped from the queue.
    public var events: Int64 { hopEvents + relayEvents + deliveryEvents + coreEvents }
    /// Event lists that needed sorting, per kind (hop, relay, delivery, core), and their events.
    public var sortedLists = [0, 0, 0, 0]
    public var sortedEvents = [0, 0, 0, 0]
    public var sortedRuns = 0
    /// Events pushed beyond the calendar's horizon.
    public var farEvents = 0
    /// Arithmetic on the second host thread (`MeshEngine.numericsThreads`): compute works it ran,
    /// entries it replayed (works, snapshots, copies and stores of payloads), and the times the
    /// engine waited for room in its ring.
    public var numericsWorks = 0
    public var numericsEntries = 0
    public var numericsStalls = 0
    /// Runs replayed from an earlier identical run instead of simulated (`replaysRuns`), and the
    /// events those runs stood for (not counted in `events`: the engine did not pop them).
    public var replayedRuns = 0
    public var replayedEvents: Int64 = 0
    public var replayedHopEvents: Int64 = 0
    /// Replayed runs whose numerics were redone from the program's ops (`NumericsRerun`), their
    /// tape being too long to keep.
    public var rerunNumerics = 0
    /// Of those, the reruns split in two lanes on two host threads.
    public var rerunNumericsOnTwoThreads = 0
}

/// The discrete-event simulation of a wafer-scale mesh: measures what a distributed program costs.
///
/// Time is in integer cycles. Every core runs its own program of `MeshOp`s; messages move hop by
/// hop along declared routes. Each directed link and each core's two ramps (router→core and
/// core→router) are resources that carry one message at a time, first come first served, so
/// congestion emerges from the simulation. Semantics (see docs/engine.md):
///
/// - A send issued at `t` pays the op overhead, then its message starts injecting at
///   `i = max(t + overhead, injection ramp free)`, occupying the ramp for `w` cycles
///   (`w` = ⌈bytes / ramp bytes per cycle⌉). The head is at the source router at `i`.
/// - At a router at time `t` the head takes the next link at `s = max(t, link free)`; the link is
///   busy `[s, s + w)` and the head reaches the next router at `s + α` (cut-through).
/// - At a destination the head is delivered at `h = max(t, ejection ramp free)`, the ramp busy
///   `[h, h + w)`; the tail arrives at `h + w − 1`, when a receive can complete.
/// - A relay core stores the whole message (as a destination would), then re-injects it at
///   `tail + β` through its own injection ramp.
/// - Ties between events in one cycle are broken by kind (hop, relay, delivery, core) and then by
///   global ids (message id = (source core, sequence), core id): never by insertion order.
///
/// How it runs fast (same events, same order, same results — see `EventQueue`, `step`, `eject`):
/// state is struct-of-records in raw memory the engine owns (64 bytes per core, 12 per directed
/// link — its free cycle in 32 bits from `linkEpoch`, see `rebaseLinks` — 8 per core of colour
/// masks, 4 per link in pages of 1024 links once one of them has queued: ~120 B per core,
/// ~90 MB for the full 750×994 fabric); events wait in a calendar
/// queue, and the run loop prefetches the state of events a few places ahead; without per-event
/// trace records a core runs ahead through ops private to it (and receives whose mail is in) and
/// message copies are mailed without delivery events;
/// arithmetic may run on a second host thread (`numericsThreads`).
public final class MeshEngine: TraceTotalsSource {
    public let spec: MeshSpec
    public let geometry: MeshGeometry
    public let recorder: TraceRecorder
    /// Buffers with real numbers, or nil for a timing-only run.
    public let store: PayloadStore?
    public let policy: ViolationPolicy

    let routes: RouteTable
    var queue = EventQueue()
    let cores: RawArray<CoreState>
    let links: RawArray<LinkState>
    /// Per-link peak queue (wavelets), in pages allocated when one of their links first queues.
    var peakQueue: PagedPeaks
    /// High parts of link totals that overflowed 32 bits: `link * 2` busy, `link * 2 + 1` bytes.
    var linkCarries: [Int: Int64] = [:]
    /// The cycle links' `free` fields count from: at or before every event still to come, so a
    /// link free before it is as good as free at it (`rebaseLinks`).
    var linkEpoch: Int64 = 0
    /// Free cycles of the links booked ≥ 2³² − 1 cycles past `linkEpoch` (their `free` is
    /// `LinkState.farLink`). Rare: runs longer than ~3.9 s at 1.1 GHz, or cores left far behind.
    var farLinkFree: [Int: Int64] = [:]
    /// How many far links make `setLinkFreeFar` look for a later epoch.
    var farLinksLook = 1024
    /// The epoch moved during the run (a run being recorded then is not kept: its link cycles
    /// were counted from two epochs).
    var linkEpochMoved = false
    /// Links touched since the totals were last handed to the recorder.
    var linksDirty = false
    var hopsUnflushed: Int64 = 0

    var messages: MessagePool
    var deliveries: DeliveryPool
    var ledger = MemoryLedger()
    /// Core-index offset of one hop in each direction (east, west, north, south).
    let stepOffset: (Int, Int, Int, Int)
    let recordsWindows: Bool
    /// No per-event spans or messages are recorded (`kernel` and `summary` detail), so their
    /// order cannot show: cores run ahead of the clock through ops that touch only their own
    /// state (see `step`), and a message copy goes into its core's mailbox when its head is
    /// delivered, marked with the cycle its tail arrives (see `eject`), instead of in a delivery
    /// event at that cycle. With `full` detail every op and every delivery is its own event.
    let runsAhead: Bool
    /// `runsAhead`, and the recorder keeps no kernel spans (it keeps them in the order their
    /// invocations end, so an `end` op waits for its own cycle when it does): `end` runs ahead of
    /// the clock (its mark's last cycle is a maximum, its span only adds to totals).
    let endsAhead: Bool
    /// `runsAhead`, and no declared route relays (relays re-inject through their core's injection
    /// ramp, so only then is the ramp private to the core's program): `waitSends` runs ahead of
    /// the clock too (see `step`). Set by `run`.
    var waitSendsAhead = false

    // Kernel invocations.
    var invocationNames: [String] = []
    var invocationParams: [[String: String]] = []
    var invocationLabel: [Int32] = []
    /// First and last cycle of each invocation (raw memory: `begin` and `end` update them with no
    /// uniqueness check).
    var invocationFirst = RawVec<Int64>(capacity: 64)
    var invocationLast = RawVec<Int64>(capacity: 64)

    let alpha: Int64, beta: Int64, overhead: Int64, sramLimit: Int
    /// Cycles of `n` MACs, wavelets of `n` bytes on a ramp and on a link (⌈n / rate⌉).
    let macCycles: CeilDivider, rampWavelets: CeilDivider, linkWavelets: CeilDivider
    var makespan: Int64 = 0
    var violationCount = 0
    /// Host threads for a run's arithmetic: 2 runs it beside the simulation (programs whose
    /// `executesPerCore` is true only), 1 keeps everything on the calling thread. Results are
    /// bit-identical either way. Default: 2 on a host with two or more cores, unless the
    /// environment sets `WAFERSCOPE_NUMERICS_THREADS=1`.
    public var numericsThreads: Int = MeshEngine.defaultNumericsThreads
    static let defaultNumericsThreads: Int = {
        if let v = ProcessInfo.processInfo.environment["WAFERSCOPE_NUMERICS_THREADS"], let n = Int(v) { return max(1, n) }
        return ProcessInfo.processInfo.activeProcessorCount >= 2 ? 2 : 1
    }()
    var pipeline: NumericsPipeline?
    /// The share of cores a numerics rerun on two threads gives this thread's lane, moved after
    /// each such rerun halfway towards the share that would have balanced the lanes' times (the
    /// helper thread may be the slower, or share its core with other work). Bits do not depend on it.
    var rerunShare = 0.5
    /// Whether runs of programs with a `replayKey` are replayed from an earlier identical run
    /// (start state equal up to a shift in time) instead of simulated: the same state, totals,
    /// marks and numbers, without the events (`RunRecord`). Default: true, unless the environment
    /// sets `WAFERSCOPE_REPLAY=0`.
    public var replaysRuns: Bool = MeshEngine.defaultReplaysRuns
    static let defaultReplaysRuns = ProcessInfo.processInfo.environment["WAFERSCOPE_REPLAY"] != "0"
    /// Whether a replay prefetches the buffers its next entries touch (`MeshProgram.prefetch`).
    /// A hint: results are the same either way. Default: true (benchmarks measure both).
    public var prefetchesReplays = true
    var replayCache = RunReplayCache()
    /// While a run is recorded: which ledger entries it allocated and has not freed (by entry;
    /// empty: it allocated nothing), how many, and whether it freed an allocation made before it
    /// (then it is not kept: a replay could not redo that on another ledger).
    var runAllocations: [Bool] = []
    var runLiveAllocations = 0
    var runFreesEarlier = false
    /// While a run is recorded: the link queue peaks it reaches, and its numerics.
    var recordsPeaks = false
    var peakLog: [(Int32, Int32)] = []
    var taping = false
    /// The window log of the run being recorded outgrew `recordCap` entries
    /// (`RunReplayCache.maxEntriesPerCore` for each core of the mesh, `entriesPerCoreLimit` here).
    var recordOverflowed = false
    /// The numerics tape of the run being recorded outgrew `recordCap` entries: the run is kept
    /// without it, and a replay reruns its numerics (`NumericsRerun`).
    var tapeOverflowed = false
    /// While a run with numerics is recorded: every copy delivered, `core << 32 | route`, in the
    /// engine's order (`arrivalLog`), for a rerun of its numerics.
    var tracksRoutes = false
    var arrivalLog: [Int] = []
    var recordCap = 0
    var entriesPerCoreLimit = RunReplayCache.maxEntriesPerCore
    /// While a run is recorded for a recorder that keeps records (`kernel` and `summary` detail
    /// with a trace): the kernel spans it gives the recorder and its link-window adds, relative
    /// to its first cycle, to give again shifted on a replay.
    var logsRecords = false
    var spanLog: [RecordedSpan] = []
    var windowLog: [RecordedWindow] = []
    var logBase: Int64 = 0
    /// Per invocation, its place in the recorded program's `replayInvocations` (-1: none).
    var invocationPosition: [Int32] = []
    /// Per core, whether it began an invocation in the run being logged (a span it ends starts
    /// in the run only then).
    var begunInRun: [Bool] = []
    /// The log could not say what the run gave the recorder (a span of an invocation the program
    /// does not list, a window add beyond 32 bits): the run is not kept.
    var logBroken = false
    var tape = RawVec<NumericsPipeline.Entry>(capacity: 1)
    /// The pipeline doing the current run's arithmetic, if any (`pipeline` keeps it alive; called
    /// on the hot path without retaining it, so the two threads do not contend for its count).
    var activePipeline: Unmanaged<NumericsPipeline>?

    /// What the engine has done so far (all runs).
    public var stats: EngineStats {
        var s = counts
        s.sortedLists = [queue.sorts.0, queue.sorts.1, queue.sorts.2, queue.sorts.3]
        s.sortedEvents = [queue.sortedEvents.0, queue.sortedEvents.1, queue.sortedEvents.2, queue.sortedEvents.3]
        s.sortedRuns = queue.sortedRuns
        s.farEvents = queue.farPushes
        if let pipeline {
            s.numericsWorks = pipeline.works
            s.numericsEntries = pipeline.entries
            s.numericsStalls = pipeline.stalls
        }
        return s
    }
    var counts = EngineStats()

    /// - Parameters:
    ///   - payloadSlots: buffers per core for real numerics; nil runs timing-only.
    public init(spec: MeshSpec, recorder: TraceRecorder, payloadSlots: Int? = nil, policy: ViolationPolicy = .abort) throws {
        try spec.validate()
        self.spec = spec
        geometry = MeshGeometry(spec)
        self.recorder = recorder
        self.policy = policy
        store = payloadSlots.map { PayloadStore(coreCount: spec.coreCount, slotsPerCore: $0) }
        routes = RouteTable(geometry: geometry)
        let n = spec.coreCount
        cores = RawArray(repeating: .initial, count: n)
        links = RawArray(repeating: LinkState(free: 0, busy: 0, bytes: 0), count: n * 4)
        peakQueue = PagedPeaks(count: n * 4)
        messages = MessagePool(carriesPayloads: payloadSlots != nil)
        deliveries = DeliveryPool(carriesPayloads: payloadSlots != nil)
        stepOffset = (1, -1, -spec.width, spec.width)
        alpha = Int64(spec.hopLatencyCycles)
        beta = Int64(spec.relayLatencyCycles)
        overhead = Int64(spec.opOverheadCycles)
        macCycles = CeilDivider(spec.macsPerCycle)
        rampWavelets = CeilDivider(spec.rampBytesPerCycle)
        linkWavelets = CeilDivider(spec.linkBytesPerCycle)
        sramLimit = spec.sramBytesPerCore
        recordsWindows = recorder.recordsLinkWindows
        prefetches = Self.prefetchPays(coreCount: n)
        runsAhead = !recorder.recordsEvents
        endsAhead = runsAhead && !recorder.keepsRecords
        recorder.totalsSource = self
    }

    deinit {
        pipeline?.stop()
        queue.free()
        cores.free()
        links.free()
        peakQueue.free()
        messages.freeMemory()
        deliveries.freeMemory()
        ledger.freeMemory()
        tape.free()
        invocationFirst.free()
        invocationLast.free()
    }

    // MARK: - Set-up API

    /// The id of a span label.
    public func label(_ name: String) -> Int32 { recorder.label(name) }

    /// Declares a route of `legs` from `source` on `colour`.
    public func route(from source: Int, colour: Int, legs: [RouteLeg]) throws -> Int32 {
        try routes.declare(source: source, colour: colour, legs: legs)
    }

    /// Declares the dimension-ordered (X, then Y) route from `source` to `destination`.
    public func routeXY(from source: Int, to destination: Int, colour: Int) throws -> Int32 {
        guard source != destination else { throw MeshError.badRoute("route from core \(source) to itself") }
        return try routes.declareXY(from: source, to: destination, colour: colour)
    }

    /// The final destination core of a route.
    public func destination(ofRoute r: Int32) -> Int { Int(routes.destination(Int(r))) }

    /// Registers a kernel invocation (name and parameters: shapes, grid, algorithm, …) for marks.
    public func invocation(name: String, params: [String: String]) -> Int32 {
        let id = Int32(invocationNames.count)
        invocationNames.append(name)
        invocationParams.append(params)
        invocationLabel.append(recorder.label(name))
        invocationFirst.append(.max)
        invocationLast.append(.min)
        return id
    }

    /// The cycle the last event of all runs so far happened.
    public var makespanCycles: Int64 { makespan }

    /// Bytes of engine state beyond payloads: per-core and per-link records, colour masks, pools,
    /// the event queue and the route table.
    public var stateBytes: Int { memoryBreakdown.reduce(0) { $0 + $1.bytes } }

    /// `stateBytes` by part: what grows with the mesh (per core, per link) and what grows with
    /// the traffic (messages and deliveries in flight, pending events, routes, live allocations).
    public var memoryBreakdown: [(name: String, bytes: Int)] {
        [("cores (\(MemoryLayout<CoreState>.stride) B each)", cores.allocatedBytes),
         ("links (\(MemoryLayout<LinkState>.stride) B each)", links.allocatedBytes),
         ("link peak queues (4 B each, in pages of 1024 once one queues)", peakQueue.allocatedBytes),
         ("colour masks (8 B a core)", routes.colourMaskBytes),
         ("routes and legs", routes.allocatedBytes - routes.colourMaskBytes),
         ("event queue", queue.allocatedBytes),
         ("messages in flight", messages.allocatedBytes),
         ("deliveries", deliveries.allocatedBytes),
         ("memory ledger (12 B a live allocation)", ledger.allocatedBytes),
         ("numerics ring (with a second thread)", pipeline == nil ? 0 : NumericsPipeline.capacity * MemoryLayout<NumericsPipeline.Entry>.stride)]
    }

    // MARK: - Running

    /// Runs `program` on every core until all have finished.
    ///
    /// Each core starts at the cycle it finished its previous program (no global barrier), so
    /// successive runs compose like kernels issued one after another.
    ///
    /// - Throws: `MeshError` on a deadlock, a bad op, or a PLMR violation under `.abort`.
    /// - Complexity: O(events) with O(1) queue work per event in the common case.
    public func run<P: MeshProgram>(_ program: P) throws {
        try checkColours()
        let n = geometry.coreCount
        var start = Int64.max
        for c in 0..<n { start = min(start, cores[c].time) }
        let base = n > 0 ? start : 0
        // Links count their free cycle from an epoch at or before every clock: move it up to this
        // run's start now and then, so that the run has 2³² cycles of room.
        if base - linkEpoch > 1 << 30 { rebaseLinks(to: base) }
        linkEpochMoved = false
        // A run that starts like one recorded before is replayed (its numerics on this thread:
        // nothing is left for the simulation to overlap them with), else maybe recorded.
        var recordable: (key: AnyHashable, state: [Int64], hash: UInt64)?
        replayCache.tick()
        if let key = replayKey(of: program), let (state, hash) = canonicalStart(base: base) {
            if let i = replayCache.find(key: key, routeCount: routes.count, invocations: program.replayInvocations.count,
                                        buffers: program.replayBuffers.count, twoThreads: numericsThreads > 1, hash: hash, start: state) {
                // A record whose allocations would not fit on top of what the cores hold now is
                // simulated (and its violation found), not replayed, nor recorded again.
                if fitsSRAM(replayCache.records[i]) {
                    replayCache.use(i)
                    try replay(record: i, program, base: base)
                    return
                }
            } else if replayCache.keepsRecording(key) {
                recordable = (key, state, hash)
            }
        }
        if let store, program.executesPerCore && numericsThreads > 1 {
            if pipeline == nil { pipeline = NumericsPipeline() }
            pipeline!.begin(store: store, messages: &messages, deliveries: &deliveries) { work, core in
                program.execute(work: work, core: core, store: store)
            }
            activePipeline = Unmanaged.passUnretained(pipeline!)
        }
        defer {
            if let p = activePipeline?.takeUnretainedValue() {
                p.end(messages: &messages, deliveries: &deliveries)
                activePipeline = nil
            }
        }
        waitSendsAhead = runsAhead && !routes.hasRelays
        var recording: RunRecording?
        if let r = recordable { recording = beginRecording(program, key: r.key, base: base, start: r.state, hash: r.hash) }
        var completed = false
        defer { if let recording { endRecording(recording, program, completed: completed) } }
        queue.start(at: base)
        for c in 0..<n {
            cores[c].pc = 0
            cores[c].wait = -1
            queue.push(time: cores[c].time, Event(key: EventKind.core.key(UInt64(c)), slot: Int32(c)))
        }
        while let e = queue.pop() {
            if prefetches {
                if let a = queue.peek(Self.prefetchFar) { prefetchState(of: a) }
                if let b = queue.peek(Self.prefetchNear) { prefetchNext(of: b) }
            }
            let now = queue.now
            switch e.kind {
            case 0: counts.hopEvents += 1; hop(Int(e.slot), now: now)
            case 1: counts.relayEvents += 1; reinject(Int(e.slot), now: now)
            case 2: counts.deliveryEvents += 1; deliver(Int(e.slot), now: now)
            default: counts.coreEvents += 1; try step(program, core: Int(e.slot), now: now)
            }
        }
        var blocked: [Int] = []
        for c in 0..<n where cores[c].wait >= 0 { blocked.append(c) }
        if let c = blocked.first {
            throw MeshError.deadlock("\(blocked.count) core(s) wait forever; first: core (\(geometry.x(of: c)),\(geometry.y(of: c))) on colour \(cores[c].wait) since cycle \(cores[c].time)")
        }
        completed = true
    }

    /// How far ahead in the current event list the state of an event is prefetched, and (nearer)
    /// the state its own state points at.
    static let prefetchFar = 12, prefetchNear = 6
    /// Whether the run loop prefetches (results are the same either way): when the per-core and
    /// per-link records outgrow the host's L2 cache. Below that every record is a cache hit
    /// already and the prefetches only cost instructions (MeshGEMM 2048³ on 64², 4096 × 160 B in a
    /// 1 MB L2: 4 % slower with them); above it they pay (96² and 128²: 8 % faster).
    /// `WAFERSCOPE_PREFETCH=1` or `0` (or `WAFERSCOPE_NO_PREFETCH=1`) decides instead; tests set it.
    var prefetches: Bool

    static func prefetchPays(coreCount: Int) -> Bool {
        let env = ProcessInfo.processInfo.environment
        if env["WAFERSCOPE_NO_PREFETCH"] != nil { return false }
        if let v = env["WAFERSCOPE_PREFETCH"] { return v != "0" }
        // A core's record, its four links' and the recorder's per-core accumulators (16 B).
        let hot = coreCount * (MemoryLayout<CoreState>.stride + 4 * MemoryLayout<LinkState>.stride + 16)
        return hot > hostL2Bytes
    }

    /// The host's L2 cache per core (1 MB when the system does not say).
    static let hostL2Bytes: Int = {
        #if os(Linux)
        let n = sysconf(Int32(_SC_LEVEL2_CACHE_SIZE))
        if n > 0 { return n }
        #endif
        return 1 << 20
    }()

    /// First stage: the record an event works on (message, delivery or core).
    @inline(__always) func prefetchState(of e: Event) {
        let s = Int(e.slot)
        switch e.kind {
        case 0, 1: prefetch(messages.states.base + s)
        case 2: prefetch(deliveries.states.base + s)
        default: prefetch(cores.base + s)
        }
    }

    /// Second stage (its record already prefetched): what the event will touch through it — a
    /// hop's link or ejecting core, a core's oldest mail and the route of its pending send.
    @inline(__always) func prefetchNext(of e: Event) {
        let s = Int(e.slot)
        switch e.kind {
        case 0:
            let ms = messages.states.base + s
            let p = Int(ms.pointee.position)
            if ms.pointee.hopsLeft > 0 {
                prefetch(links.base + (p &* 4 &+ Int(ms.pointee.legInfo & 0xFF)))
            } else {
                prefetch(cores.base + p)
            }
        case 3:
            let cs = cores.base + s
            let d = cs.pointee.mailHead
            if d >= 0 { prefetch(deliveries.states.base + Int(d)) }
            let r = -4 &- Int(cs.pointee.wait)
            if r >= 0 && r < routes.count { prefetch(routes.routes.base + r) }
        default: break
        }
    }

    /// Writes per-core totals and kernel marks into the recorder. Call once, after the last run.
    public func finishRecording() {
        flushTotals(into: recorder)
        for c in 0..<geometry.coreCount {
            recorder.coreFinal(c, peakSram: Int(cores[c].sramPeak), colours: Int(routes.colourCount(core: c)), finish: cores[c].time)
        }
        for i in invocationNames.indices where invocationFirst[i] != .max {
            recorder.kernel(KernelMark(name: invocationNames[i], params: invocationParams[i],
                                       start: invocationFirst[i], end: invocationLast[i]))
        }
        recorder.setMakespan(makespan)
    }

    /// Hands the link totals and hop count gathered since the last call to `recorder`.
    ///
    /// - Complexity: O(links).
    public func flushTotals(into recorder: TraceRecorder) {
        guard linksDirty || hopsUnflushed != 0 else { return }
        for l in 0..<links.count {
            let s = links[l]
            let peak = peakQueue[l]
            guard s.busy != 0 || s.bytes != 0 || peak != 0 else { continue }
            var busy = Int64(s.busy), bytes = Int64(s.bytes)
            if !linkCarries.isEmpty {
                busy &+= linkCarries[l * 2] ?? 0
                bytes &+= linkCarries[l * 2 + 1] ?? 0
            }
            recorder.addLinkTotals(l, busyCycles: busy, bytes: bytes, peakQueue: peak)
            links[l].busy = 0
            links[l].bytes = 0
            peakQueue.reset(l)
        }
        linkCarries.removeAll()
        recorder.addHopEvents(hopsUnflushed)
        hopsUnflushed = 0
        linksDirty = false
    }

    // MARK: - R

    private func checkColours() throws {
        guard routes.coloursChanged else { return }
        routes.coloursChecked()
        let limit = Int32(spec.colorsPerCore)
        for c in 0..<geometry.coreCount {
            let count = routes.colourCount(core: c)
            guard count > limit else { continue }
            let list = routes.colours(core: c)
            let shown = list.prefix(8).map(String.init).joined(separator: ",") + (list.count > 8 ? ",…" : "")
            try violate(Violation(kind: .routing, core: Int32(c), value: Int64(count), limit: Int64(limit),
                                  detail: "colours \(shown) at (\(geometry.x(of: c)),\(geometry.y(of: c)))"))
        }
    }

    func violate(_ v: Violation) throws {
        violationCount += 1
        switch policy {
        case .abort: throw MeshError.violation(v.description)
        case .record: if violationCount <= 10_000 { recorder.violation(v) }
        }
    }
}

