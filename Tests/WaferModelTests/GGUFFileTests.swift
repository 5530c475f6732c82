import Foundation
import XCTest
@testable import WaferModel

/// Parsing of small GGUF files written by `GGUFTestWriter`, and every kind of bad file.
final class GGUFFileTests: XCTestCase {
    /// A file with every metadata type and one tensor per supported encoding.
    static func sampleWriter() -> GGUFTestWriter {
        var w = GGUFTestWriter()
        w.add("general.architecture", .string("llama"))
        w.add("t.u8", .u8(200))
        w.add("t.i8", .i8(-100))
        w.add("t.u16", .u16(60000))
        w.add("t.i16", .i16(-30000))
        w.add("t.u32", .u32(4_000_000_000))
        w.add("t.i32", .i32(-2_000_000_000))
        w.add("t.f32", .f32(1.5))
        w.add("t.bool", .bool(true))
        w.add("t.string", .string("héllo ✓"))
        w.add("t.u64", .u64(1 << 40))
        w.add("t.i64", .i64(-(1 << 40)))
        w.add("t.f64", .f64(-2.25))
        w.add("t.strings", .strings(["a", "", "Ġthe", "<|im_end|>"]))
        w.add("t.ints", .int32s([3, -1, 7]))
        w.add("t.nested", .array(elementType: 9, [.array(elementType: 0, [.u8(1), .u8(2)]),
                                                  .array(elementType: 0, [])]))
        w.addF32("f32", dimensions: [4, 2], [0, 1, -2, 3.5, 1e-3, -1e6, .infinity, 42])
        let halves: [UInt16] = [0x3C00, 0xC000, 0x3800, 0x0001, 0x7BFF, 0x0000, 0x8000, 0x3555]
        var f16: [UInt8] = []
        for h in halves { GGUFTestWriter.append(&f16, h) }
        w.tensors.append(.init(name: "f16", dimensions: [8], typeID: 1, bytes: f16))
        let q8a = GGUFTestWriter.q8_0Block(scaleBits: 0x3800, (0 ..< 32).map { Int8($0 - 16) })           // d = 0.5
        let q8b = GGUFTestWriter.q8_0Block(scaleBits: 0x4000, (0 ..< 32).map { $0 % 2 == 0 ? 127 : -128 }) // d = 2
        w.tensors.append(.init(name: "q8", dimensions: [32, 2], typeID: 8, bytes: q8a + q8b))
        let q4a = GGUFTestWriter.q4_1Block(dBits: 0x3400, mBits: 0xBC00, (0 ..< 32).map { UInt8($0 % 16) })  // d = 0.25, m = -1
        let q4b = GGUFTestWriter.q4_1Block(dBits: 0x4200, mBits: 0x4500, (0 ..< 32).map { UInt8(15 - $0 / 2) }) // d = 3, m = 5
        w.tensors.append(.init(name: "q41", dimensions: [64], typeID: 3, bytes: q4a + q4b))
        let q40 = [UInt8(0x00), 0x3C] + (0 ..< 16).map { UInt8($0) | UInt8(15 - $0) << 4 }  // d = 1
        w.tensors.append(.init(name: "q40", dimensions: [32], typeID: 2, bytes: q40))
        w.tensors.append(.init(name: "bf16", dimensions: [2], typeID: 30, bytes: [0x80, 0x3F, 0x20, 0xC1]))
        return w
    }

    static let expectedQ8: [Float] = (0 ..< 32).map { Float($0 - 16) * 0.5 } + (0 ..< 32).map { $0 % 2 == 0 ? 254 : -256 }
    static let expectedQ41: [Float] = (0 ..< 32).map { Float($0 % 16) * 0.25 - 1 } + (0 ..< 32).map { Float(15 - $0 / 2) * 3 + 5 }
    static let expectedQ40: [Float] = (0 ..< 16).map { Float($0 - 8) } + (0 ..< 16).map { Float(15 - $0 - 8) }

    func parseError(_ data: Data, file: StaticString = #filePath, line: UInt = #line) -> GGUFError? {
        do {
            _ = try GGUFFile(data: data)
            XCTFail("expected a parse error", file: file, line: line)
            return nil
        } catch let error as GGUFError {
            XCTAssertFalse(error.description.contains("\n"), "description must be one line", file: file, line: line)
            return error
        } catch {
            XCTFail("unexpected error type \(error)", file: file, line: line)
            return nil
        }
    }

    // MARK: Well-formed files

    func testParsesAllMetadataTypes() throws {
        let file = try GGUFFile(data: Self.sampleWriter().data)
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.alignment, 32)
        XCTAssertEqual(file.metadataKeys.first, "general.architecture")
        XCTAssertEqual(file.metadataKeys.count, 16)
        XCTAssertEqual(file["t.u8"], .uint8(200))
        XCTAssertEqual(file["t.i8"], .int8(-100))
        XCTAssertEqual(file["t.u16"], .uint16(60000))
        XCTAssertEqual(file["t.i16"], .int16(-30000))
        XCTAssertEqual(try file.int("t.u32"), 4_000_000_000)
        XCTAssertEqual(try file.int("t.i32"), -2_000_000_000)
        XCTAssertEqual(try file.float("t.f32"), 1.5)
        XCTAssertEqual(try file.bool("t.bool"), true)
        XCTAssertEqual(try file.string("t.string"), "héllo ✓")
        XCTAssertEqual(try file.int("t.u64"), 1 << 40)
        XCTAssertEqual(try file.int("t.i64"), -(1 << 40))
        XCTAssertEqual(file["t.f64"]?.double, -2.25)
        XCTAssertEqual(try file.stringArray("t.strings"), ["a", "", "Ġthe", "<|im_end|>"])
        XCTAssertEqual(try file.intArray("t.ints"), [3, -1, 7])
        XCTAssertEqual(file["t.nested"], .array([.array([.uint8(1), .uint8(2)]), .array([])]))
        XCTAssertNil(try file.int("absent"))
        XCTAssertThrowsError(try file.value("absent")) { XCTAssertEqual($0 as? GGUFError, .missingKey("absent")) }
        XCTAssertThrowsError(try file.int("t.string")) {
            XCTAssertEqual($0 as? GGUFError, .typeMismatch(key: "t.string", expected: "integer", found: "string"))
        }
    }

    func testTensorInfosAndOffsets() throws {
        let (data, offsets) = Self.sampleWriter().encode()
        let file = try GGUFFile(data: data)
        XCTAssertEqual(file.tensors.map(\.name), ["f32", "f16", "q8", "q41", "q40", "bf16"])
        XCTAssertEqual(file.tensors.map(\.fileOffset), offsets)
        XCTAssertEqual(file.dataOffset % 32, 0)
        let q8 = try file.tensorInfo(named: "q8")
        XCTAssertEqual(q8.type, .q8_0)
        XCTAssertEqual(q8.dimensions, [32, 2])
        XCTAssertEqual(q8.shapeRowMajor, [2, 32])
        XCTAssertEqual(q8.rowLength, 32)
        XCTAssertEqual(q8.rowCount, 2)
        XCTAssertEqual(q8.byteCount, 68)
        XCTAssertEqual(try file.tensorInfo(named: "q41").byteCount, 40)
        XCTAssertEqual(try file.rawBytes(named: "bf16"), Data([0x80, 0x3F, 0x20, 0xC1]))
        XCTAssertTrue(file.hasTensor("f16"))
        XCTAssertFalse(file.hasTensor("nope"))
    }

    func testDequantisesExactValues() throws {
        let file = try GGUFFile(data: Self.sampleWriter().data)
        XCTAssertEqual(try file.floats(named: "f32"), [0, 1, -2, 3.5, 1e-3, -1e6, .infinity, 42])
        XCTAssertEqual(try file.floats(named: "f16"), [1, -2, 0.5, 0x1p-24, 65504, 0, -0.0, 0.333251953125])
        XCTAssertEqual(try file.floats(named: "q8"), Self.expectedQ8)
        XCTAssertEqual(try file.floats(named: "q41"), Self.expectedQ41)
        XCTAssertEqual(try file.floats(named: "q40"), Self.expectedQ40)
        XCTAssertEqual(try file.floats(named: "bf16"), [1, -10])
    }

    func testCustomAlignment() throws {
        var w = Self.sampleWriter()
        w.alignment = 64
        w.metadata.insert(("general.alignment", .u32(64)), at: 0)
        let (data, offsets) = w.encode()
        let file = try GGUFFile(data: data)
        XCTAssertEqual(file.alignment, 64)
        XCTAssertEqual(file.dataOffset % 64, 0)
        XCTAssertEqual(file.tensors.map(\.fileOffset), offsets)
        XCTAssertEqual(try file.floats(named: "q41"), Self.expectedQ41)
    }

    func testReadsFromDisk() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("wafermodel-\(UUID().uuidString).gguf")
        try Self.sampleWriter().data.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let file = try GGUFFile(path: url.path)
        XCTAssertEqual(try file.floats(named: "q8"), Self.expectedQ8)
        XCTAssertThrowsError(try GGUFFile(path: url.path + ".missing")) { error in
            guard case .unreadable = error as? GGUFError else { return XCTFail("\(error)") }
        }
    }

    // MARK: Damaged files

    func testEveryTruncationThrows() throws {
        let data = Self.sampleWriter().data
        let full = try GGUFFile(data: data)
        let lastByte = full.tensors.map { $0.fileOffset + $0.byteCount }.max() ?? 0
        for length in 0 ..< data.count {
            let prefix = data.prefix(length)
            if length >= lastByte {
                XCTAssertNoThrow(try GGUFFile(data: prefix), "only padding is missing at \(length)")
                continue
            }
            switch parseError(prefix) {
            case .truncated?, .tensorOutOfBounds?: break
            case let other: XCTFail("prefix \(length): unexpected \(String(describing: other))")
            }
        }
        XCTAssertEqual(parseError(Data()), .truncated(what: "magic", offset: 0, needed: 4, fileSize: 0))
        guard case .tensorOutOfBounds(tensor: "bf16", _, _, _)? = parseError(data.prefix(lastByte - 1)) else {
            return XCTFail("cut in the last tensor should name it")
        }
    }

    func testBadMagicAndVersion() {
        var data = Self.sampleWriter().data
        data[0] = UInt8(ascii: "X")
        XCTAssertEqual(parseError(data), .badMagic(found: Array("XGUF".utf8)))
        var w = Self.sampleWriter()
        w.version = 2
        XCTAssertEqual(parseError(w.data), .unsupportedVersion(2))
        XCTAssertTrue(GGUFError.badMagic(found: [0x58]).description.contains("bad magic"))
    }

    func testUnknownTypes() {
        var w = Self.sampleWriter()
        w.tensors[2].typeID = 99
        XCTAssertEqual(parseError(w.data), .unknownTensorType(tensor: "q8", typeID: 99))
        w = Self.sampleWriter()
        w.tensors[1].typeID = 4   // a retired ggml type id (Q4_2)
        XCTAssertEqual(parseError(w.data), .unknownTensorType(tensor: "f16", typeID: 4))

        // An unknown metadata value type id: patch the type field of the first key.
        var data = Self.sampleWriter().data
        let typeOffset = 4 + 4 + 8 + 8 + 8 + "general.architecture".utf8.count
        data[typeOffset] = 13
        XCTAssertEqual(parseError(data), .unknownValueType(key: "general.architecture", typeID: 13))
    }

    func testMissingTensor() throws {
        let file = try GGUFFile(data: Self.sampleWriter().data)
        XCTAssertThrowsError(try file.floats(named: "blk.0.attn_q.weight")) {
            XCTAssertEqual($0 as? GGUFError, .missingTensor("blk.0.attn_q.weight"))
            XCTAssertEqual("\($0)", "GGUF: missing tensor 'blk.0.attn_q.weight'")
        }
    }

    func testImpossibleCountsAndLengths() {
        // Tensor count far beyond what the file can hold.
        var data = Self.sampleWriter().data
        data.replaceSubrange(8 ..< 16, with: withUnsafeBytes(of: UInt64(1 << 60).littleEndian) { Data($0) })
        guard case .truncated(what: "tensor count", _, _, _)? = parseError(data) else { return XCTFail("tensor count") }

        // A string length of 2^63.
        data = Self.sampleWriter().data
        data.replaceSubrange(24 ..< 32, with: withUnsafeBytes(of: (UInt64(1) << 63).littleEndian) { Data($0) })
        guard case .truncated? = parseError(data) else { return XCTFail("string length") }

        // An array count of 2^62 strings.
        var w = GGUFTestWriter()
        w.add("big", .strings([]))
        data = w.data
        let countOffset = 24 + 8 + 3 + 4 + 4
        data.replaceSubrange(countOffset ..< countOffset + 8, with: withUnsafeBytes(of: UInt64(1 << 62).littleEndian) { Data($0) })
        guard case .truncated(what: "element count of 'big'", _, _, _)? = parseError(data) else { return XCTFail("array count") }
    }

    func testBadTensorGeometry() {
        var w = Self.sampleWriter()
        w.tensors[0].dimensions = []
        guard case .invalidValue? = parseError(w.data) else { return XCTFail("zero dimensions") }
        w = Self.sampleWriter()
        w.tensors[0].dimensions = [1, 1, 1, 1, 8]
        guard case .invalidValue? = parseError(w.data) else { return XCTFail("five dimensions") }
        w = Self.sampleWriter()
        w.tensors[2].dimensions = [16, 4]   // Q8_0 rows must be whole blocks of 32
        guard case .invalidValue? = parseError(w.data) else { return XCTFail("partial block") }
        w = Self.sampleWriter()
        w.tensors[0].dimensions = [1 << 30, 1 << 30, 1 << 30]
        guard case .invalidValue? = parseError(w.data) else { return XCTFail("overflowing shape") }
        w = Self.sampleWriter()
        w.tensors[5].dimensions = [4096]    // claims more data than the file has
        guard case .tensorOutOfBounds(tensor: "bf16", _, _, _)? = parseError(w.data) else { return XCTFail("oversized") }
    }

    func testBadTensorOffsets() {
        let data = Self.sampleWriter().data
        // The last tensor info's offset field is the 8 bytes just before the infos end.
        let infoEnd = Self.infoEnd(Self.sampleWriter())
        var patched = data
        patched.replaceSubrange(infoEnd - 8 ..< infoEnd, with: withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { Data($0) })
        guard case .tensorOutOfBounds(tensor: "bf16", _, _, _)? = parseError(patched) else { return XCTFail("far offset") }
        patched = data
        patched.replaceSubrange(infoEnd - 8 ..< infoEnd, with: withUnsafeBytes(of: UInt64(33).littleEndian) { Data($0) })
        guard case .invalidValue(what: "tensor 'bf16' offset", _)? = parseError(patched) else { return XCTFail("misaligned") }
    }

    /// Byte offset just past the last tensor info (before the alignment padding).
    static func infoEnd(_ w: GGUFTestWriter) -> Int {
        var end = 24
        for (key, value) in w.metadata {
            var bytes: [UInt8] = []
            GGUFTestWriter.appendValue(&bytes, value)
            end += 8 + key.utf8.count + 4 + bytes.count
        }
        for t in w.tensors { end += 8 + t.name.utf8.count + 4 + 8 * t.dimensions.count + 4 + 8 }
        return end
    }

    func testInvalidMetadataValues() {
        var w = GGUFTestWriter()
        w.add("general.alignment", .u32(24))
        guard case .invalidValue(what: "general.alignment", _)? = parseError(w.data) else { return XCTFail("alignment") }
        w = GGUFTestWriter()
        w.add("general.alignment", .string("32"))
        XCTAssertEqual(parseError(w.data), .typeMismatch(key: "general.alignment", expected: "integer", found: "string"))
        w = GGUFTestWriter()
        w.add("k", .u8(1))
        w.add("k", .u8(2))
        XCTAssertEqual(parseError(w.data), .duplicate(what: "metadata key", name: "k"))
        w = Self.sampleWriter()
        w.tensors[1].name = "f32"
        XCTAssertEqual(parseError(w.data), .duplicate(what: "tensor", name: "f32"))

        w = GGUFTestWriter()
        w.add("flag", .u8(2))
        var data = w.data
        data[24 + 8 + 4] = 7   // retype the u8 as bool: byte 2 is not a valid bool
        guard case .invalidValue(what: "bool 'flag'", _)? = parseError(data) else { return XCTFail("bool") }

        w = GGUFTestWriter()
        w.add("bad", .string("ab"))
        data = w.data
        let stringStart = 24 + 8 + 3 + 4 + 8   // header, key, value type, string length
        data[stringStart + 1] = 0xFF
        XCTAssertEqual(parseError(data), .invalidUTF8(what: "value of 'bad'", offset: stringStart))

        var nested: GGUFTestWriter.Value = .u8(0)
        for _ in 0 ..< 6 { nested = .array(elementType: nested.typeID, [nested]) }
        w = GGUFTestWriter()
        w.add("deep", nested)
        guard case .invalidValue(what: "array 'deep'", _)? = parseError(w.data) else { return XCTFail("nesting") }
    }

    func testRandomCorruptionNeverTraps() throws {
        let data = Self.sampleWriter().data
        let headerEnd = try GGUFFile(data: data).dataOffset
        var rng = SplitMix64(seed: 7)
        var failures = 0
        for _ in 0 ..< 400 {
            var corrupted = data
            for _ in 0 ..< 1 + Int(rng.next() % 4) {
                let at = Int(rng.next() % UInt64(headerEnd))
                corrupted[at] = UInt8(truncatingIfNeeded: rng.next())
            }
            do {
                let file = try GGUFFile(data: corrupted)
                for t in file.tensors where t.type.isDequantizable { _ = try? file.floats(of: t) }
            } catch is GGUFError {
                failures += 1
            }
        }
        XCTAssertGreaterThan(failures, 0)
    }

    func testUndequantisableTypeIsAnError() throws {
        var w = GGUFTestWriter()
        w.tensors.append(.init(name: "k", dimensions: [256], typeID: 12, bytes: [UInt8](repeating: 0, count: 144)))
        let file = try GGUFFile(data: w.data)
        XCTAssertEqual(try file.tensorInfo(named: "k").type, .q4_K)
        XCTAssertThrowsError(try file.floats(named: "k")) {
            XCTAssertEqual($0 as? GGUFError, .unsupportedTensorType(tensor: "k", type: "Q4_K"))
        }
    }
}
