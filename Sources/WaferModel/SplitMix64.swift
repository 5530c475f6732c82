/// A small, fast, seedable random number generator (SplitMix64).
///
/// Used to make reproducible random weights for tests and synthetic models; the same seed
/// gives the same sequence on every platform.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniformly distributed `Float` in `-scale ..< scale`.
    public mutating func nextSymmetric(_ scale: Float) -> Float {
        // 24 random bits give every representable step of a Float in [0, 1).
        let unit = Float(next() >> 40) * 0x1p-24
        return (2 * unit - 1) * scale
    }
}
