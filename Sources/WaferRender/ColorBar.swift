/// A vertical colour bar for a colour map, with ticks on the right and, optionally, a second
/// scale on the left (e.g. KB and % of budget).
struct ColorBar {
    var map: ColorMap
    var lo: Double
    var hi: Double
    /// Title of the right-hand scale, drawn rotated beside it.
    var title: String
    /// Right-hand tick values and labels.
    var ticks: [(Double, String)]
    /// An optional left-hand scale: title and ticks (values in the same units as `lo`/`hi`).
    var leftTitle: String?
    var leftTicks: [(Double, String)] = []
    /// An optional line across the bar (value, colour), e.g. at the SRAM budget; label it
    /// through `ticks`.
    var mark: (Double, RGB)?

    private func barWidth(_ t: Theme) -> Double { 24 * t.scale }

    private func sideWidth(_ labels: [String], title: String?, canvas: Canvas, t: Theme) -> Double {
        guard !labels.isEmpty || title != nil else { return 0 }
        let m = canvas.fontMetrics(size: t.axisTitle)
        return t.tickLength + t.gap * 0.5 + (labels.map { canvas.textWidth($0, size: t.tick) }.max() ?? 0)
            + (title != nil ? t.gap + m.ascent + m.descent : 0)
    }

    /// The width the bar needs, labels and titles included.
    func width(on canvas: Canvas, theme t: Theme) -> Double {
        sideWidth(ticks.map(\.1), title: title, canvas: canvas, t: t) + barWidth(t)
            + sideWidth(leftTicks.map(\.1), title: leftTitle, canvas: canvas, t: t)
    }

    /// Draws the bar with its labelled block's left edge at `x`, from `top` down `height` px.
    func draw(on canvas: Canvas, theme t: Theme, x: Double, top: Double, height: Double) {
        let left = sideWidth(leftTicks.map(\.1), title: leftTitle, canvas: canvas, t: t)
        let bar = Rect(x: x + left, y: top, width: barWidth(t), height: height)
        let stops = map.points.enumerated().map { (Double($0.offset) / Double(map.points.count - 1), $0.element) }
        canvas.fillGradient(bar, stops: stops, vertical: true)
        canvas.strokeRect(bar, Palette.ink, width: t.lineWidth * 0.8)
        let scale = Scale(lo: lo, hi: hi, start: bar.maxY, end: bar.y)
        let right = Axis(scale: scale, side: .right, position: bar.maxX, ticks: ticks.map(\.0), labels: ticks.map(\.1), title: title)
        right.draw(on: canvas, theme: t, span: (bar.y, bar.maxY))
        if !leftTicks.isEmpty || leftTitle != nil {
            let l = Axis(scale: scale, side: .left, position: bar.x, ticks: leftTicks.map(\.0), labels: leftTicks.map(\.1), title: leftTitle)
            l.draw(on: canvas, theme: t, span: (bar.y, bar.maxY))
        }
        if let (v, c) = mark, v >= lo, v <= hi {
            let y = scale(v)
            canvas.line(Point(bar.x, y), Point(bar.maxX, y), c, width: 3 * t.scale)
        }
    }
}
