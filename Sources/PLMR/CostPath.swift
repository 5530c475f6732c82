import WaferSpec

/// Cycles on a critical path, split by what spends them.
///
/// Every formula of the model is written as a sum of these along the critical path of a kernel,
/// so the breakdown comes out with the total: `compute` is ⌈MACs / macsPerCycle⌉ of compute ops,
/// `overhead` the fixed cost `o` of every op the path issues, `latency` hops·α and relays·β, and
/// `transfer` the serialisation of messages (wavelets on ramps and links, w − 1 per message whose
/// tail the path waits for, plus queueing behind earlier messages). `max` keeps the whole vector
/// of the longer path, as the critical path is one path, not a mixture.
public struct CostPath: Hashable, Sendable, CustomStringConvertible {
    /// ⌈MACs / macsPerCycle⌉ of the compute ops on the path.
    public var compute: Int
    /// Per-op overheads (o per issued op) on the path.
    public var overhead: Int
    /// Hops·α plus relays·β on the path.
    public var latency: Int
    /// Message serialisation on the path (wavelets on ramps and links).
    public var transfer: Int

    public init(compute: Int = 0, overhead: Int = 0, latency: Int = 0, transfer: Int = 0) {
        self.compute = compute; self.overhead = overhead; self.latency = latency; self.transfer = transfer
    }

    /// The zero path.
    public static let zero = CostPath()

    /// Total cycles.
    public var total: Int { compute + overhead + latency + transfer }

    /// Communication cycles: latency plus transfer.
    public var communication: Int { latency + transfer }

    public var description: String {
        "\(total) (compute \(compute), overhead \(overhead), latency \(latency), transfer \(transfer))"
    }

    public static func + (a: CostPath, b: CostPath) -> CostPath {
        CostPath(compute: a.compute + b.compute, overhead: a.overhead + b.overhead,
                 latency: a.latency + b.latency, transfer: a.transfer + b.transfer)
    }

    public static func += (a: inout CostPath, b: CostPath) { a = a + b }

    /// `k` repetitions of a path (k ≥ 0).
    public static func * (k: Int, a: CostPath) -> CostPath {
        CostPath(compute: k * a.compute, overhead: k * a.overhead, latency: k * a.latency, transfer: k * a.transfer)
    }

    /// The longer of two paths (the first on a tie).
    public static func longest(_ a: CostPath, _ b: CostPath) -> CostPath { b.total > a.total ? b : a }

    /// The longest of several paths.
    public static func longest(_ paths: [CostPath]) -> CostPath {
        paths.dropFirst().reduce(paths.first ?? .zero) { longest($0, $1) }
    }

    /// Extends the path by waiting until `other` (a path from the same origin) has also happened:
    /// max-plus join, keeping the composition of whichever is longer.
    public func joined(_ other: CostPath) -> CostPath { Self.longest(self, other) }
}

/// The timing primitives of the engine (docs/engine.md), in `CostPath` form.
///
/// Read from the spec only: a compute op of n MACs costs ⌈n / macsPerCycle⌉ + o; a send costs o
/// of issue and injects at the issue time + o; a message of w wavelets injected at i reaches a
/// destination h hops away with its tail at i + h·α + w − 1 on idle links and ramps; a receive
/// completes o after the tail.
struct Primitives {
    let spec: MeshSpec
    let o: Int, alpha: Int, beta: Int, macsPerCycle: Int, elementBytes: Int

    init(_ spec: MeshSpec) {
        self.spec = spec
        o = spec.opOverheadCycles
        alpha = spec.hopLatencyCycles
        beta = spec.relayLatencyCycles
        macsPerCycle = spec.macsPerCycle
        elementBytes = spec.elementBytes
    }

    /// One op's fixed overhead.
    var op: CostPath { CostPath(overhead: o) }

    /// `k` ops' overheads.
    func ops(_ k: Int) -> CostPath { CostPath(overhead: k * o) }

    /// A compute op of `macs` MACs (or element operations): ⌈macs / macsPerCycle⌉ + o.
    func compute(_ macs: Int) -> CostPath {
        CostPath(compute: (max(0, macs) + macsPerCycle - 1) / macsPerCycle, overhead: o)
    }

    /// Link (and ejection-ramp) cycles of a message of `elements` elements (at least one element).
    func linkWavelets(elements: Int) -> Int { spec.linkCycles(bytes: max(1, elements) * elementBytes) }

    /// Injection-ramp cycles of a message of `elements` elements.
    func rampCycles(elements: Int) -> Int { spec.rampCycles(bytes: max(1, elements) * elementBytes) }

    /// `h` router hops.
    func hops(_ h: Int) -> CostPath { CostPath(latency: h * alpha) }

    /// `k` cycles of serialisation.
    func transfer(_ k: Int) -> CostPath { CostPath(transfer: max(0, k)) }

    /// From the injection of a message of `elements` to its tail at a core `h` hops away, on idle
    /// links and ramps: h·α + w − 1.
    func flight(hops h: Int, elements: Int) -> CostPath {
        hops(h) + transfer(linkWavelets(elements: elements) - 1)
    }

    /// From a send's issue to the receive's completion at a core `h` hops away, when the receiver
    /// is already waiting: o (issue) + h·α + w − 1 (flight) + o (receive).
    func sendToReceive(hops h: Int, elements: Int) -> CostPath {
        op + flight(hops: h, elements: elements) + op
    }
}

/// `⌈a / b⌉` for positive `b`.
@inline(__always) func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }
