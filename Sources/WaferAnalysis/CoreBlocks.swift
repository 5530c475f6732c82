import WaferSpec

/// A per-core value aggregated over square blocks of cores (see `LinkBlocks` for the layout).
///
/// - Complexity: O(cores in the region).
public struct CoreBlocks: Sendable {
    public let region: CoreRegion
    public let blockSize: Int
    public let columns: Int
    public let rows: Int
    public let aggregate: BlockAggregate
    /// `values[row * columns + column]`.
    public let values: [Double]
    /// Whether any core of a block is flagged, same layout as `values`.
    public let flagged: [Bool]

    /// - Parameters:
    ///   - value: the value of core (x, y).
    ///   - flag: marks cores to report per block (e.g. over budget); none by default.
    public init(geometry g: MeshGeometry, region: CoreRegion? = nil, blockSize: Int, aggregate: BlockAggregate,
                value: (Int) -> Double, flag: ((Int) -> Bool)? = nil) {
        let region = region ?? .all(g)
        let b = max(1, blockSize)
        let cols = (region.width + b - 1) / b, rows = (region.height + b - 1) / b
        var acc = [Double](repeating: aggregate == .max ? -Double.infinity : 0, count: cols * rows)
        var count = [Int32](repeating: 0, count: cols * rows)
        var flagged = [Bool](repeating: false, count: cols * rows)
        for y in region.y0...region.y1 {
            let rowBase = ((y - region.y0) / b) * cols
            for x in region.x0...region.x1 {
                let k = rowBase + (x - region.x0) / b
                let c = g.core(x: x, y: y)
                let v = value(c)
                if aggregate == .max { acc[k] = Swift.max(acc[k], v) } else { acc[k] += v }
                count[k] += 1
                if let flag, !flagged[k], flag(c) { flagged[k] = true }
            }
        }
        if aggregate == .mean { for k in acc.indices where count[k] > 0 { acc[k] /= Double(count[k]) } }
        self.region = region
        self.blockSize = b
        self.columns = cols
        self.rows = rows
        self.aggregate = aggregate
        self.values = acc
        self.flagged = flagged
    }

    /// The value of block (column, row).
    public func value(column: Int, row: Int) -> Double { values[row * columns + column] }

    /// Whether block (column, row) holds a flagged core.
    public func isFlagged(column: Int, row: Int) -> Bool { flagged[row * columns + column] }
}
