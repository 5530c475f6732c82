import WaferSpec

/// Accumulates per-link busy cycles into time windows whose width doubles as the run grows.
///
/// Starts at `initialWindowCycles`; when an interval would land past the last allowed frame,
/// adjacent frames are merged pairwise and the width doubles, so memory stays bounded by
/// `maxFrames × linkCount` counters however long the run is.
struct LinkWindowAccumulator {
    private(set) var windowCycles: Int64
    private(set) var frames: [[Int32]] = []
    let linkCount: Int
    let maxFrames: Int

    init(linkCount: Int, initialWindowCycles: Int64 = 64, memoryBudgetBytes: Int = 128 << 20) {
        self.linkCount = linkCount
        windowCycles = initialWindowCycles
        maxFrames = max(4, min(64, memoryBudgetBytes / max(1, linkCount * 4)))
    }

    /// Adds `cycles` busy cycles of `link` starting at cycle `start`, split over windows.
    ///
    /// - Complexity: O(windows the interval spans), amortised O(1).
    mutating func add(link: Int, start: Int64, cycles: Int64) {
        let end = start + cycles
        while end > windowCycles * Int64(maxFrames) { coarsen() }
        var t = start
        while t < end {
            let w = Int(t / windowCycles)
            let wEnd = Int64(w + 1) * windowCycles
            let chunk = min(end, wEnd) - t
            while frames.count <= w { frames.append(Array(repeating: 0, count: linkCount)) }
            frames[w][link] &+= Int32(truncatingIfNeeded: chunk)
            t += chunk
        }
    }

    private mutating func coarsen() {
        var merged: [[Int32]] = []
        var i = 0
        while i < frames.count {
            var f = frames[i]
            if i + 1 < frames.count {
                let g = frames[i + 1]
                for j in 0..<linkCount { f[j] &+= g[j] }
            }
            merged.append(f)
            i += 2
        }
        frames = merged
        windowCycles *= 2
    }

    /// Bytes the frames hold.
    var bytes: Int { frames.reduce(0) { $0 + $1.capacity * 4 } }

    var result: LinkWindows { LinkWindows(windowCycles: windowCycles, frames: frames) }
}
