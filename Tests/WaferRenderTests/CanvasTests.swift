import Foundation
import WaferRender
import XCTest

final class CanvasTests: XCTestCase {
    func testFormatFollowsTheExtension() throws {
        XCTAssertEqual(try ImageFormat(path: "a/b.png"), .png)
        XCTAssertEqual(try ImageFormat(path: "FIG.SVG"), .svg)
        for bad in ["x.jpg", "x", "x.png.txt", "dir.png/"] where bad != "dir.png/" {
            XCTAssertThrowsError(try ImageFormat(path: bad)) { e in
                XCTAssertEqual(e as? RenderError, .badExtension(bad))
                XCTAssertFalse("\(e)".contains("\n"))
            }
        }
    }

    func testPNGPixelsReadBackAndEncode() throws {
        let c = try Canvas(width: 64, height: 32, format: .png)
        c.fillRect(Rect(x: 10, y: 5, width: 20, height: 10), RGB(hex: 0x2C7BB6))
        let p = try XCTUnwrap(c.pixel(x: 15, y: 10))
        XCTAssertLessThan(p.distance2(RGB(hex: 0x2C7BB6)), 1e-4)
        XCTAssertEqual(c.pixel(x: 1, y: 1), .white)
        XCTAssertNil(c.pixel(x: 64, y: 0))
        let data = try c.finish()
        XCTAssertEqual(Array(data.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "PNG signature")
        XCTAssertNil(c.pixel(x: 15, y: 10), "no pixels after finish")
    }

    func testSVGIsCompleteWellFormedXMLInPixels() throws {
        let c = try Canvas(width: 200, height: 100, format: .svg)
        c.fillPolygon([Point(10, 10), Point(50, 10), Point(30, 40)], RGB(1, 0, 0))
        c.text("µs → E", at: Point(50, 50), size: 12)
        c.image([0xff00ff00, 0xffff0000], columns: 2, rows: 1, in: Rect(x: 0, y: 60, width: 40, height: 20))
        let data = try c.finish()
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertTrue(text.contains("width=\"200px\""), "document unit is px")
        let svg = try XCTUnwrap(SVGInspector.parse(data), "well-formed XML")
        XCTAssertEqual(svg.rootName, "svg")
        XCTAssertEqual(svg.paths.compactMap(SVGInspector.polygon).filter { $0.count == 3 }.count, 1)
        XCTAssertEqual(svg.counts["image"], 1)
    }

    func testImageIsDrawnWithoutSmoothing() throws {
        let c = try Canvas(width: 40, height: 20, format: .png)
        c.image([RGB(1, 0, 0).argb32, RGB(0, 0, 1).argb32], columns: 2, rows: 1, in: Rect(x: 0, y: 0, width: 40, height: 20))
        XCTAssertEqual(c.pixel(x: 19, y: 10), RGB(1, 0, 0))
        XCTAssertEqual(c.pixel(x: 20, y: 10), RGB(0, 0, 1))
    }

    func testBadSizeIsAnError() {
        XCTAssertThrowsError(try Canvas(width: 0, height: 10, format: .png))
        var o = FigureOptions()
        XCTAssertThrowsError(try o.setSize("12x")) { XCTAssertTrue("\($0)".contains("--size")) }
        XCTAssertNoThrow(try o.setSize("800x500"))
        XCTAssertEqual(o.width, 800)
    }
}
