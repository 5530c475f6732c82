import XCTest
@testable import WaferModel

/// Half-precision conversion and the block dequantisers, on exactly known values.
final class GGUFQuantizationTests: XCTestCase {
    func testHalfToFloatKnownValues() {
        XCTAssertEqual(GGUFQuantization.halfToFloat(0x3C00), 1)
        XCTAssertEqual(GGUFQuantization.halfToFloat(0xC000), -2)
        XCTAssertEqual(GGUFQuantization.halfToFloat(0x7BFF), 65504)
        XCTAssertEqual(GGUFQuantization.halfToFloat(0x0400), 0x1p-14)
        XCTAssertEqual(GGUFQuantization.halfToFloat(0x03FF), 1023 * 0x1p-24)
        XCTAssertEqual(GGUFQuantization.halfToFloat(0x8001), -0x1p-24)
        XCTAssertEqual(GGUFQuantization.halfToFloat(0x7C00), .infinity)
        XCTAssertEqual(GGUFQuantization.halfToFloat(0xFC00), -.infinity)
        XCTAssertTrue(GGUFQuantization.halfToFloat(0x7E00).isNaN)
        XCTAssertEqual(GGUFQuantization.halfToFloat(0x8000).sign, .minus)
    }

    func testHalfRoundTripsAllPatterns() {
        for bits in 0 ... UInt16.max {
            let f = GGUFQuantization.halfToFloat(bits)
            if f.isNaN { continue }
            XCTAssertEqual(GGUFQuantization.floatToHalf(f), bits, "pattern \(bits)")
        }
    }

    func testFloatToHalfRoundsToNearestEven() {
        XCTAssertEqual(GGUFQuantization.floatToHalf(1 + 0x1p-11), 0x3C00)       // tie, even stays
        XCTAssertEqual(GGUFQuantization.floatToHalf(1 + 3 * 0x1p-11), 0x3C02)   // tie, odd rounds up
        XCTAssertEqual(GGUFQuantization.floatToHalf(1 + 0x1p-11 + 0x1p-20), 0x3C01)
        XCTAssertEqual(GGUFQuantization.floatToHalf(65519), 0x7BFF)
        XCTAssertEqual(GGUFQuantization.floatToHalf(65520), 0x7C00)             // rounds to infinity
        XCTAssertEqual(GGUFQuantization.floatToHalf(0x1p-25), 0x0000)           // tie with zero
        XCTAssertEqual(GGUFQuantization.floatToHalf(0x1p-25 * 1.5), 0x0001)
        XCTAssertEqual(GGUFQuantization.floatToHalf(3 * 0x1p-25), 0x0002)       // tie between 1 and 2 ulps
        XCTAssertEqual(GGUFQuantization.floatToHalf(-0.0), 0x8000)
        XCTAssertEqual(GGUFQuantization.floatToHalf(1e-10), 0x0000)
        XCTAssertEqual(GGUFQuantization.floatToHalf(.nan) & 0x7E00, 0x7E00)
    }

    #if !(os(macOS) && arch(x86_64))
    func testAgreesWithSwiftFloat16() {
        for bits in 0 ... UInt16.max {
            let mine = GGUFQuantization.halfToFloat(bits)
            let swift = Float(Float16(bitPattern: bits))
            XCTAssertTrue(mine == swift || (mine.isNaN && swift.isNaN), "pattern \(bits)")
        }
        var rng = SplitMix64(seed: 3)
        for _ in 0 ..< 20000 {
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
            if f.isNaN { continue }
            XCTAssertEqual(GGUFQuantization.floatToHalf(f), Float16(f).bitPattern, "value \(f)")
        }
    }
    #endif

    func testQ8_0Block() throws {
        let q: [Int8] = (0 ..< 32).map { Int8($0 * 8 - 128) }
        let bytes = GGUFTestWriter.q8_0Block(scaleBits: 0x2E66, q)   // d ≈ 0.1 in half precision
        let d = GGUFQuantization.halfToFloat(0x2E66)
        XCTAssertEqual(try GGUFQuantization.dequantize(bytes, type: .q8_0, count: 32), q.map { d * Float($0) })
    }

    func testQ4_1NibbleOrder() throws {
        // Element j comes from byte j's low nibble, element j+16 from its high nibble.
        var bytes = GGUFTestWriter.q4_1Block(dBits: 0x3C00, mBits: 0x0000, [UInt8](repeating: 0, count: 32))
        bytes[4 + 3] = 0xA5   // element 3 = 5, element 19 = 10
        let values = try GGUFQuantization.dequantize(bytes, type: .q4_1, count: 32)
        var expected = [Float](repeating: 0, count: 32)
        expected[3] = 5
        expected[19] = 10
        XCTAssertEqual(values, expected)
    }

    func testQ4_1ScaleAndMinimum() throws {
        let q: [UInt8] = (0 ..< 32).map { UInt8(($0 * 7) % 16) }
        let bytes = GGUFTestWriter.q4_1Block(dBits: 0x3E00, mBits: 0xC100, q)   // d = 1.5, m = -2.5
        XCTAssertEqual(try GGUFQuantization.dequantize(bytes, type: .q4_1, count: 32), q.map { Float($0) * 1.5 - 2.5 })
    }

    func testF16AndF32Buffers() throws {
        var bytes: [UInt8] = []
        for h: UInt16 in [0x3C00, 0xB800, 0x4900] { GGUFTestWriter.append(&bytes, h) }
        XCTAssertEqual(try GGUFQuantization.dequantize(bytes, type: .f16, count: 3), [1, -0.5, 10])
        bytes = []
        for f: Float in [3.25, -7] { GGUFTestWriter.append(&bytes, f.bitPattern) }
        XCTAssertEqual(try GGUFQuantization.dequantize(bytes, type: .f32, count: 2), [3.25, -7])
        XCTAssertEqual(try GGUFQuantization.dequantize([], type: .f32, count: 0), [])
    }

    func testDequantiseRejectsBadInput() {
        XCTAssertThrowsError(try GGUFQuantization.dequantize([UInt8](repeating: 0, count: 34), type: .q8_0, count: 16, name: "x")) {
            guard case .invalidValue? = $0 as? GGUFError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try GGUFQuantization.dequantize([UInt8](repeating: 0, count: 33), type: .q8_0, count: 32, name: "x")) {
            guard case .truncated? = $0 as? GGUFError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try GGUFQuantization.dequantize([UInt8](repeating: 0, count: 210), type: .q6_K, count: 256, name: "x")) {
            XCTAssertEqual($0 as? GGUFError, .unsupportedTensorType(tensor: "x", type: "Q6_K"))
        }
    }

    func testBlockGeometry() {
        XCTAssertEqual(GGUFQuantization.byteCount(of: .q4_1, elements: 64), 40)
        XCTAssertEqual(GGUFQuantization.byteCount(of: .q8_0, elements: 576), 18 * 34)
        XCTAssertNil(GGUFQuantization.byteCount(of: .q4_0, elements: 31))
        XCTAssertEqual(GGMLType(rawValue: 3), .q4_1)
        XCTAssertNil(GGMLType(rawValue: 4))
        XCTAssertEqual(GGMLType.allCases.filter(\.isDequantizable).map(\.description).sorted(),
                       ["BF16", "F16", "F32", "Q4_0", "Q4_1", "Q8_0"])
    }
}
