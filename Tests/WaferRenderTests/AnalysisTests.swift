import Foundation
import WaferAnalysis
import WaferRender
import WaferSpec
import WaferTrace
import XCTest

final class AnalysisTests: XCTestCase {
    func testLinkBlocksMeanAndMax() {
        let g = MeshGeometry(width: 4, height: 4)
        var v = [Double](repeating: 0, count: g.linkCount)
        v[g.link(from: g.core(x: 0, y: 0), .east)] = 0.8
        v[g.link(from: g.core(x: 1, y: 1), .east)] = 0.4
        let u = LinkUtilisation(geometry: g, window: CycleWindow(start: 0, end: 10), values: v)
        let mx = LinkBlocks(u, blockSize: 2, aggregate: .max)
        let mean = LinkBlocks(u, blockSize: 2, aggregate: .mean)
        XCTAssertEqual(mx.columns, 2)
        XCTAssertEqual(mx.value(column: 0, row: 0, .east), 0.8)
        XCTAssertEqual(mean.value(column: 0, row: 0, .east)!, 0.3, accuracy: 1e-12, "(0.8 + 0 + 0 + 0.4) / 4")
        XCTAssertEqual(mean.value(column: 1, row: 0, .west), 0)
        let single = LinkBlocks(u, blockSize: 1, aggregate: .mean)
        XCTAssertNil(single.value(column: 3, row: 0, .east), "no link off the mesh edge")
        XCTAssertEqual(single.value(column: 0, row: 0, .east), 0.8)
    }

    func testHottestLinksAndTheirNames() {
        let g = MeshGeometry(width: 8, height: 8)
        var v = [Double](repeating: 0, count: g.linkCount)
        v[g.link(from: g.core(x: 3, y: 4), .east)] = 0.97
        v[g.link(from: g.core(x: 1, y: 1), .south)] = 0.5
        v[g.link(from: g.core(x: 6, y: 6), .north)] = 0.5
        let u = LinkUtilisation(geometry: g, window: CycleWindow(start: 0, end: 1), values: v)
        XCTAssertEqual(u.hottest(2).map(\.description), ["(3,4)→E 97%", "(1,1)→S 50%"])
        XCTAssertEqual(u.hottest(5).count, 3, "idle links are not listed")
        XCTAssertEqual(u.hottest(5, in: CoreRegion(x0: 5, y0: 5, x1: 7, y1: 7)).map(\.description), ["(6,6)→N 50%"])
    }

    func testWindowedUtilisationAgreesWithTotals() throws {
        let trace = try TestTraces.hotspot()
        let lw = try XCTUnwrap(trace.linkWindows)
        let end = Int(Int64(lw.frames.count) * lw.windowCycles)
        let whole = try LinkUtilisation(trace: trace, window: CycleWindow(start: 0, end: end))
        for l in 0..<trace.geometry.linkCount {
            XCTAssertEqual(whole.values[l] * Double(whole.window.end), Double(trace.linkTotals.busyCycles[l]), accuracy: 1e-6)
        }
        let frames = try LinkUtilisation.frames(of: trace, panels: 3)
        XCTAssertLessThanOrEqual(frames.count, 3)
        let summed = frames.reduce(0.0) { $0 + $1.values.reduce(0, +) * Double($1.window.end - $1.window.start) }
        XCTAssertEqual(summed, Double(trace.linkTotals.busyCycles.reduce(0, +)), accuracy: 1e-6)
    }

    func testActivityGridSharesAndBins() throws {
        // Core (0,0) computes for 100 cycles then nothing; core (1,0) for 300.
        let trace = try TestTraces.script(.tiny) { e in
            let w = e.label("w")
            return [0: [.compute(macs: 100, label: w, work: -1)], 1: [.compute(macs: 300, label: w, work: -1)]]
        }
        let grid = try ActivityGrid(trace: trace, region: CoreRegion(x0: 0, y0: 0, x1: 1, y1: 0), maxRows: 10, bins: 6)
        XCTAssertEqual(grid.rows, 2)
        XCTAssertEqual(grid.binCycles, 50)
        XCTAssertEqual(grid.share(0, row: 0, bin: 0), 1)
        XCTAssertEqual(grid.share(0, row: 0, bin: 2), 0)
        XCTAssertEqual(grid.idle(row: 0, bin: 2), 1)
        XCTAssertEqual((0..<6).map { grid.share(0, row: 1, bin: $0) }, [1, 1, 1, 1, 1, 1])
        let coarse = try ActivityGrid(trace: trace, region: CoreRegion(x0: 0, y0: 0, x1: 1, y1: 0), maxRows: 1, bins: 3)
        XCTAssertEqual(coarse.coresPerRow, 2)
        XCTAssertEqual(coarse.share(0, row: 0, bin: 0), 1)
        XCTAssertEqual(coarse.share(0, row: 0, bin: 1), 0.5, "only core (1,0) computes in [100, 200)")
        let half = try ActivityGrid(trace: trace, window: CycleWindow(start: 50, end: 150), maxRows: 64, bins: 4)
        XCTAssertEqual(half.share(0, row: 0, bin: 1), 1)
        XCTAssertEqual(half.share(0, row: 0, bin: 2), 0)
        XCTAssertEqual(half.bin(cycle: 60), 0)
        XCTAssertNil(half.bin(cycle: 150))
    }

    func testSweepCSVParsing() throws {
        let table = try SweepTable.parse(SampleSweep.csv)
        XCTAssertEqual(table.rows.count, 15)
        XCTAssertEqual(table.algorithms, ["cannon", "summa", "ring"])
        XCTAssertNil(table.rows.last?.predictedCycles)
        let reordered = try SweepTable.parse("measured_cycles,side,kernel,algo,m,k,n,predicted_cycles,extra\n110,4,\"gemm, fp16\",a,1,2,3,100,x\n")
        XCTAssertEqual(reordered.rows[0].kernel, "gemm, fp16")
        XCTAssertEqual(reordered.rows[0].side, 4)
        XCTAssertEqual(reordered.mape!, 100.0 / 11, accuracy: 1e-9)
        XCTAssertEqual(meanAbsolutePercentageError(predicted: [90, 110], measured: [100, 100])!, 10, accuracy: 1e-12)

        XCTAssertThrowsError(try SweepTable.parse("kernel,algo,side,m\ng,a,4,1\n")) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("lacks columns k, n, predicted_cycles, measured_cycles"), text)
            XCTAssertFalse(text.contains("\n"))
        }
        XCTAssertThrowsError(try SweepTable.parse("kernel,algo,side,m,k,n,predicted_cycles,measured_cycles\ng,a,four,1,1,1,,5\n")) {
            XCTAssertTrue("\($0)".contains("line 2: side 'four' is not an integer"), "\($0)")
        }
        XCTAssertThrowsError(try SweepTable.parse(""))
        XCTAssertThrowsError(try SweepTable.parse("kernel,algo,side,m,k,n,predicted_cycles,measured_cycles\n"))
    }

    func testTicks() {
        XCTAssertEqual(Ticks.linear(0, 1000, maxCount: 6), [0, 200, 400, 600, 800, 1000])
        XCTAssertEqual(Ticks.linear(0, 4.03, maxCount: 10), [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4])
        XCTAssertEqual(Ticks.linear(3, 97, maxCount: 5), [20, 40, 60, 80])
        XCTAssertEqual(Ticks.log(3, 5000, maxCount: 10).major, [10, 100, 1000])
        XCTAssertEqual(Ticks.log(3, 70, maxCount: 10).major, [5, 10, 20, 50])
        XCTAssertEqual(Ticks.log(1, 1e9, maxCount: 4).major, [1, 1e3, 1e6, 1e9])
        XCTAssertEqual(Ticks.niceCeil(0.51), 0.6)
        XCTAssertEqual(Ticks.niceCeil(0.97), 1)
        XCTAssertEqual(NumberFormat.tick(12345, step: 5000), "12,345")
        XCTAssertEqual(NumberFormat.tick(0.5, step: 0.5), "0.5")
        XCTAssertEqual(NumberFormat.si(15000), "15k")
        XCTAssertEqual(NumberFormat.si(1_200_000), "1.2M")
    }

    func testColorMapsAreOrderedAndInterpolated() {
        for map in [ColorMap.viridis, ColorMap.magma] {
            XCTAssertGreaterThanOrEqual(map.points.count, 16)
            XCTAssertEqual(map.color(0), map.low)
            XCTAssertEqual(map.color(1), map.high)
            XCTAssertEqual(map.position(of: map.color(0.3)), 0.3, accuracy: 0.01)
            // Perceptually ordered: lightness (approximated by luma) rises monotonically.
            let luma = (0...20).map { i -> Double in let c = map.color(Double(i) / 20); return 0.299 * c.r + 0.587 * c.g + 0.114 * c.b }
            XCTAssertEqual(luma, luma.sorted(), map.name)
        }
    }
}

extension AnalysisTests {
    func testTicksIncludeRangeEndsDespiteRounding() {
        XCTAssertEqual(Ticks.linear(0, 0.6, maxCount: 7).last, 0.6)
        XCTAssertEqual(Ticks.linear(0, 0.3, maxCount: 4), [0, 0.1, 0.2, 0.3])
    }
}
