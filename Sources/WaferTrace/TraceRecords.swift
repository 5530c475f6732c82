import WaferSpec

/// How much a run records. Every level keeps the per-link totals and per-core totals exact.
public enum TraceDetail: String, Codable, Sendable, CaseIterable {
    /// Every span and message (optionally limited to a region and a time window).
    case full
    /// Per core, one span per kernel invocation; per-link counts per time window.
    case kernel
    /// Per-core and per-link totals only.
    case summary
}

/// What a core was doing during a span.
public enum SpanKind: UInt8, Codable, Sendable, CaseIterable {
    /// Local arithmetic.
    case compute = 0
    /// Blocked in a receive, waiting for a message to arrive.
    case wait = 1
    /// Its injection ramp pushing a message into the router (the core itself runs on).
    case send = 2
    /// A kernel invocation or phase as a whole (`kernel` detail).
    case kernel = 3

    public var name: String { ["compute", "wait", "send", "kernel"][Int(rawValue)] }
}

/// One interval of activity on one core.
public struct Span: Hashable, Sendable {
    public var core: Int32
    public var kind: SpanKind
    /// Index into the trace's label table.
    public var label: Int32
    public var start: Int64
    public var end: Int64
    /// Multiply-accumulates (or element operations) done in the span.
    public var macs: Int64

    public init(core: Int32, kind: SpanKind, label: Int32, start: Int64, end: Int64, macs: Int64) {
        self.core = core; self.kind = kind; self.label = label
        self.start = start; self.end = end; self.macs = macs
    }
}

/// One message from injection to the arrival of its tail at its final destination.
///
/// A message's global id is `(source, sequence)`: the source core and how many messages that
/// core had sent before it. Multicast messages record their last destination.
public struct MessageRecord: Hashable, Sendable {
    public var source: Int32
    public var sequence: Int32
    public var destination: Int32
    public var colour: Int32
    public var bytes: Int32
    /// Cycle the head entered the source router.
    public var injection: Int64
    /// Cycle the head was delivered to the destination core.
    public var headArrival: Int64
    /// Cycle the last wavelet was delivered to the destination core.
    public var tailArrival: Int64
    public var hops: Int32
    public var relays: Int32

    public init(source: Int32, sequence: Int32, destination: Int32, colour: Int32, bytes: Int32,
                injection: Int64, headArrival: Int64, tailArrival: Int64, hops: Int32, relays: Int32) {
        self.source = source; self.sequence = sequence; self.destination = destination
        self.colour = colour; self.bytes = bytes; self.injection = injection
        self.headArrival = headArrival; self.tailArrival = tailArrival; self.hops = hops; self.relays = relays
    }

    /// A globally unique id, stable across runs and partitionings.
    public var id: UInt64 { UInt64(UInt32(bitPattern: source)) << 32 | UInt64(UInt32(bitPattern: sequence)) }
}

/// One kernel invocation (or model phase) as the program marked it.
public struct KernelMark: Hashable, Sendable {
    /// Kernel name ("meshgemm", "attention.qk", …).
    public var name: String
    /// Free-form parameters: shapes, grid, algorithm, layer, phase.
    public var params: [String: String]
    public var start: Int64
    public var end: Int64

    public init(name: String, params: [String: String], start: Int64, end: Int64) {
        self.name = name; self.params = params; self.start = start; self.end = end
    }
}

/// A PLMR-M or PLMR-R violation found during a run.
public struct Violation: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable { case memory = "M", routing = "R" }
    public var kind: Kind
    public var core: Int32
    /// Bytes in use (M) or colours needed (R).
    public var value: Int64
    /// The budget that was exceeded.
    public var limit: Int64
    /// The labels involved (allocations for M, colours for R).
    public var detail: String

    public init(kind: Kind, core: Int32, value: Int64, limit: Int64, detail: String) {
        self.kind = kind; self.core = core; self.value = value; self.limit = limit; self.detail = detail
    }

    public var description: String {
        switch kind {
        case .memory:
            return "PLMR-M violation at core \(core): \(value) bytes of \(limit) (\(detail))"
        case .routing:
            return "PLMR-R violation at core \(core): \(value) colours of \(limit) (\(detail))"
        }
    }
}

/// Exact per-directed-link totals, indexed `core * 4 + direction` (see `MeshGeometry`).
public struct LinkTotals: Hashable, Sendable {
    /// Cycles the link carried a wavelet.
    public var busyCycles: [Int64]
    /// Payload bytes that crossed the link.
    public var bytes: [Int64]
    /// The most wavelets waiting for the link when a message reached it.
    public var peakQueue: [Int32]

    public init(linkCount: Int) {
        busyCycles = Array(repeating: 0, count: linkCount)
        bytes = Array(repeating: 0, count: linkCount)
        peakQueue = Array(repeating: 0, count: linkCount)
    }
}

/// Per-link busy cycles per time window, for congestion maps over time.
public struct LinkWindows: Hashable, Sendable {
    /// Width of each window in cycles.
    public var windowCycles: Int64
    /// `frames[w][link]`: busy cycles of `link` in `[w * windowCycles, (w + 1) * windowCycles)`.
    public var frames: [[Int32]]

    public init(windowCycles: Int64, frames: [[Int32]]) {
        self.windowCycles = windowCycles; self.frames = frames
    }
}

/// Exact per-core totals.
public struct CoreTotals: Hashable, Sendable {
    public var computeCycles: [Int64]
    public var waitCycles: [Int64]
    public var macs: [Int64]
    public var peakSramBytes: [Int32]
    public var colours: [Int32]
    public var messagesSent: [Int32]
    /// Cycle the core finished its program.
    public var finish: [Int64]

    public init(coreCount: Int) {
        computeCycles = Array(repeating: 0, count: coreCount)
        waitCycles = Array(repeating: 0, count: coreCount)
        macs = Array(repeating: 0, count: coreCount)
        peakSramBytes = Array(repeating: 0, count: coreCount)
        colours = Array(repeating: 0, count: coreCount)
        messagesSent = Array(repeating: 0, count: coreCount)
        finish = Array(repeating: 0, count: coreCount)
    }
}

/// Whole-run counters, kept exact at every detail level.
public struct RunSummary: Hashable, Sendable, Codable {
    public var makespanCycles: Int64 = 0
    public var messages: Int64 = 0
    public var computeEvents: Int64 = 0
    public var maxHops: Int64 = 0
    public var maxRelays: Int64 = 0
    public var totalMacs: Int64 = 0
    public var hopEvents: Int64 = 0

    public init() {}
}
