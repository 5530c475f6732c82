import Foundation

/// A parsed GGUF (version 3) file: its metadata, its tensor directory and its bytes.
///
/// The file is read once (memory-mapped when it comes from disk) and parsed eagerly:
/// header, all metadata key/values, all tensor infos, and the data section start, which is
/// aligned to `general.alignment` (32 by default). Every count, length, dimension and
/// offset is checked against the file size while parsing, so any truncation or corruption
/// surfaces as a `GGUFError` from the initializer, and every tensor listed in `tensors`
/// is known to lie entirely inside the file.
///
/// Layout reference (all little-endian):
/// ```
/// "GGUF" u32 version u64 n_tensors u64 n_kv
/// n_kv × { string key, u32 value_type, value }
/// n_tensors × { string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset }
/// padding to alignment, then tensor data (each tensor at data_start + offset)
/// ```
public struct GGUFFile: Sendable {
    /// The only GGUF version this reader accepts.
    public static let supportedVersion: UInt32 = 3
    /// Alignment used when `general.alignment` is absent.
    public static let defaultAlignment = 32
    /// Deepest nesting of arrays accepted in metadata (GGUF allows arrays of arrays).
    static let maximumArrayDepth = 4
    /// Largest number of dimensions a ggml tensor can have.
    static let maximumDimensions = 4

    /// The file version from the header (always `supportedVersion`).
    public let version: UInt32
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Metadata values by key.
    public let metadata: [String: GGUFValue]
    /// Tensor infos in file order.
    public let tensors: [GGUFTensorInfo]
    /// Alignment of the data section and of every tensor offset.
    public let alignment: Int
    /// Byte offset of the data section from the start of the file.
    public let dataOffset: Int

    let data: Data
    let tensorIndex: [String: Int]

    /// Size of the whole file in bytes.
    public var fileSize: Int { data.count }

    /// Opens and parses the GGUF file at `path`, memory-mapping it.
    ///
    /// - Throws: `GGUFError.unreadable` when the file cannot be opened, or any parsing error.
    public init(path: String) throws {
        try self.init(url: URL(fileURLWithPath: path))
    }

    /// Opens and parses the GGUF file at `url`, memory-mapping it.
    public init(url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw GGUFError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        try self.init(data: data)
    }

    /// Parses a GGUF file held in memory.
    ///
    /// - Complexity: O(file metadata size); tensor data is not touched.
    public init(data: Data) throws {
        // Rebase so that indices start at 0 whatever slice we were handed.
        let data = data.startIndex == 0 ? data : Data(data)
        let parsed = try data.withUnsafeBytes { try GGUFFile.parse($0) }
        self.data = data
        self.version = parsed.version
        self.metadataKeys = parsed.keys
        self.metadata = parsed.metadata
        self.tensors = parsed.tensors
        self.alignment = parsed.alignment
        self.dataOffset = parsed.dataOffset
        var index: [String: Int] = [:]
        for (i, t) in parsed.tensors.enumerated() { index[t.name] = i }
        self.tensorIndex = index
    }

    // MARK: Metadata

    /// The metadata value for `key`, or `nil` when absent.
    public subscript(key: String) -> GGUFValue? { metadata[key] }

    /// The metadata value for `key`.
    ///
    /// - Throws: `GGUFError.missingKey` when absent.
    public func value(_ key: String) throws -> GGUFValue {
        guard let v = metadata[key] else { throw GGUFError.missingKey(key) }
        return v
    }

    /// An integer metadata value, or `nil` when the key is absent.
    ///
    /// - Throws: `GGUFError.typeMismatch` when present but not an integer.
    public func int(_ key: String) throws -> Int? {
        guard let v = metadata[key] else { return nil }
        guard let i = v.int else { throw GGUFError.typeMismatch(key: key, expected: "integer", found: v.typeName) }
        return i
    }

    /// A floating (or integer) metadata value, or `nil` when the key is absent.
    public func float(_ key: String) throws -> Float? {
        guard let v = metadata[key] else { return nil }
        guard let f = v.float else { throw GGUFError.typeMismatch(key: key, expected: "number", found: v.typeName) }
        return f
    }

    /// A string metadata value, or `nil` when the key is absent.
    public func string(_ key: String) throws -> String? {
        guard let v = metadata[key] else { return nil }
        guard let s = v.string else { throw GGUFError.typeMismatch(key: key, expected: "string", found: v.typeName) }
        return s
    }

    /// A boolean metadata value, or `nil` when the key is absent.
    public func bool(_ key: String) throws -> Bool? {
        guard let v = metadata[key] else { return nil }
        guard let b = v.bool else { throw GGUFError.typeMismatch(key: key, expected: "bool", found: v.typeName) }
        return b
    }

    /// An array-of-strings metadata value, or `nil` when the key is absent.
    public func stringArray(_ key: String) throws -> [String]? {
        guard let v = metadata[key] else { return nil }
        guard let s = v.stringArray else { throw GGUFError.typeMismatch(key: key, expected: "[string]", found: v.typeName) }
        return s
    }

    /// An array-of-integers metadata value, or `nil` when the key is absent.
    public func intArray(_ key: String) throws -> [Int]? {
        guard let v = metadata[key] else { return nil }
        guard let s = v.intArray else { throw GGUFError.typeMismatch(key: key, expected: "[integer]", found: v.typeName) }
        return s
    }

    // MARK: Tensors

    /// Whether a tensor called `name` is in the file.
    public func hasTensor(_ name: String) -> Bool { tensorIndex[name] != nil }

    /// The info of the tensor called `name`.
    ///
    /// - Throws: `GGUFError.missingTensor` when absent.
    public func tensorInfo(named name: String) throws -> GGUFTensorInfo {
        guard let i = tensorIndex[name] else { throw GGUFError.missingTensor(name) }
        return tensors[i]
    }

    /// The raw (still encoded) bytes of the tensor called `name`.
    public func rawBytes(named name: String) throws -> Data {
        let info = try tensorInfo(named: name)
        return data.subdata(in: info.fileOffset ..< info.fileOffset + info.byteCount)
    }

    /// The tensor called `name`, dequantised to `Float` in file order (row-major, `ne[0]` fastest).
    ///
    /// - Throws: `missingTensor`, or `unsupportedTensorType` for encodings without a dequantiser.
    /// - Complexity: O(elements).
    public func floats(named name: String) throws -> [Float] {
        try floats(of: try tensorInfo(named: name))
    }

    /// The tensor described by `info` (which must come from this file), dequantised to `Float`.
    public func floats(of info: GGUFTensorInfo) throws -> [Float] {
        guard info.fileOffset >= 0, info.byteCount >= 0, info.fileOffset + info.byteCount <= data.count else {
            throw GGUFError.tensorOutOfBounds(tensor: info.name, offset: info.fileOffset, size: info.byteCount, fileSize: data.count)
        }
        return try data.withUnsafeBytes { raw in
            let slice = UnsafeRawBufferPointer(rebasing: raw[info.fileOffset ..< info.fileOffset + info.byteCount])
            return try GGUFQuantization.dequantize(slice, type: info.type, count: info.elementCount, name: info.name)
        }
    }
}

// MARK: - Parsing

extension GGUFFile {
    struct Parsed {
        var version: UInt32
        var keys: [String]
        var metadata: [String: GGUFValue]
        var tensors: [GGUFTensorInfo]
        var alignment: Int
        var dataOffset: Int
    }

    /// Parses the header, metadata and tensor directory of a whole file.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> Parsed {
        var r = GGUFByteReader(bytes)
        try r.require(4, "magic")
        let magic = Array(bytes[0 ..< 4])
        guard magic == Array("GGUF".utf8) else { throw GGUFError.badMagic(found: magic) }
        _ = try r.readUInt32("magic")
        let version = try r.readUInt32("version")
        guard version == supportedVersion else { throw GGUFError.unsupportedVersion(version) }
        // Minimum encoded sizes: a tensor info is ≥ 24 bytes, a key/value ≥ 13 bytes.
        let tensorCount = try r.readLength("tensor count", unitSize: 24)
        let kvCount = try r.readLength("metadata count", unitSize: 13)

        var keys: [String] = []
        var metadata: [String: GGUFValue] = [:]
        keys.reserveCapacity(kvCount)
        for i in 0 ..< kvCount {
            let key = try r.readString("metadata key \(i)")
            let typeRaw = try r.readUInt32("type of metadata '\(key)'")
            guard let type = GGUFValue.TypeID(rawValue: typeRaw) else {
                throw GGUFError.unknownValueType(key: key, typeID: typeRaw)
            }
            let value = try readValue(&r, type: type, key: key, depth: 0)
            guard metadata.updateValue(value, forKey: key) == nil else {
                throw GGUFError.duplicate(what: "metadata key", name: key)
            }
            keys.append(key)
        }

        var alignment = defaultAlignment
        if let v = metadata["general.alignment"] {
            guard let a = v.int else {
                throw GGUFError.typeMismatch(key: "general.alignment", expected: "integer", found: v.typeName)
            }
            guard a > 0, a <= 1 << 20, a & (a - 1) == 0 else {
                throw GGUFError.invalidValue(what: "general.alignment", detail: "\(a) is not a power of two in 1...2^20")
            }
            alignment = a
        }

        var infos: [(name: String, dims: [Int], type: GGMLType, offset: Int, elements: Int, size: Int)] = []
        infos.reserveCapacity(tensorCount)
        var seen = Set<String>()
        for i in 0 ..< tensorCount {
            let name = try r.readString("tensor \(i) name")
            guard seen.insert(name).inserted else { throw GGUFError.duplicate(what: "tensor", name: name) }
            let nDims = try r.readUInt32("tensor '\(name)' dimension count")
            guard nDims >= 1, nDims <= UInt32(maximumDimensions) else {
                throw GGUFError.invalidValue(what: "tensor '\(name)' dimension count", detail: "\(nDims) is not in 1...\(maximumDimensions)")
            }
            var dims: [Int] = []
            var elements = 1
            for d in 0 ..< Int(nDims) {
                let raw = try r.readUInt64("tensor '\(name)' dimension \(d)")
                guard raw <= UInt64(Int32.max) else {
                    throw GGUFError.invalidValue(what: "tensor '\(name)' dimension \(d)", detail: "\(raw) is too large")
                }
                let (product, overflow) = elements.multipliedReportingOverflow(by: Int(raw))
                guard !overflow else {
                    throw GGUFError.invalidValue(what: "tensor '\(name)' shape", detail: "element count overflows")
                }
                dims.append(Int(raw))
                elements = product
            }
            let typeRaw = try r.readUInt32("tensor '\(name)' type")
            guard let type = GGMLType(rawValue: typeRaw) else {
                throw GGUFError.unknownTensorType(tensor: name, typeID: typeRaw)
            }
            guard dims[0] % type.blockSize == 0 else {
                throw GGUFError.invalidValue(what: "tensor '\(name)' shape",
                                             detail: "row length \(dims[0]) is not a multiple of the \(type) block size \(type.blockSize)")
            }
            let (size, sizeOverflow) = (elements / type.blockSize).multipliedReportingOverflow(by: type.bytesPerBlock)
            guard !sizeOverflow else {
                throw GGUFError.invalidValue(what: "tensor '\(name)' shape", detail: "byte size overflows")
            }
            let offsetRaw = try r.readUInt64("tensor '\(name)' offset")
            guard offsetRaw <= UInt64(bytes.count) else {
                throw GGUFError.tensorOutOfBounds(tensor: name, offset: Int(clamping: offsetRaw), size: size, fileSize: bytes.count)
            }
            let offset = Int(offsetRaw)
            guard offset % alignment == 0 else {
                throw GGUFError.invalidValue(what: "tensor '\(name)' offset", detail: "\(offset) is not a multiple of the alignment \(alignment)")
            }
            infos.append((name, dims, type, offset, elements, size))
        }

        r.align(to: alignment)
        let dataOffset = r.offset
        if !infos.isEmpty, dataOffset > bytes.count {
            throw GGUFError.truncated(what: "data section", offset: dataOffset, needed: 0, fileSize: bytes.count)
        }
        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(infos.count)
        for t in infos {
            let start = dataOffset + t.offset   // both ≤ file size, so no overflow
            guard t.size <= bytes.count, start <= bytes.count - t.size else {
                throw GGUFError.tensorOutOfBounds(tensor: t.name, offset: start, size: t.size, fileSize: bytes.count)
            }
            tensors.append(GGUFTensorInfo(name: t.name, dimensions: t.dims, type: t.type, relativeOffset: t.offset,
                                          fileOffset: start, elementCount: t.elements, byteCount: t.size))
        }
        return Parsed(version: version, keys: keys, metadata: metadata, tensors: tensors,
                      alignment: alignment, dataOffset: dataOffset)
    }

    /// Reads one metadata value of the given type.
    private static func readValue(_ r: inout GGUFByteReader, type: GGUFValue.TypeID, key: String, depth: Int) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try r.readUInt8("value of '\(key)'"))
        case .int8: return .int8(try r.readInt8("value of '\(key)'"))
        case .uint16: return .uint16(try r.readUInt16("value of '\(key)'"))
        case .int16: return .int16(try r.readInt16("value of '\(key)'"))
        case .uint32: return .uint32(try r.readUInt32("value of '\(key)'"))
        case .int32: return .int32(try r.readInt32("value of '\(key)'"))
        case .uint64: return .uint64(try r.readUInt64("value of '\(key)'"))
        case .int64: return .int64(try r.readInt64("value of '\(key)'"))
        case .float32: return .float32(try r.readFloat32("value of '\(key)'"))
        case .float64: return .float64(try r.readFloat64("value of '\(key)'"))
        case .bool:
            let b = try r.readUInt8("value of '\(key)'")
            guard b <= 1 else { throw GGUFError.invalidValue(what: "bool '\(key)'", detail: "byte \(b) is neither 0 nor 1") }
            return .bool(b == 1)
        case .string:
            return .string(try r.readString("value of '\(key)'"))
        case .array:
            guard depth < maximumArrayDepth else {
                throw GGUFError.invalidValue(what: "array '\(key)'", detail: "nested deeper than \(maximumArrayDepth)")
            }
            let elementRaw = try r.readUInt32("element type of '\(key)'")
            guard let elementType = GGUFValue.TypeID(rawValue: elementRaw) else {
                throw GGUFError.unknownValueType(key: key, typeID: elementRaw)
            }
            let count = try r.readLength("element count of '\(key)'", unitSize: elementType.minimumEncodedSize)
            var items: [GGUFValue] = []
            items.reserveCapacity(count)
            for _ in 0 ..< count {
                items.append(try readValue(&r, type: elementType, key: key, depth: depth + 1))
            }
            return .array(items)
        }
    }
}
