import Foundation

/// How a legend entry is drawn.
enum LegendSymbol {
    /// A filled box.
    case swatch(RGB)
    /// A box outlined in the colour (e.g. over-budget cores).
    case outline(RGB)
    /// A line, solid or dashed, with an optional marker on it.
    case line(RGB, dashed: Bool, marker: MarkerShape?)
    /// A marker alone.
    case marker(RGB, MarkerShape)
    /// A translucent band (e.g. a ±10 % region).
    case band(RGB, alpha: Double)
}

/// One legend entry.
struct LegendItem {
    var label: String
    var symbol: LegendSymbol
}

/// A column of legend entries with an optional title, drawn outside the plot.
struct Legend {
    var title: String?
    var items: [LegendItem]

    private func symbolWidth(_ t: Theme) -> Double { 34 * t.scale }
    private func rowHeight(_ canvas: Canvas, _ t: Theme) -> Double {
        let m = canvas.fontMetrics(size: t.legend)
        return max(m.ascent + m.descent, 18 * t.scale) + t.gap * 0.6
    }

    /// Width and height of the legend.
    func size(on canvas: Canvas, theme t: Theme) -> (width: Double, height: Double) {
        var w = items.map { canvas.textWidth($0.label, size: t.legend) }.max() ?? 0
        w += symbolWidth(t) + t.gap
        var h = Double(items.count) * rowHeight(canvas, t)
        if let title {
            w = max(w, canvas.textWidth(title, size: t.legend, bold: true))
            h += rowHeight(canvas, t)
        }
        return (w, h)
    }

    /// Draws the legend with its top-left corner at `origin`; labels are cut to `maxWidth`.
    @discardableResult
    func draw(on canvas: Canvas, theme t: Theme, at origin: Point, maxWidth: Double) -> Rect {
        var y = origin.y
        let rh = rowHeight(canvas, t)
        if let title {
            canvas.text(canvas.truncated(title, width: maxWidth, size: t.legend, bold: true), at: Point(origin.x, y + rh / 2),
                        size: t.legend, bold: true, v: .middle)
            y += rh
        }
        let sw = symbolWidth(t)
        for item in items {
            let cy = y + rh / 2
            let box = Rect(x: origin.x + 2 * t.scale, y: cy - 8 * t.scale, width: sw - 6 * t.scale, height: 16 * t.scale)
            switch item.symbol {
            case .swatch(let c):
                canvas.fillRect(box, c)
                canvas.strokeRect(box, Palette.muted, width: 0.6 * t.scale)
            case .outline(let c):
                canvas.fillRect(box, .white)
                canvas.strokeRect(box.inset(1.5 * t.scale), c, width: 3 * t.scale)
            case .line(let c, let dashed, let marker):
                canvas.line(Point(box.x, cy), Point(box.maxX, cy), c, width: t.seriesWidth,
                            dash: dashed ? [7 * t.scale, 4 * t.scale] : nil)
                marker?.draw(on: canvas, at: Point(box.midX, cy), radius: t.markerSize * 0.8, fill: c)
            case .marker(let c, let shape):
                shape.draw(on: canvas, at: Point(box.midX, cy), radius: t.markerSize * 0.8, fill: c)
            case .band(let c, let alpha):
                canvas.fillRect(box, c, alpha: alpha)
            }
            canvas.text(canvas.truncated(item.label, width: maxWidth - sw - t.gap, size: t.legend),
                        at: Point(origin.x + sw + t.gap * 0.5, cy), size: t.legend, v: .middle)
            y += rh
        }
        let s = size(on: canvas, theme: t)
        return Rect(x: origin.x, y: origin.y, width: min(s.width, maxWidth), height: y - origin.y)
    }
}
