import Foundation

/// A map from data values to canvas pixels along one axis, linear or logarithmic.
public struct Scale: Sendable {
    /// Domain ends (both > 0 on a log scale).
    public let lo: Double
    public let hi: Double
    /// Pixel coordinates of `lo` and `hi` (start > end for an upward y axis).
    public let start: Double
    public let end: Double
    public let isLog: Bool

    public init(lo: Double, hi: Double, start: Double, end: Double, log: Bool = false) {
        self.lo = lo; self.hi = hi; self.start = start; self.end = end; isLog = log
    }

    /// The pixel coordinate of value `v`.
    public func callAsFunction(_ v: Double) -> Double {
        let t = isLog ? (Foundation.log10(v) - Foundation.log10(lo)) / (Foundation.log10(hi) - Foundation.log10(lo))
            : (v - lo) / (hi - lo)
        return start + t * (end - start)
    }

    /// The pixel length of the axis.
    public var length: Double { abs(end - start) }
}

/// Which side of the plot an axis is drawn on.
enum AxisSide { case bottom, top, left, right }

/// One axis ready to draw: its scale, where its line is, its ticks and labels, its title.
struct Axis {
    var scale: Scale
    var side: AxisSide
    /// y of the axis line for bottom/top axes, x for left/right.
    var position: Double
    var ticks: [Double]
    var labels: [String]
    var minor: [Double] = []
    var title: String?

    /// Ticks on a linear scale, as many as fit without labels touching, labelled by `format`
    /// (given the value and the tick step).
    static func linearTicks(_ scale: Scale, horizontal: Bool, canvas: Canvas, theme t: Theme,
                            format: (Double, Double) -> String = NumberFormat.tick) -> ([Double], [String]) {
        var count = max(2, Int(scale.length / (horizontal ? 70 * t.scale : 40 * t.scale)))
        while true {
            let ticks = Ticks.linear(min(scale.lo, scale.hi), max(scale.lo, scale.hi), maxCount: count)
            let step = ticks.count > 1 ? ticks[1] - ticks[0] : Ticks.linearStep(min(scale.lo, scale.hi), max(scale.lo, scale.hi), maxCount: count)
            let labels = ticks.map { format($0, step) }
            if count <= 2 || fits(ticks, labels, scale, horizontal: horizontal, canvas: canvas, theme: t) { return (ticks, labels) }
            count -= 1
        }
    }

    /// Decade (or 1-2-5) ticks on a log scale, labelled with SI suffixes, as many as fit.
    static func logTicks(_ scale: Scale, horizontal: Bool, canvas: Canvas, theme t: Theme,
                         format: (Double) -> String = NumberFormat.si) -> ([Double], [String], [Double]) {
        var count = max(2, Int(scale.length / (horizontal ? 70 * t.scale : 40 * t.scale)))
        while true {
            let (major, minor) = Ticks.log(scale.lo, scale.hi, maxCount: count)
            let labels = major.map(format)
            if count <= 2 || fits(major, labels, scale, horizontal: horizontal, canvas: canvas, theme: t) { return (major, labels, minor) }
            count -= 1
        }
    }

    /// Whether neighbouring labels keep at least a gap between them.
    static func fits(_ ticks: [Double], _ labels: [String], _ scale: Scale, horizontal: Bool, canvas: Canvas, theme t: Theme) -> Bool {
        guard ticks.count > 1 else { return true }
        let m = canvas.fontMetrics(size: t.tick)
        for i in 1..<ticks.count {
            let d = abs(scale(ticks[i]) - scale(ticks[i - 1]))
            let need = horizontal
                ? (canvas.textWidth(labels[i], size: t.tick) + canvas.textWidth(labels[i - 1], size: t.tick)) / 2 + t.gap * 1.5
                : (m.ascent + m.descent) + t.gap * 0.5
            if d < need { return false }
        }
        return true
    }

    /// The widest tick label, for reserving room beside a vertical axis.
    static func labelWidth(_ labels: [String], canvas: Canvas, theme t: Theme) -> Double {
        labels.map { canvas.textWidth($0, size: t.tick) }.max() ?? 0
    }

    /// Draws the axis line, ticks, labels and title; `grid` (the plot area) gets light grid
    /// lines at the major ticks.
    func draw(on canvas: Canvas, theme t: Theme, span: (Double, Double), grid: Rect? = nil) {
        let horizontal = side == .bottom || side == .top
        let dir: Double = (side == .bottom || side == .right) ? 1 : -1
        if let grid {
            for v in ticks {
                let p = scale(v)
                if horizontal { canvas.line(Point(p, grid.y), Point(p, grid.maxY), Palette.grid, width: t.lineWidth) } else {
                    canvas.line(Point(grid.x, p), Point(grid.maxX, p), Palette.grid, width: t.lineWidth)
                }
            }
        }
        if horizontal {
            canvas.line(Point(span.0, position), Point(span.1, position), Palette.ink, width: t.lineWidth)
        } else {
            canvas.line(Point(position, span.0), Point(position, span.1), Palette.ink, width: t.lineWidth)
        }
        for v in minor {
            let p = scale(v)
            if horizontal { canvas.line(Point(p, position), Point(p, position + dir * t.tickLength * 0.6), Palette.ink, width: t.lineWidth * 0.8) } else {
                canvas.line(Point(position, p), Point(position + dir * t.tickLength * 0.6, p), Palette.ink, width: t.lineWidth * 0.8)
            }
        }
        let m = canvas.fontMetrics(size: t.tick)
        for (v, label) in zip(ticks, labels) {
            let p = scale(v)
            if horizontal {
                canvas.line(Point(p, position), Point(p, position + dir * t.tickLength), Palette.ink, width: t.lineWidth)
                canvas.text(label, at: Point(p, position + dir * (t.tickLength + t.gap * 0.4)), size: t.tick,
                            h: .center, v: side == .bottom ? .top : .bottom)
            } else {
                canvas.line(Point(position, p), Point(position + dir * t.tickLength, p), Palette.ink, width: t.lineWidth)
                canvas.text(label, at: Point(position + dir * (t.tickLength + t.gap * 0.5), p), size: t.tick,
                            h: side == .left ? .right : .left, v: .middle)
            }
        }
        guard let title else { return }
        let mid = (span.0 + span.1) / 2
        if horizontal {
            let off = t.tickLength + t.gap * 0.4 + m.ascent + m.descent + t.gap * 0.6
            canvas.text(title, at: Point(mid, position + dir * off), size: t.axisTitle, h: .center, v: side == .bottom ? .top : .bottom)
        } else {
            let off = t.tickLength + t.gap * 0.5 + Axis.labelWidth(labels, canvas: canvas, theme: t) + t.gap
            canvas.text(title, at: Point(position + dir * off, mid), size: t.axisTitle, h: .center,
                        v: .bottom, angle: side == .left ? Double.pi / 2 : -Double.pi / 2)
        }
    }

    /// Room a vertical axis needs beside the plot: ticks, labels, title.
    static func verticalExtent(labels: [String], titled: Bool, canvas: Canvas, theme t: Theme) -> Double {
        let m = canvas.fontMetrics(size: t.axisTitle)
        return t.tickLength + t.gap * 0.5 + labelWidth(labels, canvas: canvas, theme: t) + t.gap
            + (titled ? m.ascent + m.descent : 0)
    }

    /// Room a horizontal axis needs below or above the plot: ticks, labels, title.
    static func horizontalExtent(titled: Bool, canvas: Canvas, theme t: Theme) -> Double {
        let m = canvas.fontMetrics(size: t.tick), a = canvas.fontMetrics(size: t.axisTitle)
        return t.tickLength + t.gap * 0.4 + m.ascent + m.descent + (titled ? t.gap * 0.6 + a.ascent + a.descent : 0)
    }
}
