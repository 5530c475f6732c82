import Foundation

/// A log-log plot area with its axes: what the sweep plots share.
///
/// Ticks are decades (with 2 and 5 when a range spans under three decades) and light grid lines;
/// labels use SI suffixes (1k, 10M).
struct LogLogFrame {
    let plot: Rect
    let x: Scale
    let y: Scale
    let xTitle: String
    let yTitle: String

    /// A padded range covering `values` (all > 0): a tenth of the span (at least a fifth of a
    /// decade) on each side.
    static func range(_ values: [Double]) -> (Double, Double) {
        let v = values.filter { $0 > 0 && $0.isFinite }
        guard let lo = v.min(), let hi = v.max() else { return (1, 10) }
        let a = log10(lo), b = log10(hi)
        let pad = max(0.2, (b - a) * 0.1)
        return (pow(10, a - pad), pow(10, b + pad))
    }

    /// Fits the plot between `top` and the bottom margin, from the left margin to `right`;
    /// `square` makes both axes the same length (for y = x comparisons).
    init(canvas: Canvas, theme t: Theme, top: Double, right: Double, xRange: (Double, Double), yRange: (Double, Double),
         xTitle: String, yTitle: String, square: Bool) {
        let bottom = Double(canvas.height) - t.margin - Axis.horizontalExtent(titled: true, canvas: canvas, theme: t)
        let probeY = Scale(lo: yRange.0, hi: yRange.1, start: bottom, end: top, log: true)
        let (_, labels, _) = Axis.logTicks(probeY, horizontal: false, canvas: canvas, theme: t)
        let left = t.margin + Axis.verticalExtent(labels: labels + ["1.0M"], titled: true, canvas: canvas, theme: t)
        var w = right - left, h = bottom - top
        if square { w = min(w, h); h = w }
        plot = Rect(x: left.rounded(), y: top.rounded(), width: w.rounded(), height: h.rounded())
        x = Scale(lo: xRange.0, hi: xRange.1, start: plot.x, end: plot.maxX, log: true)
        y = Scale(lo: yRange.0, hi: yRange.1, start: plot.maxY, end: plot.y, log: true)
        self.xTitle = xTitle
        self.yTitle = yTitle
    }

    /// Grid, axes and frame; `xValues` (e.g. the grid sides of a sweep) replace the x ticks
    /// when their labels fit.
    func drawAxes(on canvas: Canvas, theme t: Theme, xFormat: (Double) -> String = NumberFormat.si, xValues: [Double]? = nil) {
        var (xt, xl, xm) = Axis.logTicks(x, horizontal: true, canvas: canvas, theme: t, format: xFormat)
        if let v = xValues, v.count >= 2 {
            let labels = v.map(xFormat)
            if Axis.fits(v, labels, x, horizontal: true, canvas: canvas, theme: t) { (xt, xl, xm) = (v, labels, []) }
        }
        let (yt, yl, ym) = Axis.logTicks(y, horizontal: false, canvas: canvas, theme: t)
        Axis(scale: x, side: .bottom, position: plot.maxY, ticks: xt, labels: xl, minor: xm, title: xTitle)
            .draw(on: canvas, theme: t, span: (plot.x, plot.maxX), grid: plot)
        Axis(scale: y, side: .left, position: plot.x, ticks: yt, labels: yl, minor: ym, title: yTitle)
            .draw(on: canvas, theme: t, span: (plot.y, plot.maxY), grid: plot)
        canvas.strokeRect(plot, Palette.ink, width: t.lineWidth)
    }

    /// The canvas point of data (vx, vy).
    func point(_ vx: Double, _ vy: Double) -> Point { Point(x(vx), y(vy)) }
}
