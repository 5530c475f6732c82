import Foundation
import WaferAnalysis
import WaferMesh
import WaferRender
import WaferSpec
import WaferTrace
import XCTest

/// The `render` and `plot` commands' work, through the library calls they make.
final class FigureJobTests: XCTestCase {
    private var dir = ""
    private var tracePath = ""
    private var csvPath = ""

    override func setUpWithError() throws {
        dir = try TestTraces.scratch(name)
        tracePath = dir + "/hotspot.wtrace"
        let rec = try TraceRecorder(spec: .tiny, detail: .full, path: tracePath, metadata: ["workload": "comm", "pattern": "hotspot"])
        let e = try MeshEngine(spec: .tiny, recorder: rec)
        try e.run(try CommProgram(pattern: .hotspot, bytes: 64, engine: e))
        e.finishRecording()
        try rec.finish()
        csvPath = dir + "/sweep.csv"
        try SampleSweep.csv.write(toFile: csvPath, atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private let small = FigureOptions(width: 800, height: 500)

    func testEveryKindWritesPNGAndSVG() throws {
        for kind in TraceFigureKind.allCases {
            for ext in ["png", "svg"] {
                let out = "\(dir)/\(kind.rawValue).\(ext)"
                try FigureJob.renderTrace(at: tracePath, kind: kind.rawValue, output: out, options: small)
                try check(out, ext: ext)
            }
        }
        for kind in SweepFigureKind.allCases {
            for ext in ["png", "svg"] {
                let out = "\(dir)/\(kind.rawValue).\(ext)"
                try FigureJob.plotSweep(at: csvPath, kind: kind.rawValue, output: out, options: small)
                try check(out, ext: ext)
            }
        }
    }

    private func check(_ path: String, ext: String) throws {
        let data = try XCTUnwrap(FileManager.default.contents(atPath: path), path)
        if ext == "png" {
            XCTAssertEqual(Array(data.prefix(4)), [0x89, 0x50, 0x4E, 0x47], path)
        } else {
            let svg = try XCTUnwrap(SVGInspector.parse(data), "\(path) is well-formed XML")
            XCTAssertEqual(svg.rootName, "svg")
            XCTAssertGreaterThan(svg.paths.count + (svg.counts["image"] ?? 0), 5, path)
        }
    }

    func testFiguresAreNotBlank() throws {
        let trace = try Trace.read(path: tracePath)
        let table = try SweepTable.read(path: csvPath)
        var figures: [any Figure] = try TraceFigureKind.allCases.map { try FigureJob.figure(for: trace, kind: $0, options: FigureOptions()) }
        figures += try SweepFigureKind.allCases.map { try FigureJob.figure(for: table, kind: $0, options: FigureOptions()) }
        for f in figures {
            let c = try f.rasterize(width: 400, height: 250)
            var inked = 0, colours = Set<UInt32>()
            for y in stride(from: 0, to: 250, by: 2) {
                for x in stride(from: 0, to: 400, by: 2) {
                    let p = c.pixel(x: x, y: y)!
                    if p != .white { inked += 1 }
                    colours.insert(p.argb32)
                }
            }
            XCTAssertGreaterThan(inked, 2_000, "\(type(of: f)) draws something")
            XCTAssertGreaterThan(colours.count, 8, "\(type(of: f)) has more than text colours")
        }
    }

    func testTitleCanBeReplaced() throws {
        let f = try FigureJob.figure(for: try Trace.read(path: tracePath), kind: .congestion, options: FigureOptions(title: "Figure 3"))
        XCTAssertEqual(f.title, "Figure 3")
    }

    /// One-line error descriptions, as the commands print them after `error: `.
    private func message(_ body: () throws -> Void) -> String {
        do { try body() } catch { return "\(error)" }
        XCTFail("expected an error")
        return ""
    }

    func testBadInputsAreOneLineErrors() throws {
        let png = dir + "/out.png"
        let cases: [(String, () throws -> Void)] = [
            ("does not exist", { try FigureJob.renderTrace(at: self.dir + "/missing.wtrace", kind: "timeline", output: png, options: self.small) }),
            ("unknown kind 'gantt' (known: timeline, congestion, congestion-frames, memory)",
             { try FigureJob.renderTrace(at: self.tracePath, kind: "gantt", output: png, options: self.small) }),
            ("must end in .png or .svg", { try FigureJob.renderTrace(at: self.tracePath, kind: "timeline", output: self.dir + "/out.jpg", options: self.small) }),
            ("directory '\(dir)/nope' does not exist",
             { try FigureJob.renderTrace(at: self.tracePath, kind: "memory", output: self.dir + "/nope/out.png", options: self.small) }),
            ("it is a directory", {
                try FileManager.default.createDirectory(atPath: self.dir + "/dir.png", withIntermediateDirectories: true)
                try FigureJob.renderTrace(at: self.tracePath, kind: "memory", output: self.dir + "/dir.png", options: self.small)
            }),
            ("lies outside the 8x8 mesh", {
                try FigureJob.renderTrace(at: self.tracePath, kind: "timeline", output: png,
                                          options: FigureOptions(width: 800, height: 500, region: "4,4,8,8"))
            }),
            ("bad --time", {
                try FigureJob.renderTrace(at: self.tracePath, kind: "congestion", output: png, options: FigureOptions(time: "9,3"))
            }),
            ("--time does not apply to --kind memory", {
                try FigureJob.renderTrace(at: self.tracePath, kind: "memory", output: png, options: FigureOptions(time: "0,10"))
            }),
            ("not a WaferScope trace", { try FigureJob.renderTrace(at: self.csvPath, kind: "memory", output: png, options: self.small) }),
            ("lacks columns", {
                try "kernel,algo,side\nx,y,4\n".write(toFile: self.dir + "/bad.csv", atomically: true, encoding: .utf8)
                try FigureJob.plotSweep(at: self.dir + "/bad.csv", kind: "scaling", output: png, options: self.small)
            }),
            ("unknown kind 'bars'", { try FigureJob.plotSweep(at: self.csvPath, kind: "bars", output: png, options: self.small) }),
            ("sweep file", { try FigureJob.plotSweep(at: self.dir + "/none.csv", kind: "scaling", output: png, options: self.small) }),
            ("bad --aggregate 'median'", { _ = try FigureOptions.aggregate(named: "median") }),
        ]
        for (expected, body) in cases {
            let m = message(body)
            XCTAssertTrue(m.contains(expected), "'\(m)' should contain '\(expected)'")
            XCTAssertFalse(m.contains("\n"), m)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: png), "no output after a failure")
    }

    func testSummaryTraceTimelineSaysSo() throws {
        let path = dir + "/summary.wtrace"
        let rec = try TraceRecorder(spec: .tiny, detail: .summary, path: path)
        let e = try MeshEngine(spec: .tiny, recorder: rec)
        try e.run(try CommProgram(pattern: .neighbor, bytes: 64, engine: e))
        e.finishRecording()
        try rec.finish()
        let m = message { try FigureJob.renderTrace(at: path, kind: "timeline", output: self.dir + "/t.png", options: self.small) }
        XCTAssertTrue(m.contains("--detail summary"), m)
        // The maps need only totals and work on the same trace.
        try FigureJob.renderTrace(at: path, kind: "congestion", output: dir + "/c.png", options: small)
        try FigureJob.renderTrace(at: path, kind: "memory", output: dir + "/m.svg", options: small)
    }
}
