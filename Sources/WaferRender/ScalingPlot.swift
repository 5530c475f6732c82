import Foundation
import WaferAnalysis

/// Measured cycles against grid side per algorithm, log-log: how kernels scale with the mesh.
///
/// One series per algorithm (per kernel and algorithm when the sweep holds several kernels):
/// measured cycles as a solid line with markers, predicted cycles (where the CSV has them) as a
/// dashed line of the same colour. Several rows at one side are combined by their geometric mean.
public struct ScalingPlot: Figure {
    /// One algorithm's points, sorted by side.
    public struct Series: Sendable {
        public var name: String
        public var measured: [(side: Double, cycles: Double)]
        public var predicted: [(side: Double, cycles: Double)]
    }

    public let series: [Series]
    /// Headline; made from the trace's metadata, may be replaced.
    public var title: String
    /// The line under the title: mesh, window and key numbers.
    public var subtitle: String

    public init(table: SweepTable) {
        let kernels = table.kernels
        let key = { (r: SweepRow) in kernels.count > 1 ? "\(r.kernel) · \(r.algo)" : r.algo }
        var order: [String] = []
        var measured: [String: [Int: [Double]]] = [:], predicted: [String: [Int: [Double]]] = [:]
        for r in table.rows {
            let k = key(r)
            if measured[k] == nil { order.append(k) }
            measured[k, default: [:]][r.side, default: []].append(r.measuredCycles)
            if let p = r.predictedCycles { predicted[k, default: [:]][r.side, default: []].append(p) }
        }
        func points(_ d: [Int: [Double]]?) -> [(side: Double, cycles: Double)] {
            (d ?? [:]).sorted { $0.key < $1.key }.map { (Double($0.key), Self.geometricMean($0.value)) }
        }
        series = order.map { Series(name: $0, measured: points(measured[$0]), predicted: points(predicted[$0])) }
        title = "Cycles vs grid side" + (kernels.count == 1 ? ": \(kernels[0])" : "")
        let sides = table.rows.map(\.side)
        subtitle = ["\(table.rows.count) runs", "\(series.count) algorithm\(series.count == 1 ? "" : "s")",
                    "N×N meshes, N = \(sides.min() ?? 0)–\(sides.max() ?? 0)",
                    series.contains { !$0.predicted.isEmpty } ? "solid: measured, dashed: model" : "measured"]
            .joined(separator: " · ")
    }

    static func geometricMean(_ v: [Double]) -> Double {
        let p = v.filter { $0 > 0 }
        guard !p.isEmpty else { return v.first ?? 0 }
        return exp(p.map { log($0) }.reduce(0, +) / Double(p.count))
    }

    private var legend: Legend {
        var items = series.enumerated().map {
            LegendItem(label: $0.element.name, symbol: .line(Palette.category($0.offset), dashed: false, marker: MarkerShape.nth($0.offset)))
        }
        if series.contains(where: { !$0.predicted.isEmpty }) {
            items.append(LegendItem(label: "measured", symbol: .line(Palette.ink, dashed: false, marker: nil)))
            items.append(LegendItem(label: "predicted (model)", symbol: .line(Palette.ink, dashed: true, marker: nil)))
        }
        return Legend(title: "Algorithm", items: items)
    }

    /// The plot area and scales on a canvas.
    func frame(on canvas: Canvas, theme t: Theme) -> (LogLogFrame, Rect) {
        let top = Header.height(title, subtitle: subtitle, on: canvas, theme: t)
        let lw = legend.size(on: canvas, theme: t).width
        let side = Rect(x: Double(canvas.width) - t.margin - lw, y: top, width: lw, height: Double(canvas.height) - t.margin - top)
        let all = series.flatMap { $0.measured + $0.predicted }
        let f = LogLogFrame(canvas: canvas, theme: t, top: top, right: side.x - 4 * t.gap,
                            xRange: LogLogFrame.range(all.map(\.side)), yRange: LogLogFrame.range(all.map(\.cycles)),
                            xTitle: "grid side N (N×N cores)", yTitle: "cycles", square: false)
        return (f, side)
    }

    public func draw(on canvas: Canvas) throws {
        let t = Theme(width: canvas.width, height: canvas.height)
        Header.draw(title, subtitle: subtitle, on: canvas, theme: t)
        let (f, side) = frame(on: canvas, theme: t)
        let sides = Set(series.flatMap { $0.measured.map(\.side) + $0.predicted.map(\.side) }).sorted()
        f.drawAxes(on: canvas, theme: t, xFormat: { NumberFormat.grouped($0) }, xValues: sides.count <= 12 ? sides : nil)
        canvas.withState {
            canvas.clip(f.plot)
            for (i, s) in series.enumerated() {
                let c = Palette.category(i)
                canvas.polyline(s.predicted.map { f.point($0.side, $0.cycles) }, c, width: t.seriesWidth, dash: [8 * t.scale, 5 * t.scale])
                canvas.polyline(s.measured.map { f.point($0.side, $0.cycles) }, c, width: t.seriesWidth)
                for p in s.measured { MarkerShape.nth(i).draw(on: canvas, at: f.point(p.side, p.cycles), radius: t.markerSize, fill: c) }
            }
        }
        legend.draw(on: canvas, theme: t, at: Point(side.x, side.y), maxWidth: side.width)
    }
}
