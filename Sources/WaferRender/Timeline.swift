import Foundation
import WaferAnalysis
import WaferSpec
import WaferTrace

/// A per-core Gantt chart ("blood graph"): one row per core in (y, x) order, time across.
///
/// Full-detail traces show what each core did (compute, its ramp sending, waiting in a
/// receive, idle); kernel-detail traces show which kernel each core was in, one colour per
/// kernel name. When the region has more cores than the plot has pixel rows, consecutive cores
/// share a row and each pixel blends the activity colours by their share (see `ActivityGrid`).
/// Time is in cycles on the bottom axis and in µs (at the spec's clock) on the top axis.
public struct Timeline: Figure {
    public let trace: Trace
    /// The cores shown.
    public let region: CoreRegion
    public let window: CycleWindow
    /// Headline; made from the trace's metadata, may be replaced.
    public var title: String
    /// The line under the title: mesh, window and key numbers.
    public var subtitle: String
    /// The categories drawn: activities, or kernel names (at most ten, the last maybe `other`).
    public let categories: [String]

    /// - Throws: `AnalysisError.noSpans` for a summary trace, `.emptyRun` for a run of no cycles.
    public init(trace: Trace, region: CoreRegion? = nil, window: CycleWindow? = nil) throws {
        guard trace.detail != .summary else { throw AnalysisError.noSpans(trace.detail) }
        guard trace.summary.makespanCycles > 0 else { throw AnalysisError.emptyRun }
        self.trace = trace
        self.region = region ?? .all(trace.geometry)
        self.window = window ?? CycleWindow(start: 0, end: Int(trace.summary.makespanCycles))
        categories = ActivityGrid.categories(for: trace, maxKernels: Self.maxKernels)
        title = (trace.detail == .full ? "Core activity" : "Kernels per core") + (Describe.run(trace).map { ": " + $0 } ?? "")
        subtitle = [Describe.mesh(trace.spec, region: self.region), "\(trace.detail.rawValue) detail",
                    Describe.window(self.window, clockHz: trace.spec.clockHz)].joined(separator: " · ")
    }

    /// Where things go on a canvas.
    public struct Layout: Sendable {
        /// The raster area: `bins` pixels wide, `rows` rows of equal height.
        public let plot: Rect
        public let rows: Int
        public let bins: Int
        /// Cores per row.
        public let coresPerRow: Int
        /// The legend column.
        public let side: Rect
    }

    private var coreCount: Int { region.width * region.height }

    /// At most this many kernel colours (the rest are drawn as "other").
    static let maxKernels = 10

    /// The colour of category `i` (by name for activities, by position for kernels).
    public func color(ofCategory i: Int) -> RGB {
        if trace.detail == .full { return Palette.activity(categories[i]) }
        return categories[i] == ActivityGrid.otherKernels ? RGB(hex: 0x8C8C8C) : Palette.category(i)
    }

    private func legend() -> Legend {
        let names = categories
        let labels = trace.detail == .full
            ? ["compute": "compute", "send": "sending (ramp busy)", "wait": "waiting to receive"] : [:]
        var items = names.enumerated().map { LegendItem(label: labels[$0.element] ?? $0.element, symbol: .swatch(color(ofCategory: $0.offset))) }
        items.append(LegendItem(label: "idle", symbol: .swatch(Palette.idle)))
        return Legend(title: trace.detail == .full ? "Activity" : "Kernel", items: items)
    }

    private func notes(coresPerRow: Int) -> [String] {
        var n = [coresPerRow == 1 ? "One row per core." : "Each row: mean of \(NumberFormat.grouped(Double(coresPerRow))) cores"]
        if coresPerRow > 1 {
            n.append(coresPerRow % region.width == 0 ? "(\(coresPerRow / region.width) mesh row\(coresPerRow == region.width ? "" : "s"))."
                     : "(1/\(region.width / coresPerRow) of a mesh row).")
        }
        if trace.detail == .full { n += ["Overlaps drawn as", "compute > send > wait."] }
        if trace.detail == .kernel, categories.isEmpty { n += ["The trace holds no", "kernel invocations."] }
        return n
    }

    /// Lays the figure out (the same layout `draw` uses).
    public func layout(on canvas: Canvas) -> Layout {
        let t = Theme(width: canvas.width, height: canvas.height)
        let top = Header.height(title, subtitle: subtitle, on: canvas, theme: t)
        let sideWidth = max(legend().size(on: canvas, theme: t).width,
                            notes(coresPerRow: 100_000).map { canvas.textWidth($0, size: t.note) }.max() ?? 0)
        let side = Rect(x: Double(canvas.width) - t.margin - sideWidth, y: top, width: sideWidth, height: Double(canvas.height) - t.margin - top)
        let axisH = Axis.horizontalExtent(titled: true, canvas: canvas, theme: t)
        let left = Axis.verticalExtent(labels: [rowLabelSample], titled: true, canvas: canvas, theme: t)
        let plotTop = (top + axisH).rounded()
        let availH = Double(canvas.height) - t.margin - axisH - plotTop
        let x = (t.margin + left).rounded()
        let width = (side.x - 4 * t.gap - x).rounded(.down)
        let maxRows = max(1, Int(availH))
        let perRow = ActivityGrid.coresPerRow(region: region, maxRows: maxRows)
        let rows = (coreCount + perRow - 1) / perRow
        // Rows of whole pixels when they get two or more; else the raster is stretched to fill.
        let rowPx = availH / Double(rows)
        let height = rowPx >= 2 ? rowPx.rounded(.down) * Double(rows) : availH.rounded(.down)
        let plot = Rect(x: x, y: plotTop, width: max(1, width), height: max(1, height))
        return Layout(plot: plot, rows: rows, bins: max(1, Int(width)), coresPerRow: perRow, side: side)
    }

    /// The activity grid for a layout: one bin per pixel column, one row per layout row.
    public func grid(for l: Layout) throws -> ActivityGrid {
        try ActivityGrid(trace: trace, region: region, window: window, maxRows: l.rows, bins: l.bins, maxKernels: Self.maxKernels)
    }

    /// The widest row label this figure may draw, for reserving room.
    private var rowLabelSample: String {
        coreCount <= 64 ? "(\(region.x1),\(region.y1))" : region.height > 1 ? "y = \(region.y1)" : "x = \(region.x1)"
    }

    /// Row ticks: at core rows ("(x,y)") for small regions, else at mesh rows ("y = k").
    private func rowTicks(_ l: Layout, canvas: Canvas, theme t: Theme) -> (Scale, [Double], [String]) {
        let total = Double(l.rows * l.coresPerRow)
        let scale = Scale(lo: 0, hi: total, start: l.plot.y, end: l.plot.maxY)
        let m = canvas.fontMetrics(size: t.tick)
        let slots = max(2, Int(l.plot.height / (m.ascent + m.descent + t.gap * 0.5)))
        if coreCount <= 64 {
            let every = max(1, Int((Double(coreCount) / Double(slots)).rounded(.up)))
            let idx = Array(stride(from: 0, to: coreCount, by: every))
            return (scale, idx.map { Double($0) + 0.5 }, idx.map { "(\(region.x0 + $0 % region.width),\(region.y0 + $0 / region.width))" })
        }
        let along = region.height > 1
        let lo = along ? region.y0 : region.x0, hi = along ? region.y1 : region.x1
        let values = Ticks.linear(Double(lo), Double(hi), maxCount: slots).filter { $0 == $0.rounded() }
        let pos = values.map { v -> Double in
            along ? (v - Double(region.y0) + 0.5) * Double(region.width) : v - Double(region.x0) + 0.5
        }
        return (scale, pos, values.map { (along ? "y = " : "x = ") + String(Int($0)) })
    }

    public func draw(on canvas: Canvas) throws {
        let t = Theme(width: canvas.width, height: canvas.height)
        let l = layout(on: canvas)
        Header.draw(title, subtitle: subtitle, on: canvas, theme: t)
        let grid = try grid(for: l)
        let colors = grid.categories.indices.map { color(ofCategory: $0) }
        var pixels = [UInt32](repeating: 0, count: grid.rows * grid.bins)
        for r in 0..<grid.rows {
            for b in 0..<grid.bins {
                var c = RGB(0, 0, 0), left = 1.0
                for k in colors.indices {
                    let s = Double(grid.share(k, row: r, bin: b))
                    if s > 0 { c.r += colors[k].r * s; c.g += colors[k].g * s; c.b += colors[k].b * s; left -= s }
                }
                left = max(0, left)
                c.r += Palette.idle.r * left; c.g += Palette.idle.g * left; c.b += Palette.idle.b * left
                pixels[r * grid.bins + b] = c.argb32
            }
        }
        canvas.image(pixels, columns: grid.bins, rows: grid.rows, in: l.plot)
        drawSeparators(l, theme: t, on: canvas)
        canvas.strokeRect(l.plot, Palette.ink, width: t.lineWidth * 0.8)

        // Axes: cycles below, µs above, cores on the left.
        let cycles = Scale(lo: Double(window.start), hi: Double(window.end), start: l.plot.x, end: l.plot.maxX)
        let (ct, cl) = Axis.linearTicks(cycles, horizontal: true, canvas: canvas, theme: t)
        Axis(scale: cycles, side: .bottom, position: l.plot.maxY, ticks: ct, labels: cl, title: "time (cycles)")
            .draw(on: canvas, theme: t, span: (l.plot.x, l.plot.maxX))
        let us = 1e6 / trace.spec.clockHz
        let micro = Scale(lo: Double(window.start) * us, hi: Double(window.end) * us, start: l.plot.x, end: l.plot.maxX)
        let (mt, ml) = Axis.linearTicks(micro, horizontal: true, canvas: canvas, theme: t)
        Axis(scale: micro, side: .top, position: l.plot.y, ticks: mt, labels: ml, title: "time (µs at \(NumberFormat.frequency(trace.spec.clockHz)))")
            .draw(on: canvas, theme: t, span: (l.plot.x, l.plot.maxX))
        let (rs, rt, rl) = rowTicks(l, canvas: canvas, theme: t)
        Axis(scale: rs, side: .left, position: l.plot.x, ticks: rt, labels: rl, title: "cores in (y, x) order")
            .draw(on: canvas, theme: t, span: (l.plot.y, l.plot.maxY))

        let box = legend().draw(on: canvas, theme: t, at: Point(l.side.x, l.side.y), maxWidth: l.side.width)
        var y = box.maxY + 2 * t.gap
        for line in notes(coresPerRow: grid.coresPerRow) {
            canvas.text(line, at: Point(l.side.x, y), size: t.note, color: Palette.muted, v: .top)
            y += t.note * 1.35
        }
    }

    /// Thin white lines between core rows, and grey ones between mesh rows, when rows are tall enough.
    private func drawSeparators(_ l: Layout, theme t: Theme, on canvas: Canvas) {
        let rowPx = l.plot.height / Double(l.rows)
        if l.coresPerRow == 1, rowPx >= 6 {
            for r in 1..<max(1, l.rows) where r % region.width != 0 {
                let y = l.plot.y + Double(r) * rowPx
                canvas.line(Point(l.plot.x, y), Point(l.plot.maxX, y), .white, width: 1)
            }
        }
        let meshRowPx = rowPx * Double(region.width) / Double(l.coresPerRow)
        if region.height > 1, meshRowPx >= 6 {
            for yy in 1..<region.height {
                let y = l.plot.y + Double(yy) * meshRowPx
                canvas.line(Point(l.plot.x, y), Point(l.plot.maxX, y), Palette.muted, width: 1)
            }
        }
    }
}
