import Foundation
import XCTest
import WaferSpec

final class MeshSpecTests: XCTestCase {
    func testPresetsAreValidAndMatchTheHardware() throws {
        for name in MeshSpec.presetNames { XCTAssertNoThrow(try MeshSpec.preset(named: name).validate(), name) }
        let w = MeshSpec.wse2
        XCTAssertEqual(w.width * w.height, 757 * 996)
        XCTAssertEqual(w.sramBytesPerCore, 49_152)
        XCTAssertEqual(w.clockHz, 1.1e9)
        XCTAssertLessThan(w.hopLatencyCycles, w.relayLatencyCycles, "α < β")
        XCTAssertEqual(MeshSpec.wse3.height, 1172)
    }

    func testSubgridAndMeshParsing() throws {
        let s = try MeshSpec.resolve(preset: "wse2", specFile: nil, mesh: "64x32")
        XCTAssertEqual(s.width, 64)
        XCTAssertEqual(s.height, 32)
        XCTAssertEqual(s.name, "wse2 64x32")
        XCTAssertThrowsError(try MeshSpec.resolve(preset: "wse2", specFile: nil, mesh: "800x10")) { e in
            XCTAssertTrue("\(e)".contains("larger than the wse2 fabric (757x996)"), "\(e)")
        }
        for bad in ["0x4", "-3x4", "4", "axb", "4x4x4"] {
            XCTAssertThrowsError(try MeshSpec.parseMesh(bad), bad)
        }
        XCTAssertThrowsError(try MeshSpec.preset(named: "wse9")) { e in
            XCTAssertTrue("\(e)".contains("unknown preset 'wse9'"), "\(e)")
        }
    }

    func testSpecFileRoundTripAndValidation() throws {
        var s = MeshSpec.tiny
        s.relayLatencyCycles = 7
        XCTAssertEqual(try MeshSpec.load(json: s.jsonData()), s)
        var bad = s
        bad.width = 0
        XCTAssertThrowsError(try MeshSpec.load(json: bad.jsonData())) { e in
            XCTAssertTrue("\(e)".contains("width must be positive"), "\(e)")
        }
        bad = s
        bad.sramBytesPerCore = -5
        XCTAssertThrowsError(try MeshSpec.load(json: bad.jsonData()))
        XCTAssertThrowsError(try MeshSpec.load(json: Data("{\"name\":\"x\"}".utf8))) { e in
            XCTAssertTrue("\(e)".contains("missing field"), "\(e)")
        }
        XCTAssertThrowsError(try MeshSpec.load(json: Data("[]".utf8)))
    }

    func testGeometryNumbering() {
        let g = MeshGeometry(width: 5, height: 3)
        XCTAssertEqual(g.core(x: 4, y: 2), 14)
        XCTAssertEqual(g.x(of: 14), 4)
        XCTAssertEqual(g.y(of: 14), 2)
        XCTAssertEqual(g.neighbour(of: 14, .east), nil)
        XCTAssertEqual(g.neighbour(of: 14, .north), 9)
        XCTAssertEqual(g.link(from: 14, .south), 59)
        XCTAssertFalse(g.isInternal(link: 59))
        XCTAssertTrue(g.isInternal(link: g.link(from: 0, .east)))
        XCTAssertEqual(g.distance(0, 14), 6)
    }
}
