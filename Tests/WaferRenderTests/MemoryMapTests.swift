import Foundation
import WaferAnalysis
import WaferMesh
import WaferRender
import WaferSpec
import WaferTrace
import XCTest

final class MemoryMapTests: XCTestCase {
    /// Core c of the tiny mesh (4 KB budget) allocates 600 × (c mod 9) bytes: cores with c mod 9
    /// ≥ 7 are over budget.
    private func trace() throws -> Trace {
        try TestTraces.script(.tiny, policy: .record) { e in
            let l = e.label("buf")
            var ops: [Int: [MeshOp]] = [:]
            for c in 0..<64 { ops[c] = [.alloc(label: l, bytes: 600 * (c % 9))] }
            return ops
        }
    }

    func testMemoryUseAndViolations() throws {
        let t = try trace()
        let use = MemoryUse(trace: t)
        XCTAssertEqual(use.budgetBytes, 4096)
        XCTAssertEqual(use.maxPeakBytes, 4800)
        XCTAssertEqual(use.overBudgetCores, (0..<64).filter { $0 % 9 >= 7 })
        XCTAssertEqual(use.recordedViolations, use.overBudgetCores.count)
        let blocks = use.blocks(blockSize: 2, aggregate: .max)
        XCTAssertEqual(blocks.columns, 4)
        XCTAssertEqual(blocks.value(column: 0, row: 0), Double(600 * 8), "core (0,1) = 8")
        XCTAssertTrue(blocks.isFlagged(column: 0, row: 0))
    }

    func testOverBudgetCoresAreOutlinedInRed() throws {
        let t = try trace()
        let map = MemoryMap(trace: t)
        XCTAssertTrue(map.subtitle.contains("\(MemoryUse(trace: t).overBudgetCores.count) cores over budget"))
        let canvas = try map.rasterize()
        let mesh = map.layout(on: canvas).mesh
        let g = t.geometry
        func at(_ c: Int, dx: Double, dy: Double) throws -> RGB {
            let r = mesh.cellRect(column: g.x(of: c), row: g.y(of: c))
            return try XCTUnwrap(canvas.pixel(x: Int(r.x + dx * r.width), y: Int(r.y + dy * r.height)))
        }
        let over = 7, under = 3
        XCTAssertLessThan(try at(over, dx: 0.5, dy: 0.02).distance2(Palette.alarm), 0.01, "red outline")
        XCTAssertGreaterThan(try at(under, dx: 0.5, dy: 0.02).distance2(Palette.alarm), 0.1, "no outline")
        let centre = try at(under, dx: 0.5, dy: 0.5)
        XCTAssertEqual(map.colorMap.position(of: centre), 1800.0 / map.scaleMaxBytes, accuracy: 0.02, "colour is peak / scale top")
        XCTAssertNotNil(SVGInspector.parse(try map.render(format: .svg)))
    }

    func testWholeWaferIsAggregated() throws {
        var t = try TraceRecorder(spec: .wse2, detail: .summary).finish()
        t.coreTotals.peakSramBytes[t.geometry.core(x: 700, y: 900)] = 60_000
        let map = MemoryMap(trace: t, aggregate: .max)
        let canvas = try map.rasterize(width: 1200, height: 800)
        let mesh = map.layout(on: canvas).mesh
        XCTAssertGreaterThan(mesh.blockSize, 1)
        let (c, r) = mesh.cell(x: 700, y: 900)
        let rect = mesh.cellRect(column: c, row: r)
        XCTAssertLessThan(try XCTUnwrap(canvas.pixel(x: Int(rect.midX), y: Int(rect.midY))).distance2(Palette.alarm), 0.01,
                          "a block with a core over budget is marked even when cells are too small to outline")
    }
}
