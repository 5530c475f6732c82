import Foundation
import WaferAnalysis
import WaferSpec
import WaferTrace

/// Per-core peak SRAM against the PLMR-M budget as a heat map over the mesh.
///
/// Each cell is a core (or a block of cores, summarised by `aggregate`, for meshes where a core
/// would get under 3 px) coloured on viridis from 0 to the larger of the budget and the highest
/// peak; the colour bar reads in KB on the left and % of budget on the right, with a red line at
/// the budget. Cores over budget (PLMR-M violations) are outlined in red (filled red when cells
/// are too small to outline); the subtitle counts them and the violations the trace recorded.
public struct MemoryMap: Figure {
    /// The hardware the trace ran on.
    public let spec: MeshSpec
    public let use: MemoryUse
    /// The cores shown.
    public let region: CoreRegion
    public let aggregate: BlockAggregate
    /// Headline; made from the trace's metadata, may be replaced.
    public var title: String
    /// The line under the title: mesh, window and key numbers.
    public var subtitle: String
    public var colorMap = ColorMap.viridis

    public init(trace: Trace, region: CoreRegion? = nil, aggregate: BlockAggregate = .max) {
        spec = trace.spec
        use = MemoryUse(trace: trace)
        self.region = region ?? .all(trace.geometry)
        self.aggregate = aggregate
        title = "SRAM use per core" + (Describe.run(trace).map { ": " + $0 } ?? "")
        let over = use.overBudgetCores.count
        let peak = use.maxPeakBytes
        subtitle = [Describe.mesh(trace.spec, region: self.region),
                    "budget \(NumberFormat.kilobytes(Double(use.budgetBytes)))/core",
                    "highest peak \(NumberFormat.kilobytes(Double(peak))) (\(NumberFormat.percent(use.fraction(core: use.peakBytes.firstIndex(of: Int32(peak)) ?? 0))))",
                    "\(over) core\(over == 1 ? "" : "s") over budget",
                    "\(use.recordedViolations) PLMR-M violation\(use.recordedViolations == 1 ? "" : "s") recorded"]
            .joined(separator: " · ")
    }

    /// The top of the colour scale in bytes: the budget, or the highest peak if above it.
    public var scaleMaxBytes: Double { Double(max(use.budgetBytes, use.maxPeakBytes)) }

    /// Where things go on a canvas.
    public struct Layout: Sendable {
        public let mesh: MeshLayout
        public let side: Rect
    }

    private func colorBar(_ canvas: Canvas, _ t: Theme) -> ColorBar {
        let hi = scaleMaxBytes, budget = Double(use.budgetBytes)
        let probe = 300 * t.scale
        let (kb, kbl) = Axis.linearTicks(Scale(lo: 0, hi: hi / 1024, start: 0, end: probe), horizontal: false, canvas: canvas, theme: t)
        let (pc, pcl) = Axis.linearTicks(Scale(lo: 0, hi: hi / budget * 100, start: 0, end: probe), horizontal: false,
                                         canvas: canvas, theme: t, format: { NumberFormat.tick($0, step: $1) + "%" })
        return ColorBar(map: colorMap, lo: 0, hi: hi, title: "% of SRAM budget",
                        ticks: zip(pc, pcl).map { ($0.0 / 100 * budget, $0.1) },
                        leftTitle: "peak SRAM (KB)", leftTicks: zip(kb, kbl).map { ($0.0 * 1024, $0.1) },
                        mark: (budget, Palette.alarm))
    }

    private var legend: Legend {
        Legend(title: nil, items: [LegendItem(label: "over budget (PLMR-M)", symbol: .outline(Palette.alarm)),
                                   LegendItem(label: "budget on colour bar", symbol: .line(Palette.alarm, dashed: false, marker: nil))])
    }

    public func layout(on canvas: Canvas) -> Layout {
        let t = Theme(width: canvas.width, height: canvas.height)
        let top = Header.height(title, subtitle: subtitle, on: canvas, theme: t)
        let sideWidth = max(colorBar(canvas, t).width(on: canvas, theme: t), legend.size(on: canvas, theme: t).width)
        let room = MeshLayout.axisRoom(region: region, canvas: canvas, theme: t, titled: true)
        let area = Rect(x: t.margin + room.left, y: top,
                        width: Double(canvas.width) - 2 * t.margin - room.left - sideWidth - 5 * t.gap,
                        height: Double(canvas.height) - t.margin - room.bottom - top)
        let mesh = MeshLayout(region: region, fitting: area, minCell: 3)
        return Layout(mesh: mesh, side: Rect(x: mesh.bounds.maxX + 5 * t.gap, y: top, width: sideWidth,
                                             height: Double(canvas.height) - t.margin - top))
    }

    public func draw(on canvas: Canvas) throws {
        let t = Theme(width: canvas.width, height: canvas.height)
        let l = layout(on: canvas)
        var sub = subtitle
        if let b = Describe.blocks(l.mesh.blockSize, aggregate) { sub += " · " + b }
        Header.draw(title, subtitle: sub, on: canvas, theme: t)
        let blocks = use.blocks(region: region, blockSize: l.mesh.blockSize, aggregate: aggregate)
        let hi = scaleMaxBytes
        let pixels = blocks.values.map { colorMap.color($0 / hi).argb32 }
        canvas.image(pixels, columns: blocks.columns, rows: blocks.rows, in: l.mesh.bounds)
        let m = l.mesh
        if m.cell >= 10 {
            for c in 1..<max(1, m.columns) {
                let x = m.origin.x + Double(c) * m.cell
                canvas.line(Point(x, m.origin.y), Point(x, m.bounds.maxY), .white, width: 1)
            }
            for r in 1..<max(1, m.rows) {
                let y = m.origin.y + Double(r) * m.cell
                canvas.line(Point(m.origin.x, y), Point(m.bounds.maxX, y), .white, width: 1)
            }
        }
        let outline = min(3 * t.scale, m.cell * 0.18)
        for r in 0..<blocks.rows {
            for c in 0..<blocks.columns where blocks.isFlagged(column: c, row: r) {
                let cell = m.cellRect(column: c, row: r)
                if m.cell >= 5 {
                    canvas.strokeRect(cell.inset(outline / 2), Palette.alarm, width: outline)
                } else {
                    canvas.fillRect(cell, Palette.alarm)
                }
            }
        }
        m.drawAxes(on: canvas, theme: t, titled: true)
        let barHeight = min(l.side.height * 0.5, 440 * t.scale)
        colorBar(canvas, t).draw(on: canvas, theme: t, x: l.side.x, top: l.side.y + t.tick, height: barHeight)
        legend.draw(on: canvas, theme: t, at: Point(l.side.x, l.side.y + t.tick + barHeight + 3 * t.gap), maxWidth: l.side.width)
    }
}
