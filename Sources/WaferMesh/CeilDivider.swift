/// ⌈x / d⌉ for a divisor fixed at set-up: a shift when `d` is a power of two (every preset's MAC
/// rate and link and ramp widths are), a division otherwise.
///
/// The engine divides on every compute op and every send; an integer division costs tens of
/// cycles of latency, a shift one.
struct CeilDivider {
    let divisor: Int64
    /// log₂ `divisor` when it is a power of two, else -1.
    private let shift: Int64

    init(_ d: Int) {
        precondition(d > 0, "divisor must be positive")
        divisor = Int64(d)
        shift = d & (d - 1) == 0 ? Int64(d.trailingZeroBitCount) : -1
    }

    /// ⌈x / divisor⌉ for x ≥ 0.
    @inline(__always) func callAsFunction(_ x: Int64) -> Int64 {
        shift >= 0 ? (x &+ divisor &- 1) >> shift : (x + divisor - 1) / divisor
    }
}
