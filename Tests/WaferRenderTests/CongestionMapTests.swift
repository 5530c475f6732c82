import Foundation
import WaferAnalysis
import WaferRender
import WaferSpec
import WaferTrace
import XCTest

final class CongestionMapTests: XCTestCase {
    /// The hotspot on the 8×8 tiny mesh: every core sends to the centre (4,4) along X then Y.
    func testLinkIntoTheHotspotIsDrawnHotterThanAnIdleLink() throws {
        let trace = try TestTraces.hotspot()
        let g = trace.geometry
        let centre = g.core(x: 4, y: 4)
        let map = try CongestionMap(trace: trace)
        let hot = try XCTUnwrap(map.utilisation.hottest(1).first)
        XCTAssertEqual(g.neighbour(of: g.core(x: hot.x, y: hot.y), hot.direction), centre, "the busiest link enters the centre core")
        XCTAssertGreaterThan(hot.utilisation, 0.3)
        let idleLink = try XCTUnwrap((0..<g.linkCount).first { g.isInternal(link: $0) && map.utilisation.values[$0] == 0 })

        let canvas = try map.rasterize()
        let layout = map.layout(on: canvas)
        XCTAssertEqual(layout.mesh.blockSize, 1)
        func sample(x: Int, y: Int, _ d: Direction) throws -> RGB {
            let p = layout.mesh.linkPoint(x: x, y: y, d)
            return try XCTUnwrap(canvas.pixel(x: Int(p.x), y: Int(p.y)))
        }
        let hotPixel = try sample(x: hot.x, y: hot.y, hot.direction)
        let idleCore = g.source(ofLink: idleLink)
        let idlePixel = try sample(x: g.x(of: idleCore), y: g.y(of: idleCore), g.direction(ofLink: idleLink))
        let hotT = map.colorMap.position(of: hotPixel), idleT = map.colorMap.position(of: idlePixel)
        XCTAssertLessThan(idleT, 0.05, "an idle link is drawn at the cold end")
        XCTAssertGreaterThan(hotT, idleT + 0.5, "the congested link is drawn near the hot end")
        XCTAssertEqual(hotT, hot.utilisation / map.scaleMax, accuracy: 0.05, "colour encodes utilisation / scale max")
    }

    func testSVGHasOneTrianglePerLinkInsideTheMesh() throws {
        let trace = try TestTraces.hotspot()
        let map = try CongestionMap(trace: trace)
        let bounds = map.layout(on: try Canvas(width: 1600, height: 1000, format: .svg)).mesh.bounds
        let svg = try XCTUnwrap(SVGInspector.parse(try map.render(format: .svg)))
        // Every directed link between two cores is one filled triangle inside the mesh area
        // (the key beside the map has triangles too, outside it).
        let triangles = svg.paths.compactMap(SVGInspector.polygon).filter { pts in
            pts.count == 3 && pts.allSatisfy { $0.0 >= bounds.x - 0.01 && $0.0 <= bounds.maxX + 0.01 && $0.1 >= bounds.y - 0.01 && $0.1 <= bounds.maxY + 0.01 }
        }
        let g = trace.geometry
        let links = (0..<g.linkCount).filter { g.isInternal(link: $0) }.count
        XCTAssertEqual(links, 2 * 7 * 8 * 2)
        XCTAssertEqual(triangles.count, links)
    }

    func testLargeMeshIsDrawnInBlocksWithTheHotspotStillHot() throws {
        // A synthetic summary trace of a wse2 quarter (378×498 cores): one hot link at (200,100)→E.
        var trace = try TraceRecorder(spec: try MeshSpec.wse2.subgrid(width: 378, height: 498), detail: .summary).finish()
        trace.summary.makespanCycles = 1000
        let g = trace.geometry
        let hot = g.link(from: g.core(x: 200, y: 100), .east)
        trace.linkTotals.busyCycles[hot] = 970
        trace.linkTotals.busyCycles[g.link(from: g.core(x: 10, y: 10), .south)] = 100
        for agg in BlockAggregate.allCases {
            let map = try CongestionMap(trace: trace, aggregate: agg)
            let canvas = try map.rasterize(width: 1200, height: 800)
            let mesh = map.layout(on: canvas).mesh
            XCTAssertGreaterThan(mesh.blockSize, 1, "cores are grouped when a link would get under ~3 px")
            XCTAssertGreaterThanOrEqual(mesh.cell, 8)
            let p = mesh.linkPoint(x: 200, y: 100, .east)
            let t = map.colorMap.position(of: try XCTUnwrap(canvas.pixel(x: Int(p.x), y: Int(p.y))))
            if agg == .max {
                XCTAssertEqual(t, 0.97 / map.scaleMax, accuracy: 0.05, "max keeps the hot link's value")
            } else {
                XCTAssertLessThan(t, 0.97 / map.scaleMax / Double(mesh.blockSize * mesh.blockSize) * 1.5, "mean dilutes it over the block")
            }
        }
        XCTAssertEqual(try CongestionMap(trace: trace).utilisation.hottest(1).first?.description, "(200,100)→E 97%")
    }

    func testTimeWindowNeedsLinkWindows() throws {
        let summary = try TestTraces.hotspot(detail: .summary)
        XCTAssertThrowsError(try CongestionMap(trace: summary, window: CycleWindow(start: 0, end: 100))) {
            XCTAssertEqual($0 as? AnalysisError, .noLinkWindows)
        }
        let full = try TestTraces.hotspot()
        let early = try CongestionMap(trace: full, window: CycleWindow(start: 0, end: 64))
        XCTAssertEqual(early.utilisation.window, CycleWindow(start: 0, end: 64))
        XCTAssertThrowsError(try CongestionMap(trace: full, window: CycleWindow(start: 1_000_000, end: 1_000_100))) {
            XCTAssertTrue("\($0)".contains("outside the run"))
        }
    }

    func testFramesShareOneScaleAndCoverTheRun() throws {
        let trace = try TestTraces.pattern(.transpose, .tiny, detail: .kernel)
        let frames = try CongestionFrames(trace: trace, panels: 4)
        XCTAssertLessThanOrEqual(frames.frames.count, 4)
        XCTAssertEqual(frames.frames.first?.window.start, 0)
        for (a, b) in zip(frames.frames, frames.frames.dropFirst()) { XCTAssertEqual(a.window.end, b.window.start) }
        XCTAssertGreaterThanOrEqual(frames.scaleMax, frames.peak)
        let canvas = try frames.rasterize(width: 1000, height: 700)
        let l = frames.layout(on: canvas)
        XCTAssertEqual(l.panels.count, frames.frames.count)
        for (a, b) in zip(l.panels, l.panels.dropFirst()) {
            XCTAssertFalse(a.bounds.x < b.bounds.maxX && b.bounds.x < a.bounds.maxX && a.bounds.y < b.bounds.maxY && b.bounds.y < a.bounds.maxY,
                           "panels do not overlap")
        }
        XCTAssertNotNil(SVGInspector.parse(try frames.render(format: .svg, width: 1000, height: 700)))
    }
}
