/// The keys and values of every layer for the positions processed so far.
///
/// Per layer, keys and values are `length × kvDim` row-major Float32 arrays (row = position,
/// kv head `g` at columns `g·headDim ..< (g+1)·headDim`); keys are stored after RoPE.
/// Storage grows as positions are appended, so a short generation does not pay for the
/// whole context window.
public struct KVCache: Sendable {
    /// Number of layers cached.
    public let layerCount: Int
    /// Width of one position's keys (or values) in one layer.
    public let kvDim: Int
    /// Number of positions currently held.
    public private(set) var length: Int = 0

    var keys: [[Float]]
    var values: [[Float]]

    /// An empty cache for `layerCount` layers of width `kvDim`.
    public init(layerCount: Int, kvDim: Int) {
        self.layerCount = layerCount
        self.kvDim = kvDim
        keys = Array(repeating: [], count: layerCount)
        values = Array(repeating: [], count: layerCount)
    }

    /// All cached keys of `layer` (`length × kvDim`).
    public func keys(layer: Int) -> [Float] { keys[layer] }

    /// All cached values of `layer` (`length × kvDim`).
    public func values(layer: Int) -> [Float] { values[layer] }

    /// Forgets every position at or after `position`.
    public mutating func truncate(to position: Int) {
        precondition(position >= 0, "KVCache: negative position")
        guard position < length else { return }
        for l in 0 ..< layerCount {
            keys[l].removeSubrange(position * kvDim ..< keys[l].count)
            values[l].removeSubrange(position * kvDim ..< values[l].count)
        }
        length = position
    }

    /// Empties the cache, keeping its storage.
    public mutating func removeAll() {
        truncate(to: 0)
    }

    /// Appends one position's key and value rows to `layer` (the caller appends to every
    /// layer and then calls `commit()`).
    mutating func append(layer: Int, key: UnsafeBufferPointer<Float>, value: UnsafeBufferPointer<Float>) {
        keys[layer].append(contentsOf: key)
        values[layer].append(contentsOf: value)
    }

    /// Records that every layer now holds one more position.
    mutating func commit() {
        length += 1
    }
}
