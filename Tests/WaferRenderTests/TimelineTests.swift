import Foundation
import WaferAnalysis
import WaferMesh
import WaferRender
import WaferSpec
import WaferTrace
import XCTest

final class TimelineTests: XCTestCase {
    /// Core (2,3) computes for cycles [0, 400); core (5,5) for [0, 1000) (tiny: 1 MAC/cycle, no overhead).
    private func computeTrace(detail: TraceDetail = .full) throws -> Trace {
        try TestTraces.script(.tiny, detail: detail) { e in
            let work = e.label("work")
            let a = e.invocation(name: "gemm", params: [:]), b = e.invocation(name: "softmax", params: [:])
            return [
                core(2, 3): [.begin(invocation: a), .compute(macs: 400, label: work, work: -1), .end(invocation: a)],
                core(5, 5): [.begin(invocation: b), .compute(macs: 1000, label: work, work: -1), .end(invocation: b)],
            ]
        }
    }

    private func core(_ x: Int, _ y: Int) -> Int { MeshGeometry(MeshSpec.tiny).core(x: x, y: y) }

    private func pixel(_ canvas: Canvas, _ l: Timeline.Layout, grid: ActivityGrid, x: Int, y: Int, cycle: Int) throws -> RGB {
        let row = try XCTUnwrap(grid.row(x: x, y: y))
        let px = l.plot.x + (Double(cycle - grid.window.start) + 0.5) / Double(grid.window.end - grid.window.start) * l.plot.width
        let py = l.plot.y + (Double(row) + 0.5) * l.plot.height / Double(l.rows)
        return try XCTUnwrap(canvas.pixel(x: Int(px), y: Int(py)))
    }

    func testComputeSpanIsDrawnAtItsRowAndTime() throws {
        let trace = try computeTrace()
        XCTAssertEqual(trace.summary.makespanCycles, 1000)
        let timeline = try Timeline(trace: trace)
        let canvas = try timeline.rasterize()
        let l = timeline.layout(on: canvas)
        let grid = try timeline.grid(for: l)
        XCTAssertEqual(grid.coresPerRow, 1, "64 cores get a row each")
        XCTAssertEqual(grid.categories, ActivityGrid.activityCategories)
        let compute = Palette.compute, idle = Palette.idle
        XCTAssertLessThan(try pixel(canvas, l, grid: grid, x: 2, y: 3, cycle: 200).distance2(compute), 1e-3)
        XCTAssertLessThan(try pixel(canvas, l, grid: grid, x: 2, y: 3, cycle: 700).distance2(idle), 1e-3)
        XCTAssertLessThan(try pixel(canvas, l, grid: grid, x: 5, y: 5, cycle: 700).distance2(compute), 1e-3)
        XCTAssertLessThan(try pixel(canvas, l, grid: grid, x: 3, y: 3, cycle: 200).distance2(idle), 1e-3)
    }

    func testKernelDetailDrawsOneColourPerKernel() throws {
        let trace = try computeTrace(detail: .kernel)
        let timeline = try Timeline(trace: trace)
        let canvas = try timeline.rasterize(width: 1000, height: 700)
        let l = timeline.layout(on: canvas)
        let grid = try timeline.grid(for: l)
        XCTAssertEqual(grid.categories, ["gemm", "softmax"])
        let gemm = try pixel(canvas, l, grid: grid, x: 2, y: 3, cycle: 200)
        let softmax = try pixel(canvas, l, grid: grid, x: 5, y: 5, cycle: 200)
        XCTAssertLessThan(gemm.distance2(timeline.color(ofCategory: 0)), 1e-3)
        XCTAssertLessThan(softmax.distance2(timeline.color(ofCategory: 1)), 1e-3)
        XCTAssertGreaterThan(gemm.distance2(softmax), 0.05)
    }

    func testSummaryTraceIsAOneLineError() throws {
        let trace = try computeTrace(detail: .summary)
        XCTAssertThrowsError(try Timeline(trace: trace)) { e in
            XCTAssertEqual(e as? AnalysisError, .noSpans(.summary))
            XCTAssertTrue("\(e)".contains("summary"))
            XCTAssertFalse("\(e)".contains("\n"))
        }
    }

    func testRegionZoomsOnItsCores() throws {
        let trace = try computeTrace()
        let timeline = try Timeline(trace: trace, region: CoreRegion(x0: 2, y0: 3, x1: 5, y1: 5))
        let canvas = try timeline.rasterize(width: 900, height: 600)
        let l = timeline.layout(on: canvas)
        let grid = try timeline.grid(for: l)
        XCTAssertEqual(grid.coreCount, 12)
        XCTAssertNil(grid.row(x: 0, y: 0))
        XCTAssertLessThan(try pixel(canvas, l, grid: grid, x: 2, y: 3, cycle: 100).distance2(Palette.compute), 1e-3)
    }

    func testManyCoresShareRowsAndBlendTheirColours() throws {
        // 64×64 cores on a 500-px-high canvas: several cores per row; half of each row computes.
        let spec = MeshSpec.small
        let trace = try TestTraces.script(spec) { e in
            let w = e.label("w")
            var ops: [Int: [MeshOp]] = [:]
            for c in 0..<spec.coreCount where c % 2 == 0 { ops[c] = [.compute(macs: 4000, label: w, work: -1)] }
            return ops
        }
        let grid = try ActivityGrid(trace: trace, maxRows: 300, bins: 50)
        XCTAssertGreaterThan(grid.coresPerRow, 1)
        XCTAssertEqual(grid.share(0, row: 0, bin: 10), 0.5, accuracy: 0.02, "half the cores of a row compute")
        let timeline = try Timeline(trace: trace)
        let canvas = try timeline.rasterize(width: 800, height: 500)
        let l = timeline.layout(on: canvas)
        let g2 = try timeline.grid(for: l)
        let mid = try pixel(canvas, l, grid: g2, x: 0, y: 10, cycle: Int(trace.summary.makespanCycles / 2))
        XCTAssertLessThan(mid.distance2(Palette.compute.mixed(with: Palette.idle, 0.5)), 2e-3, "blended colour")
    }
}
