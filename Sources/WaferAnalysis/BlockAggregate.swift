import WaferSpec

/// How a block of cores or links is summarised by one value.
public enum BlockAggregate: String, CaseIterable, Sendable {
    /// The arithmetic mean (what a typical member sees).
    case mean
    /// The largest value (no hot spot is hidden by its neighbours).
    case max
}

/// The side, in cores, of square blocks so that a cell of `cellPixels` pixels per core grows
/// to at least `minPixels` per block. One when cores are already large enough.
public func blockSize(cellPixels: Double, minPixels: Double) -> Int {
    guard cellPixels > 0 else { return 1 }
    return max(1, Int((minPixels / cellPixels).rounded(.up)))
}
