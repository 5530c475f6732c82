import WaferSpec

/// Per-link values aggregated over square blocks of cores, one value per block and direction.
///
/// Block (column, row) holds the cores with `x0 + column·b ≤ x < x0 + (column+1)·b` (likewise for
/// y) of `region`; its value for direction `d` summarises the links leaving those cores in
/// direction `d` that connect two cores (links off the mesh edge are left out). With b = 1 every
/// value is one link's.
///
/// - Complexity: O(links in the region).
public struct LinkBlocks: Sendable {
    public let region: CoreRegion
    /// Block side in cores.
    public let blockSize: Int
    public let columns: Int
    public let rows: Int
    public let aggregate: BlockAggregate
    /// `values[(row * columns + column) * 4 + direction]`, NaN where a block has no such link.
    public let values: [Double]

    public init(_ u: LinkUtilisation, region: CoreRegion? = nil, blockSize: Int, aggregate: BlockAggregate) {
        let g = u.geometry
        let region = region ?? .all(g)
        let b = max(1, blockSize)
        let cols = (region.width + b - 1) / b, rows = (region.height + b - 1) / b
        var sum = [Double](repeating: 0, count: cols * rows * 4)
        var count = [Int32](repeating: 0, count: cols * rows * 4)
        for y in region.y0...region.y1 {
            let by = (y - region.y0) / b
            for x in region.x0...region.x1 {
                let bx = (x - region.x0) / b
                let core = g.core(x: x, y: y)
                for d in Direction.allCases {
                    let nx = x + d.step.dx, ny = y + d.step.dy
                    guard nx >= 0, ny >= 0, nx < g.width, ny < g.height else { continue }
                    let v = u.values[g.link(from: core, d)]
                    let k = (by * cols + bx) * 4 + d.rawValue
                    switch aggregate {
                    case .mean: sum[k] += v
                    case .max: sum[k] = Swift.max(sum[k], v)
                    }
                    count[k] += 1
                }
            }
        }
        var values = [Double](repeating: .nan, count: sum.count)
        for k in sum.indices where count[k] > 0 {
            values[k] = aggregate == .mean ? sum[k] / Double(count[k]) : sum[k]
        }
        self.region = region
        self.blockSize = b
        self.columns = cols
        self.rows = rows
        self.aggregate = aggregate
        self.values = values
    }

    /// The value of block (column, row) in direction `d`, or nil when it has no such link.
    public func value(column: Int, row: Int, _ d: Direction) -> Double? {
        let v = values[(row * columns + column) * 4 + d.rawValue]
        return v.isNaN ? nil : v
    }

    /// The block that holds core (x, y) of the region.
    public func block(x: Int, y: Int) -> (column: Int, row: Int) {
        ((x - region.x0) / blockSize, (y - region.y0) / blockSize)
    }
}
