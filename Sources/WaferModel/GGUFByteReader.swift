/// A bounds-checked little-endian cursor over the bytes of a GGUF file.
///
/// Every read first checks that enough bytes remain and throws `GGUFError.truncated`
/// otherwise, so no value taken from the file can index past its end. It wraps a raw
/// buffer pointer and must only be used inside the `withUnsafeBytes` call that produced it.
struct GGUFByteReader {
    /// The whole file.
    let bytes: UnsafeRawBufferPointer
    /// The position of the next read, in bytes from the start of the file.
    private(set) var offset: Int = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Bytes left between `offset` and the end of the file.
    var remaining: Int { bytes.count - offset }

    /// Throws `.truncated` unless `count` more bytes can be read.
    func require(_ count: Int, _ what: @autoclosure () -> String) throws {
        guard count >= 0, count <= remaining else {
            throw GGUFError.truncated(what: what(), offset: offset, needed: count, fileSize: bytes.count)
        }
    }

    /// Reads one fixed-width little-endian integer.
    private mutating func load<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        let size = MemoryLayout<T>.size
        try require(size, what())
        let raw = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(littleEndian: raw)
    }

    mutating func readUInt8(_ what: @autoclosure () -> String) throws -> UInt8 { try load(UInt8.self, what()) }
    mutating func readInt8(_ what: @autoclosure () -> String) throws -> Int8 { try load(Int8.self, what()) }
    mutating func readUInt16(_ what: @autoclosure () -> String) throws -> UInt16 { try load(UInt16.self, what()) }
    mutating func readInt16(_ what: @autoclosure () -> String) throws -> Int16 { try load(Int16.self, what()) }
    mutating func readUInt32(_ what: @autoclosure () -> String) throws -> UInt32 { try load(UInt32.self, what()) }
    mutating func readInt32(_ what: @autoclosure () -> String) throws -> Int32 { try load(Int32.self, what()) }
    mutating func readUInt64(_ what: @autoclosure () -> String) throws -> UInt64 { try load(UInt64.self, what()) }
    mutating func readInt64(_ what: @autoclosure () -> String) throws -> Int64 { try load(Int64.self, what()) }

    /// Reads an IEEE binary32 stored little-endian.
    mutating func readFloat32(_ what: @autoclosure () -> String) throws -> Float {
        Float(bitPattern: try load(UInt32.self, what()))
    }

    /// Reads an IEEE binary64 stored little-endian.
    mutating func readFloat64(_ what: @autoclosure () -> String) throws -> Double {
        Double(bitPattern: try load(UInt64.self, what()))
    }

    /// Reads a `uint64` length and converts it to `Int`, rejecting lengths beyond the file.
    ///
    /// A length that cannot possibly fit in the bytes that remain is reported as truncation
    /// before anything is allocated for it.
    mutating func readLength(_ what: @autoclosure () -> String, unitSize: Int = 1) throws -> Int {
        let raw = try readUInt64(what())
        let available = UInt64(max(remaining, 0)) / UInt64(max(unitSize, 1))
        guard raw <= available else {
            let needed = raw > UInt64(Int.max / max(unitSize, 1)) ? Int.max : Int(raw) * max(unitSize, 1)
            throw GGUFError.truncated(what: what(), offset: offset, needed: needed, fileSize: bytes.count)
        }
        return Int(raw)
    }

    /// Reads a GGUF string: a `uint64` byte count followed by that many UTF-8 bytes.
    mutating func readString(_ what: @autoclosure () -> String) throws -> String {
        let count = try readLength("\(what()) length")
        let start = offset
        let slice = UnsafeRawBufferPointer(rebasing: bytes[start ..< start + count])
        let string = String(decoding: slice, as: UTF8.self)
        // `String(decoding:)` repairs invalid input; a repaired string no longer matches its bytes.
        guard string.utf8.elementsEqual(slice) else {
            throw GGUFError.invalidUTF8(what: what(), offset: start)
        }
        offset += count
        return string
    }

    /// Moves the cursor forward to the next multiple of `alignment`, which must be positive.
    mutating func align(to alignment: Int) {
        let rem = offset % alignment
        if rem != 0 { offset += alignment - rem }
    }
}
