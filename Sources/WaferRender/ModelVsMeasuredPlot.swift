import Foundation
import WaferAnalysis

/// Predicted against measured cycles, log-log, with the y = x line and a ±10 % band.
///
/// One point per run that has a prediction, coloured (and shaped) by algorithm; the subtitle
/// gives the mean absolute percentage error and how many runs fall within ±10 %.
public struct ModelVsMeasuredPlot: Figure {
    /// The runs with a prediction.
    public let rows: [SweepRow]
    public let algorithms: [String]
    /// Headline; made from the trace's metadata, may be replaced.
    public var title: String
    /// The line under the title: mesh, window and key numbers.
    public var subtitle: String

    /// - Throws: `AnalysisError.badSweep` when no row has a prediction.
    public init(table: SweepTable) throws {
        rows = table.rows.filter { $0.predictedCycles != nil && $0.measuredCycles > 0 && $0.predictedCycles! > 0 }
        guard !rows.isEmpty else {
            throw AnalysisError.badSweep("the sweep has no predicted_cycles values to compare with measured_cycles")
        }
        algorithms = SweepTable(rows: rows).algorithms
        let mape = SweepTable(rows: rows).mape ?? 0
        let within = rows.filter { ($0.relativeError ?? 1) <= 0.1 }.count
        let kernels = SweepTable(rows: rows).kernels
        title = "Model vs measured cycles" + (kernels.count == 1 ? ": \(kernels[0])" : "")
        subtitle = [String(format: "MAPE %.1f%%", mape) + " over \(rows.count) run\(rows.count == 1 ? "" : "s")",
                    "\(within) of \(rows.count) within ±10%",
                    "sides \(rows.map(\.side).min()!)–\(rows.map(\.side).max()!)"].joined(separator: " · ")
    }

    private var legend: Legend {
        var items = algorithms.enumerated().map { LegendItem(label: $0.element, symbol: .marker(Palette.category($0.offset), MarkerShape.nth($0.offset))) }
        items.append(LegendItem(label: "y = x (exact)", symbol: .line(Palette.ink, dashed: false, marker: nil)))
        items.append(LegendItem(label: "±10%", symbol: .band(Palette.muted, alpha: 0.18)))
        return Legend(title: "Algorithm", items: items)
    }

    func frame(on canvas: Canvas, theme t: Theme) -> (LogLogFrame, Rect) {
        let top = Header.height(title, subtitle: subtitle, on: canvas, theme: t)
        let lw = legend.size(on: canvas, theme: t).width
        let values = rows.flatMap { [$0.measuredCycles, $0.predictedCycles!] }
        let range = LogLogFrame.range(values)
        let f = LogLogFrame(canvas: canvas, theme: t, top: top, right: Double(canvas.width) - t.margin - lw - 5 * t.gap,
                            xRange: range, yRange: range, xTitle: "measured cycles (engine)", yTitle: "predicted cycles (model)", square: true)
        let side = Rect(x: f.plot.maxX + 5 * t.gap, y: top, width: lw, height: Double(canvas.height) - t.margin - top)
        return (f, side)
    }

    public func draw(on canvas: Canvas) throws {
        let t = Theme(width: canvas.width, height: canvas.height)
        Header.draw(title, subtitle: subtitle, on: canvas, theme: t)
        let (f, side) = frame(on: canvas, theme: t)
        let lo = f.x.lo, hi = f.x.hi
        canvas.withState {
            canvas.clip(f.plot)
            canvas.fillPolygon([f.point(lo, lo * 0.9), f.point(hi, hi * 0.9), f.point(hi, hi * 1.1), f.point(lo, lo * 1.1)],
                               Palette.muted, alpha: 0.18)
        }
        f.drawAxes(on: canvas, theme: t)
        canvas.withState {
            canvas.clip(f.plot)
            canvas.line(f.point(lo, lo), f.point(hi, hi), Palette.ink, width: t.lineWidth * 1.5)
            let index = Dictionary(uniqueKeysWithValues: algorithms.enumerated().map { ($0.element, $0.offset) })
            for r in rows {
                let i = index[r.algo] ?? 0
                MarkerShape.nth(i).draw(on: canvas, at: f.point(r.measuredCycles, r.predictedCycles!), radius: t.markerSize, fill: Palette.category(i))
            }
        }
        legend.draw(on: canvas, theme: t, at: Point(side.x, side.y), maxWidth: side.width)
    }
}
