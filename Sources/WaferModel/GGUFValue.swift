/// One metadata value from a GGUF file.
///
/// GGUF has thirteen value types; each is kept exactly as stored so that nothing is lost.
/// The accessors (`int`, `float`, `string`, `stringArray`, …) convert between the integer
/// and floating widths where that is lossless enough for configuration use, and return
/// `nil` for a value of an unrelated type.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    case array([GGUFValue])
    case uint64(UInt64)
    case int64(Int64)
    case float64(Double)

    /// The GGUF value type ids, as stored in the file.
    public enum TypeID: UInt32, Sendable, CaseIterable {
        case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6
        case bool = 7, string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

        /// The smallest number of bytes one value of this type occupies in the file.
        ///
        /// Used to reject impossible array counts before allocating anything.
        var minimumEncodedSize: Int {
            switch self {
            case .uint8, .int8, .bool: return 1
            case .uint16, .int16: return 2
            case .uint32, .int32, .float32: return 4
            case .uint64, .int64, .float64, .string: return 8
            case .array: return 12
            }
        }
    }

    /// A short name of the value's type, for error messages (`"uint32"`, `"[string]"`).
    public var typeName: String {
        switch self {
        case .uint8: return "uint8"
        case .int8: return "int8"
        case .uint16: return "uint16"
        case .int16: return "int16"
        case .uint32: return "uint32"
        case .int32: return "int32"
        case .float32: return "float32"
        case .bool: return "bool"
        case .string: return "string"
        case .uint64: return "uint64"
        case .int64: return "int64"
        case .float64: return "float64"
        case let .array(items): return "[\(items.first?.typeName ?? "")]"
        }
    }

    /// The value as an `Int` when it is an integer type that fits, else `nil`.
    public var int: Int? {
        switch self {
        case let .uint8(v): return Int(v)
        case let .int8(v): return Int(v)
        case let .uint16(v): return Int(v)
        case let .int16(v): return Int(v)
        case let .uint32(v): return Int(v)
        case let .int32(v): return Int(v)
        case let .uint64(v): return Int(exactly: v)
        case let .int64(v): return Int(exactly: v)
        default: return nil
        }
    }

    /// The value as a `Double` when it is a floating or integer type, else `nil`.
    public var double: Double? {
        switch self {
        case let .float32(v): return Double(v)
        case let .float64(v): return v
        default: return int.map(Double.init)
        }
    }

    /// The value as a `Float` when it is a floating or integer type, else `nil`.
    public var float: Float? { double.map(Float.init) }

    /// The value as a `Bool` when it is `.bool`, else `nil`.
    public var bool: Bool? {
        if case let .bool(v) = self { return v }
        return nil
    }

    /// The value as a `String` when it is `.string`, else `nil`.
    public var string: String? {
        if case let .string(v) = self { return v }
        return nil
    }

    /// The elements when the value is an array, else `nil`.
    public var array: [GGUFValue]? {
        if case let .array(v) = self { return v }
        return nil
    }

    /// The elements as strings when the value is an array of strings, else `nil`.
    public var stringArray: [String]? {
        guard case let .array(items) = self else { return nil }
        var out: [String] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard case let .string(s) = item else { return nil }
            out.append(s)
        }
        return out
    }

    /// The elements as `Int`s when the value is an array of integers, else `nil`.
    public var intArray: [Int]? {
        guard case let .array(items) = self else { return nil }
        var out: [Int] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard let v = item.int else { return nil }
            out.append(v)
        }
        return out
    }
}
