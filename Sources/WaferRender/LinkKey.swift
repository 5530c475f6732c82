import WaferAnalysis
import WaferSpec

/// A small key explaining the triangle encoding of links.
enum LinkKey {
    static func glyph(_ t: Theme) -> Double { 58 * t.scale }

    static func lines(blockSize: Int, aggregate: BlockAggregate) -> [String] {
        blockSize > 1
            ? ["Each cell: \(blockSize)×\(blockSize) cores;", "each triangle: the \(aggregate.rawValue) of", "their links towards", "E, W, N or S."]
            : ["Each cell: one core;", "each triangle: the link", "leaving it towards", "E, W, N or S."]
    }

    static func width(on canvas: Canvas, theme t: Theme) -> Double {
        let text = lines(blockSize: 16, aggregate: .mean).map { canvas.textWidth($0, size: t.note) }.max() ?? 0
        return glyph(t) + t.gap + text
    }

    static func height(theme t: Theme) -> Double { max(glyph(t), 4 * t.note * 1.3) }

    static func draw(on canvas: Canvas, theme t: Theme, at p: Point, blockSize: Int, aggregate: BlockAggregate) {
        let s = glyph(t)
        let mesh = MeshLayout(region: CoreRegion(x0: 0, y0: 0, x1: 0, y1: 0), fitting: Rect(x: p.x, y: p.y, width: s, height: s), minCell: 1)
        let shades: [Direction: RGB] = [.east: RGB(0.45, 0.45, 0.45), .west: RGB(0.6, 0.6, 0.6), .north: RGB(0.35, 0.35, 0.35), .south: RGB(0.7, 0.7, 0.7)]
        for d in Direction.allCases {
            canvas.fillPolygon(mesh.triangle(column: 0, row: 0, d, gap: 1.5 * t.scale), shades[d]!)
            canvas.text(d.letter, at: mesh.linkPoint(x: 0, y: 0, d), size: t.note, color: .white, bold: true, h: .center, v: .middle)
        }
        for (i, line) in lines(blockSize: blockSize, aggregate: aggregate).enumerated() {
            canvas.text(line, at: Point(p.x + s + t.gap, p.y + Double(i) * t.note * 1.3), size: t.note, color: Palette.muted, v: .top)
        }
    }
}
