import Foundation

/// Shapes for scatter and line markers, so series differ in shape as well as colour.
public enum MarkerShape: CaseIterable, Sendable {
    case circle, square, triangle, diamond, invertedTriangle

    /// The i-th shape (cycling).
    static func nth(_ i: Int) -> MarkerShape { allCases[i % allCases.count] }

    /// Draws the marker centred at `c` with "radius" `r`.
    func draw(on canvas: Canvas, at c: Point, radius r: Double, fill: RGB, outline: RGB? = .white, outlineWidth: Double = 1) {
        switch self {
        case .circle:
            canvas.circle(c, radius: r, fill: fill, outline: outline, outlineWidth: outlineWidth)
        case .square:
            let s = r * 0.9
            canvas.fillPolygon([Point(c.x - s, c.y - s), Point(c.x + s, c.y - s), Point(c.x + s, c.y + s), Point(c.x - s, c.y + s)],
                               fill, outline: outline, outlineWidth: outlineWidth)
        case .triangle:
            canvas.fillPolygon([Point(c.x, c.y - r * 1.15), Point(c.x + r * 1.1, c.y + r * 0.75), Point(c.x - r * 1.1, c.y + r * 0.75)],
                               fill, outline: outline, outlineWidth: outlineWidth)
        case .invertedTriangle:
            canvas.fillPolygon([Point(c.x, c.y + r * 1.15), Point(c.x + r * 1.1, c.y - r * 0.75), Point(c.x - r * 1.1, c.y - r * 0.75)],
                               fill, outline: outline, outlineWidth: outlineWidth)
        case .diamond:
            canvas.fillPolygon([Point(c.x, c.y - r * 1.2), Point(c.x + r * 1.2, c.y), Point(c.x, c.y + r * 1.2), Point(c.x - r * 1.2, c.y)],
                               fill, outline: outline, outlineWidth: outlineWidth)
        }
    }
}
