import Foundation
import WaferAnalysis
import WaferSpec

/// Where a mesh's cells land on the canvas: square cells, one per core or per block of cores.
///
/// Row 0 is at the top (north is −y). Cores are grouped into b × b blocks when a core would get
/// fewer than `minCell` pixels; cells are whole pixels wide once they are at least two.
public struct MeshLayout: Sendable {
    public let region: CoreRegion
    /// Block side in cores (1: one cell per core).
    public let blockSize: Int
    public let columns: Int
    public let rows: Int
    /// Top-left corner of cell (0, 0).
    public let origin: Point
    /// Cell side in pixels.
    public let cell: Double

    /// Fits `region` into `area`, cells no smaller than `minCell` pixels where possible.
    public init(region: CoreRegion, fitting area: Rect, minCell: Double) {
        let perCore = min(area.width / Double(region.width), area.height / Double(region.height))
        let b = WaferAnalysis.blockSize(cellPixels: perCore, minPixels: minCell)
        let cols = (region.width + b - 1) / b, rows = (region.height + b - 1) / b
        var cell = min(area.width / Double(cols), area.height / Double(rows))
        if cell >= 2 { cell = cell.rounded(.down) }
        self.region = region
        blockSize = b
        columns = cols
        self.rows = rows
        origin = Point(area.x.rounded(), area.y.rounded())
        self.cell = cell
    }

    /// The area the cells cover.
    public var bounds: Rect { Rect(x: origin.x, y: origin.y, width: Double(columns) * cell, height: Double(rows) * cell) }

    /// The rectangle of cell (column, row).
    public func cellRect(column: Int, row: Int) -> Rect {
        Rect(x: origin.x + Double(column) * cell, y: origin.y + Double(row) * cell, width: cell, height: cell)
    }

    /// The cell that shows core (x, y).
    public func cell(x: Int, y: Int) -> (column: Int, row: Int) {
        ((x - region.x0) / blockSize, (y - region.y0) / blockSize)
    }

    /// Horizontal scale in core coordinates: core x's centre maps to the middle of its column.
    public var xScale: Scale {
        Scale(lo: Double(region.x0) - 0.5, hi: Double(region.x0) - 0.5 + Double(columns * blockSize),
              start: origin.x, end: origin.x + Double(columns) * cell)
    }

    /// Vertical scale in core coordinates, y growing downwards.
    public var yScale: Scale {
        Scale(lo: Double(region.y0) - 0.5, hi: Double(region.y0) - 0.5 + Double(rows * blockSize),
              start: origin.y, end: origin.y + Double(rows) * cell)
    }

    /// The triangle of cell (column, row) that shows its links towards `d`: apex at the cell's
    /// centre, base on the cell's side facing `d`, shrunk by `gap` pixels towards its centroid.
    public func triangle(column: Int, row: Int, _ d: Direction, gap: Double = 0) -> [Point] {
        let r = cellRect(column: column, row: row)
        let c = Point(r.midX, r.midY)
        let tl = Point(r.x, r.y), tr = Point(r.maxX, r.y), bl = Point(r.x, r.maxY), br = Point(r.maxX, r.maxY)
        let pts: [Point]
        switch d {
        case .east: pts = [c, tr, br]
        case .west: pts = [c, bl, tl]
        case .north: pts = [c, tl, tr]
        case .south: pts = [c, br, bl]
        }
        guard gap > 0 else { return pts }
        let g = Point((pts[0].x + pts[1].x + pts[2].x) / 3, (pts[0].y + pts[1].y + pts[2].y) / 3)
        // Scale about the centroid so every edge moves in by about `gap`.
        let inradius = cell / (2 + 2 * 2.0.squareRoot()) // of the right isosceles triangle with hypotenuse `cell`
        let k = max(0.2, 1 - gap / max(inradius, 1e-9))
        return pts.map { Point(g.x + ($0.x - g.x) * k, g.y + ($0.y - g.y) * k) }
    }

    /// A point inside the triangle that shows the link leaving core (x, y) towards `d` (its centroid).
    public func linkPoint(x: Int, y: Int, _ d: Direction) -> Point {
        let (col, row) = cell(x: x, y: y)
        let p = triangle(column: col, row: row, d)
        return Point((p[0].x + p[1].x + p[2].x) / 3, (p[0].y + p[1].y + p[2].y) / 3)
    }

    /// The gap between neighbouring triangles for this cell size.
    var triangleGap: Double { cell >= 10 ? min(1.2, max(0.6, cell * 0.04)) : 0 }

    /// The colour behind the triangles: it shows in the gaps between them and where a link
    /// does not exist (off the mesh edge).
    static let linkBackground = RGB(hex: 0x4A4A4A)

    /// Draws one filled triangle per cell and direction that has a value, coloured by `value / vmax`.
    ///
    /// Each triangle is its own path (one `<path>` element in SVG); cells and directions
    /// without a value (links off the mesh edge) are left blank.
    func drawLinks(_ blocks: LinkBlocks, vmax: Double, map: ColorMap, on canvas: Canvas) {
        let gap = triangleGap
        canvas.fillRect(bounds, Self.linkBackground)
        for row in 0..<rows {
            for col in 0..<columns {
                for d in Direction.allCases {
                    guard let v = blocks.value(column: col, row: row, d) else { continue }
                    canvas.fillPolygon(triangle(column: col, row: row, d, gap: gap), map.color(v / vmax))
                }
            }
        }
    }

    /// Draws x and y axes in core coordinates along the top-left of the cells.
    func drawAxes(on canvas: Canvas, theme t: Theme, titled: Bool) {
        let xs = xScale, ys = yScale
        let integer = { (v: Double, _: Double) in String(Int(v.rounded())) }
        var (xt, xl) = Axis.linearTicks(Scale(lo: Double(region.x0), hi: Double(region.x1), start: xs(Double(region.x0)), end: xs(Double(region.x1))),
                                        horizontal: true, canvas: canvas, theme: t, format: integer)
        var (yt, yl) = Axis.linearTicks(Scale(lo: Double(region.y0), hi: Double(region.y1), start: ys(Double(region.y0)), end: ys(Double(region.y1))),
                                        horizontal: false, canvas: canvas, theme: t, format: integer)
        (xt, xl) = Self.integral(xt, xl)
        (yt, yl) = Self.integral(yt, yl)
        let b = bounds
        Axis(scale: xs, side: .bottom, position: b.maxY, ticks: xt, labels: xl, title: titled ? "x (core column)" : nil)
            .draw(on: canvas, theme: t, span: (b.x, b.maxX))
        Axis(scale: ys, side: .left, position: b.x, ticks: yt, labels: yl, title: titled ? "y (core row)" : nil)
            .draw(on: canvas, theme: t, span: (b.y, b.maxY))
    }

    /// Keeps only integer ticks (core coordinates).
    static func integral(_ ticks: [Double], _ labels: [String]) -> ([Double], [String]) {
        let keep = ticks.indices.filter { ticks[$0] == ticks[$0].rounded() }
        return (keep.map { ticks[$0] }, keep.map { labels[$0] })
    }

    /// Room the axes of `drawAxes` take to the left of and below the cells.
    static func axisRoom(region: CoreRegion, canvas: Canvas, theme t: Theme, titled: Bool) -> (left: Double, bottom: Double) {
        let widest = String(max(region.y1, region.x1))
        return (Axis.verticalExtent(labels: [widest], titled: titled, canvas: canvas, theme: t),
                Axis.horizontalExtent(titled: titled, canvas: canvas, theme: t))
    }
}
