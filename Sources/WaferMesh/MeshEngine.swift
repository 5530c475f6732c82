import WaferSpec
import WaferTrace

/// What to do when a run breaks the PLMR-M or PLMR-R budget.
public enum ViolationPolicy: Sendable {
    /// Stop the run with `MeshError.violation` at the first one.
    case abort
    /// Record every violation in the trace and run on (what-if studies).
    case record
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
public final class MeshEngine {
    public let spec: MeshSpec
    public let geometry: MeshGeometry
    public let recorder: TraceRecorder
    /// Buffers with real numbers, or nil for a timing-only run.
    public let store: PayloadStore?
    public let policy: ViolationPolicy

    var routes: RouteTable
    var queue = EventQueue()

    // Per-core state (struct of arrays).
    var coreTime: [Int64]
    var corePC: [Int32]
    /// Colour a blocked core waits on; -1 running, -2 finished, -3 woken by a delivery.
    var coreWaitColour: [Int32]
    var coreWaitSince: [Int64]
    var coreIssued: [Bool]
    var rampIn: [Int64]
    var rampOut: [Int64]
    var mailHead: [Int32]
    var mailTail: [Int32]
    var coreSeq: [Int32]
    var sramNow: [Int32]
    var sramPeak: [Int32]
    var invocationStart: [Int64]

    // Per-link state.
    var linkFree: [Int64]

    var messages = MessagePool()
    var deliveries = DeliveryPool()
    var ledger = MemoryLedger()

    // Kernel invocations.
    var invocationNames: [String] = []
    var invocationParams: [[String: String]] = []
    var invocationLabel: [Int32] = []
    var invocationFirst: [Int64] = []
    var invocationLast: [Int64] = []

    let alpha: Int64, beta: Int64, overhead: Int64, macRate: Int64
    var makespan: Int64 = 0
    var violationCount = 0
    var routesChecked = 0

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
        coreTime = Array(repeating: 0, count: n)
        corePC = Array(repeating: 0, count: n)
        coreWaitColour = Array(repeating: -1, count: n)
        coreWaitSince = Array(repeating: 0, count: n)
        coreIssued = Array(repeating: false, count: n)
        rampIn = Array(repeating: 0, count: n)
        rampOut = Array(repeating: 0, count: n)
        mailHead = Array(repeating: -1, count: n)
        mailTail = Array(repeating: -1, count: n)
        coreSeq = Array(repeating: 0, count: n)
        sramNow = Array(repeating: 0, count: n)
        sramPeak = Array(repeating: 0, count: n)
        invocationStart = Array(repeating: 0, count: n)
        linkFree = Array(repeating: 0, count: n * 4)
        alpha = Int64(spec.hopLatencyCycles)
        beta = Int64(spec.relayLatencyCycles)
        overhead = Int64(spec.opOverheadCycles)
        macRate = Int64(spec.macsPerCycle)
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
    public func destination(ofRoute r: Int32) -> Int { Int(routes.destination[Int(r)]) }

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

    // MARK: - Running

    /// Runs `program` on every core until all have finished.
    ///
    /// Each core starts at the cycle it finished its previous program (no global barrier), so
    /// successive runs compose like kernels issued one after another.
    ///
    /// - Throws: `MeshError` on a deadlock, a bad op, or a PLMR violation under `.abort`.
    public func run<P: MeshProgram>(_ program: P) throws {
        try checkColours()
        for c in 0..<geometry.coreCount {
            corePC[c] = 0
            coreWaitColour[c] = -1
            queue.push(Event(time: coreTime[c], key: EventKind.core.key(UInt64(c)), slot: Int32(c)))
        }
        while let e = queue.pop() {
            switch e.key >> 62 {
            case EventKind.hop.rawValue: try hop(Int(e.slot), now: e.time)
            case EventKind.relay.rawValue: reinject(Int(e.slot), now: e.time)
            case EventKind.delivery.rawValue: deliver(Int(e.slot), now: e.time)
            default: try step(program, core: Int(e.slot), now: e.time)
            }
        }
        var blocked: [Int] = []
        for c in 0..<geometry.coreCount where coreWaitColour[c] >= 0 { blocked.append(c) }
        if let c = blocked.first {
            throw MeshError.deadlock("\(blocked.count) core(s) wait forever; first: core (\(geometry.x(of: c)),\(geometry.y(of: c))) on colour \(coreWaitColour[c]) since cycle \(coreWaitSince[c])")
        }
    }

    /// Writes per-core totals and kernel marks into the recorder. Call once, after the last run.
    public func finishRecording() {
        let (colours, _) = routes.coloursPerCore()
        for c in 0..<geometry.coreCount {
            recorder.coreFinal(c, peakSram: Int(sramPeak[c]), colours: Int(colours[c]), finish: coreTime[c])
        }
        for i in invocationNames.indices where invocationFirst[i] != .max {
            recorder.kernel(KernelMark(name: invocationNames[i], params: invocationParams[i],
                                       start: invocationFirst[i], end: invocationLast[i]))
        }
        recorder.setMakespan(makespan)
    }

    // MARK: - R

    private func checkColours() throws {
        guard routes.touches.count != routesChecked else { return }
        routesChecked = routes.touches.count
        let (counts, coloursOf) = routes.coloursPerCore()
        let limit = Int32(spec.colorsPerCore)
        for c in 0..<geometry.coreCount where counts[c] > limit {
            let list = coloursOf(c)
            let shown = list.prefix(8).map(String.init).joined(separator: ",") + (list.count > 8 ? ",…" : "")
            try violate(Violation(kind: .routing, core: Int32(c), value: Int64(counts[c]), limit: Int64(limit),
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
