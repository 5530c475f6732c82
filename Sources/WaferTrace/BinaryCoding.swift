/// Little-endian, varint-based encoding used by the `.wtrace` chunks.
///
/// Unsigned integers are LEB128 varints; signed deltas are zig-zag encoded first, so small
/// magnitudes of either sign take one byte.
struct ByteWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ v: UInt8) { bytes.append(v) }

    mutating func u32(_ v: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: v))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v >> 16))
        bytes.append(UInt8(truncatingIfNeeded: v >> 24))
    }

    /// - Complexity: O(1), at most 10 bytes.
    @inline(__always) mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    @inline(__always) mutating func uvar(_ v: Int64) { varint(UInt64(bitPattern: v)) }
    @inline(__always) mutating func uvar(_ v: Int32) { varint(UInt64(UInt32(bitPattern: v))) }
    @inline(__always) mutating func uvar(_ v: Int) { varint(UInt64(bitPattern: Int64(v))) }

    @inline(__always) mutating func zigzag(_ v: Int64) {
        varint(UInt64(bitPattern: (v << 1) ^ (v >> 63)))
    }

    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        varint(UInt64(utf8.count))
        bytes.append(contentsOf: utf8)
    }
}

/// Errors from decoding trace bytes.
public enum TraceFormatError: Error, CustomStringConvertible, Equatable {
    case notATrace(String)
    case unsupportedVersion(Int)
    case corrupted(String)
    case io(String)

    public var description: String {
        switch self {
        case .notATrace(let p): return "\(p) is not a WaferScope trace (bad magic)"
        case .unsupportedVersion(let v): return "trace format version \(v) is not supported (this build reads version \(TraceFormat.version))"
        case .corrupted(let s): return "corrupted trace: \(s)"
        case .io(let s): return s
        }
    }
}

/// Bounds-checked reader over a chunk payload.
struct ByteReader {
    let bytes: [UInt8]
    var offset: Int
    let end: Int

    init(_ bytes: [UInt8], from: Int = 0, to: Int? = nil) {
        self.bytes = bytes
        offset = from
        end = to ?? bytes.count
    }

    var atEnd: Bool { offset >= end }

    mutating func u8() throws -> UInt8 {
        guard offset < end else { throw TraceFormatError.corrupted("record runs past its chunk") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u32() throws -> UInt32 {
        guard offset + 4 <= end else { throw TraceFormatError.corrupted("record runs past its chunk") }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
        offset += 4
        return v
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end else { throw TraceFormatError.corrupted("varint runs past its chunk") }
            let b = bytes[offset]
            offset += 1
            if shift >= 64 { throw TraceFormatError.corrupted("varint longer than 64 bits") }
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func int64() throws -> Int64 { Int64(bitPattern: try varint()) }

    mutating func int32() throws -> Int32 {
        let v = try varint()
        guard v <= UInt64(UInt32.max) else { throw TraceFormatError.corrupted("value \(v) too large for 32 bits") }
        return Int32(bitPattern: UInt32(v))
    }

    mutating func int() throws -> Int {
        let v = try varint()
        guard v <= UInt64(Int.max) else { throw TraceFormatError.corrupted("value \(v) too large") }
        return Int(v)
    }

    mutating func zigzag() throws -> Int64 {
        let v = try varint()
        return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
    }

    mutating func string() throws -> String {
        let n = try int()
        guard n <= end - offset else { throw TraceFormatError.corrupted("string runs past its chunk") }
        defer { offset += n }
        return String(decoding: bytes[offset..<(offset + n)], as: UTF8.self)
    }
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320).
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = (c & 1) != 0 ? (0xEDB8_8320 ^ (c >> 1)) : (c >> 1) }
        return c
    }

    /// - Complexity: O(n).
    static func checksum<C: Collection>(_ data: C, seed: UInt32 = 0) -> UInt32 where C.Element == UInt8 {
        var c = ~seed
        table.withUnsafeBufferPointer { t in
            for b in data { c = t[Int((c ^ UInt32(b)) & 0xff)] ^ (c >> 8) }
        }
        return ~c
    }
}
