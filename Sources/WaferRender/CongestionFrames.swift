import Foundation
import WaferAnalysis
import WaferSpec
import WaferTrace

/// Small multiples of the congestion map over successive time windows, on one colour scale.
///
/// The run is cut into at most `panels` windows along the trace's recorded link windows (see
/// `LinkUtilisation.frames`). Each panel is a `CongestionMap`-style triangle map titled with its
/// cycle range and its busiest link; the colour scale is shared and runs from 0 to the busiest
/// link of any panel.
public struct CongestionFrames: Figure {
    /// The hardware the trace ran on.
    public let spec: MeshSpec
    public let frames: [LinkUtilisation]
    /// The cores shown.
    public let region: CoreRegion
    public let aggregate: BlockAggregate
    /// Headline; made from the trace's metadata, may be replaced.
    public var title: String
    /// The line under the title: mesh, window and key numbers.
    public var subtitle: String
    public var colorMap = ColorMap.magma
    /// The busiest link of each panel (within the region), 0 when no link was busy.
    public let panelPeaks: [Double]

    /// - Throws: `AnalysisError.noLinkWindows` for a summary trace, `.emptyRun` for an empty one.
    public init(trace: Trace, region: CoreRegion? = nil, panels: Int = 8, aggregate: BlockAggregate = .max) throws {
        frames = try LinkUtilisation.frames(of: trace, panels: max(1, panels))
        spec = trace.spec
        self.region = region ?? .all(trace.geometry)
        self.aggregate = aggregate
        panelPeaks = frames.map { [region] u in u.hottest(1, in: region).first?.utilisation ?? 0 }
        title = "Link utilisation over time" + (Describe.run(trace).map { ": " + $0 } ?? "")
        let whole = CycleWindow(start: 0, end: Int(trace.summary.makespanCycles))
        subtitle = [Describe.mesh(trace.spec, region: self.region), Describe.window(whole, clockHz: trace.spec.clockHz),
                    "\(frames.count) windows", "(0,0) at top left"].joined(separator: " · ")
    }

    /// The busiest link in any panel (within the region).
    public var peak: Double { panelPeaks.max() ?? 0 }

    /// The top of the shared colour scale.
    public var scaleMax: Double { min(1, Ticks.niceCeil(max(peak, 0.01))) }

    /// Where things go on a canvas.
    public struct Layout: Sendable {
        /// One mesh layout per panel, in time order.
        public let panels: [MeshLayout]
        /// Where each panel's title is anchored (its top-left).
        public let titles: [Point]
        /// The column on the right with the colour bar and key.
        public let side: Rect
    }

    private func colorBar(_ canvas: Canvas, _ t: Theme) -> ColorBar {
        let vmax = scaleMax
        let (ticks, labels) = Axis.linearTicks(Scale(lo: 0, hi: vmax, start: 0, end: 300 * t.scale), horizontal: false,
                                               canvas: canvas, theme: t, format: CongestionMap.percentLabel)
        return ColorBar(map: colorMap, lo: 0, hi: vmax, title: "link utilisation (busy share of window)",
                        ticks: Array(zip(ticks, labels)))
    }

    /// Lays the panels out in the grid of columns and rows that gives the meshes the most area.
    public func layout(on canvas: Canvas) -> Layout {
        let t = Theme(width: canvas.width, height: canvas.height)
        let top = Header.height(title, subtitle: subtitle, on: canvas, theme: t)
        let sideWidth = max(colorBar(canvas, t).width(on: canvas, theme: t), LinkKey.width(on: canvas, theme: t))
        let area = Rect(x: t.margin, y: top, width: Double(canvas.width) - 2 * t.margin - sideWidth - 5 * t.gap,
                        height: Double(canvas.height) - t.margin - top)
        let titleH = panelTitleHeight(canvas, t)
        let gapX = 3 * t.gap, gapY = 2 * t.gap
        let n = max(1, frames.count)
        func probe(_ cols: Int) -> (w: Double, h: Double, mesh: Rect) {
            let rows = (n + cols - 1) / cols
            let w = (area.width - Double(cols - 1) * gapX) / Double(cols)
            let h = (area.height - Double(rows - 1) * gapY) / Double(rows) - titleH
            guard w > 1, h > 1 else { return (w, h, Rect(x: 0, y: 0, width: 0, height: 0)) }
            return (w, h, MeshLayout(region: region, fitting: Rect(x: 0, y: 0, width: w, height: h), minCell: 6).bounds)
        }
        var best = 1, bestArea = -1.0
        for cols in 1...n {
            let m = probe(cols).mesh
            if m.width * m.height > bestArea * 1.0001 { best = cols; bestArea = m.width * m.height }
        }
        let (w, h, mesh) = probe(best)
        let pitchX = max(mesh.width, 120 * t.scale) + gapX, pitchY = titleH + mesh.height + gapY
        var panels: [MeshLayout] = [], titles: [Point] = []
        for i in 0..<frames.count {
            let x = area.x + Double(i % best) * pitchX, y = area.y + Double(i / best) * pitchY
            titles.append(Point(x, y))
            panels.append(MeshLayout(region: region, fitting: Rect(x: x, y: y + titleH, width: w, height: h), minCell: 6))
        }
        let right = (panels.map(\.bounds.maxX).max() ?? area.x) + 5 * t.gap
        let side = Rect(x: right, y: top, width: sideWidth, height: Double(canvas.height) - t.margin - top)
        return Layout(panels: panels, titles: titles, side: side)
    }

    /// Two lines above each panel: its cycle range and its busiest link.
    private func panelTitleHeight(_ canvas: Canvas, _ t: Theme) -> Double {
        let m = canvas.fontMetrics(size: t.note, bold: true)
        return 2 * (m.ascent + m.descent) + t.gap * 0.6
    }

    public func draw(on canvas: Canvas) throws {
        let t = Theme(width: canvas.width, height: canvas.height)
        let l = layout(on: canvas)
        var sub = subtitle
        if let b = l.panels.first.flatMap({ Describe.blocks($0.blockSize, aggregate) }) { sub += " · " + b }
        Header.draw(title, subtitle: sub, on: canvas, theme: t)
        let vmax = scaleMax
        for (i, u) in frames.enumerated() {
            let mesh = l.panels[i]
            let blocks = LinkBlocks(u, region: region, blockSize: mesh.blockSize, aggregate: aggregate)
            mesh.drawLinks(blocks, vmax: vmax, map: colorMap, on: canvas)
            let range = "cycles \(NumberFormat.grouped(Double(u.window.start)))–\(NumberFormat.grouped(Double(u.window.end)))"
            let width = max(mesh.bounds.width, 120 * t.scale)
            let m = canvas.fontMetrics(size: t.note, bold: true)
            canvas.text(canvas.truncated(range, width: width, size: t.note, bold: true), at: l.titles[i], size: t.note, bold: true, v: .top)
            canvas.text(canvas.truncated("peak link \(NumberFormat.percent(panelPeaks[i]))", width: width, size: t.note),
                        at: Point(l.titles[i].x, l.titles[i].y + m.ascent + m.descent), size: t.note, color: Palette.muted, v: .top)
        }
        let barHeight = min(l.side.height * 0.5, 420 * t.scale)
        colorBar(canvas, t).draw(on: canvas, theme: t, x: l.side.x, top: l.side.y + t.tick, height: barHeight)
        let y = l.side.y + t.tick + barHeight + 4 * t.gap
        if l.side.maxY - y >= LinkKey.height(theme: t) {
            LinkKey.draw(on: canvas, theme: t, at: Point(l.side.x, y), blockSize: l.panels.first?.blockSize ?? 1, aggregate: aggregate)
        }
    }
}
