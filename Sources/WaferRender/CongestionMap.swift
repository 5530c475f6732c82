import Foundation
import WaferAnalysis
import WaferSpec
import WaferTrace

/// Link utilisation over the mesh as a heat map of directed links.
///
/// Every core (or block of cores, for meshes too large to show a link in ~3 px) is a square
/// cell split by its diagonals into four triangles, one per outgoing link: the triangle on the
/// cell's east side is the link leaving the core eastwards, and so on. The two directions of
/// the link between two neighbours are thus the two triangles meeting at their shared side.
/// Colour is utilisation (busy cycles / window) on magma, from 0 to `scaleMax`; a colour bar,
/// the hottest links by name and a key to the triangles sit on the right.
public struct CongestionMap: Figure {
    /// The hardware the trace ran on.
    public let spec: MeshSpec
    public let utilisation: LinkUtilisation
    /// The cores shown.
    public let region: CoreRegion
    /// How blocks summarise their links when cores are grouped.
    public let aggregate: BlockAggregate
    /// Headline; made from the trace's metadata, may be replaced.
    public var title: String
    /// The line under the title: mesh, window and key numbers.
    public var subtitle: String
    /// The busiest links of the region, busiest first (at most 8 are named).
    public let hottest: [LinkLoad]
    public var colorMap = ColorMap.magma

    /// The map of `trace`'s links over the whole run, or over `window` (from its link windows).
    ///
    /// - Throws: `AnalysisError` when the window cannot be cut from the trace.
    public init(trace: Trace, region: CoreRegion? = nil, window: CycleWindow? = nil, aggregate: BlockAggregate = .max) throws {
        let u = try window.map { try LinkUtilisation(trace: trace, window: $0) } ?? LinkUtilisation(trace: trace)
        let region = region ?? .all(trace.geometry)
        self.spec = trace.spec
        utilisation = u
        self.region = region
        self.aggregate = aggregate
        hottest = u.hottest(8, in: region)
        title = "Link utilisation" + (Describe.run(trace).map { ": " + $0 } ?? "")
        subtitle = [Describe.mesh(trace.spec, region: region), Describe.window(u.window, clockHz: trace.spec.clockHz)]
            .joined(separator: " · ")
    }

    /// The top of the colour scale: the busiest link shown, rounded up to a 1-2-5 value (≤ 100 %).
    public var scaleMax: Double { min(1, Ticks.niceCeil(max(peak, 0.01))) }

    /// The busiest link's utilisation in the region.
    public var peak: Double { hottest.first?.utilisation ?? 0 }

    /// Where things go on a canvas.
    public struct Layout: Sendable {
        /// The cells of the mesh.
        public let mesh: MeshLayout
        /// The column on the right with the colour bar, hottest links and key.
        public let side: Rect
    }

    private func colorBar(_ canvas: Canvas, _ t: Theme) -> ColorBar {
        let vmax = scaleMax
        let (ticks, labels) = Axis.linearTicks(Scale(lo: 0, hi: vmax, start: 0, end: 300 * t.scale), horizontal: false,
                                               canvas: canvas, theme: t, format: Self.percentLabel)
        return ColorBar(map: colorMap, lo: 0, hi: vmax, title: "link utilisation (busy share of window)",
                        ticks: Array(zip(ticks, labels)))
    }

    static func percentLabel(_ v: Double, _ step: Double) -> String { NumberFormat.tick(v * 100, step: step * 100) + "%" }

    private func hottestLegend(_ vmax: Double) -> Legend {
        Legend(title: hottest.isEmpty ? "No link was busy" : "Hottest links",
               items: hottest.map { LegendItem(label: $0.description, symbol: .swatch(colorMap.color($0.utilisation / vmax))) })
    }

    /// Lays the figure out on `canvas` (the same layout `draw` uses).
    public func layout(on canvas: Canvas) -> Layout {
        let t = Theme(width: canvas.width, height: canvas.height)
        let top = Header.height(title, subtitle: fullSubtitle, on: canvas, theme: t)
        let sideWidth = max(colorBar(canvas, t).width(on: canvas, theme: t), hottestLegend(scaleMax).size(on: canvas, theme: t).width,
                            LinkKey.width(on: canvas, theme: t))
        let room = MeshLayout.axisRoom(region: region, canvas: canvas, theme: t, titled: true)
        let area = Rect(x: t.margin + room.left, y: top,
                        width: Double(canvas.width) - 2 * t.margin - room.left - sideWidth - 5 * t.gap,
                        height: Double(canvas.height) - t.margin - room.bottom - top)
        let mesh = MeshLayout(region: region, fitting: area, minCell: 8)
        let side = Rect(x: mesh.bounds.maxX + 5 * t.gap, y: top, width: sideWidth, height: Double(canvas.height) - t.margin - top)
        return Layout(mesh: mesh, side: side)
    }

    private var fullSubtitle: String { subtitle + " · peak link \(NumberFormat.percent(peak))" }

    public func draw(on canvas: Canvas) throws {
        let t = Theme(width: canvas.width, height: canvas.height)
        let l = layout(on: canvas)
        var sub = fullSubtitle
        if let b = Describe.blocks(l.mesh.blockSize, aggregate) { sub += " · " + b }
        Header.draw(title, subtitle: sub, on: canvas, theme: t)
        let vmax = scaleMax
        let blocks = LinkBlocks(utilisation, region: region, blockSize: l.mesh.blockSize, aggregate: aggregate)
        l.mesh.drawLinks(blocks, vmax: vmax, map: colorMap, on: canvas)
        l.mesh.drawAxes(on: canvas, theme: t, titled: true)

        let barHeight = min(l.side.height * 0.42, 420 * t.scale)
        colorBar(canvas, t).draw(on: canvas, theme: t, x: l.side.x, top: l.side.y + t.tick, height: barHeight)
        var y = l.side.y + t.tick + barHeight + 3 * t.gap
        let legend = hottestLegend(vmax)
        let keyHeight = LinkKey.height(theme: t)
        var shown = legend
        let rowH = legend.size(on: canvas, theme: t).height / Double(max(1, legend.items.count + 1))
        let room = l.side.maxY - y - keyHeight - 3 * t.gap
        if legend.size(on: canvas, theme: t).height > room {
            shown.items = Array(legend.items.prefix(max(0, Int(room / rowH) - 1)))
        }
        if !shown.items.isEmpty || legend.items.isEmpty {
            y = shown.draw(on: canvas, theme: t, at: Point(l.side.x, y), maxWidth: l.side.width).maxY + 3 * t.gap
        }
        if l.side.maxY - y >= keyHeight {
            LinkKey.draw(on: canvas, theme: t, at: Point(l.side.x, y), blockSize: l.mesh.blockSize, aggregate: aggregate)
        }
    }
}
