/// Everything that can go wrong while reading a GGUF file or building a model from it.
///
/// Every failure on file contents is reported through one of these cases rather than a
/// trap, so a truncated download or a corrupted file gives a one-line message that says
/// what was wrong and where (`description`).
public enum GGUFError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be opened or read at all.
    case unreadable(path: String, reason: String)
    /// The first four bytes are not `GGUF`.
    case badMagic(found: [UInt8])
    /// The header names a GGUF version this reader does not understand (only 3 is).
    case unsupportedVersion(UInt32)
    /// A read of `needed` bytes at `offset` would run past the end of the file.
    case truncated(what: String, offset: Int, needed: Int, fileSize: Int)
    /// A metadata value carries a type id outside the GGUF value types.
    case unknownValueType(key: String, typeID: UInt32)
    /// A tensor info carries a ggml type id this reader does not know.
    case unknownTensorType(tensor: String, typeID: UInt32)
    /// The tensor's ggml type is known but cannot be dequantised here.
    case unsupportedTensorType(tensor: String, type: String)
    /// A string in the file is not valid UTF-8.
    case invalidUTF8(what: String, offset: Int)
    /// A count, dimension, offset or size in the file is impossible.
    case invalidValue(what: String, detail: String)
    /// The same metadata key or tensor name appears twice.
    case duplicate(what: String, name: String)
    /// A tensor's data range lies (partly) outside the data section of the file.
    case tensorOutOfBounds(tensor: String, offset: Int, size: Int, fileSize: Int)
    /// A required tensor is not in the file.
    case missingTensor(String)
    /// A required metadata key is not in the file.
    case missingKey(String)
    /// A metadata key holds a value of the wrong type.
    case typeMismatch(key: String, expected: String, found: String)
    /// A tensor does not have the shape the model configuration implies.
    case shapeMismatch(tensor: String, expected: [Int], found: [Int])
    /// The file describes a model or tokenizer this module does not support.
    case unsupportedModel(String)

    /// A one-line, human-readable explanation of the failure.
    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "GGUF: cannot read \(path): \(reason)"
        case let .badMagic(found):
            let hex = found.map { String($0, radix: 16, uppercase: true) }.joined(separator: " ")
            return "GGUF: bad magic (expected 47 47 55 46 \"GGUF\", found \(hex.isEmpty ? "nothing" : hex))"
        case let .unsupportedVersion(version):
            return "GGUF: unsupported version \(version) (only version 3 is supported)"
        case let .truncated(what, offset, needed, fileSize):
            return "GGUF: file truncated reading \(what): needs \(needed) bytes at offset \(offset) but the file has \(fileSize)"
        case let .unknownValueType(key, typeID):
            return "GGUF: metadata key '\(key)' has unknown value type \(typeID)"
        case let .unknownTensorType(tensor, typeID):
            return "GGUF: tensor '\(tensor)' has unknown ggml type id \(typeID)"
        case let .unsupportedTensorType(tensor, type):
            return "GGUF: tensor '\(tensor)' has type \(type), which cannot be dequantised (F32, F16, BF16, Q4_0, Q4_1, Q8_0 are supported)"
        case let .invalidUTF8(what, offset):
            return "GGUF: \(what) at offset \(offset) is not valid UTF-8"
        case let .invalidValue(what, detail):
            return "GGUF: invalid \(what): \(detail)"
        case let .duplicate(what, name):
            return "GGUF: duplicate \(what) '\(name)'"
        case let .tensorOutOfBounds(tensor, offset, size, fileSize):
            return "GGUF: tensor '\(tensor)' data [\(offset), \(offset + size)) lies outside the file (\(fileSize) bytes)"
        case let .missingTensor(name):
            return "GGUF: missing tensor '\(name)'"
        case let .missingKey(key):
            return "GGUF: missing metadata key '\(key)'"
        case let .typeMismatch(key, expected, found):
            return "GGUF: metadata key '\(key)' should be \(expected) but is \(found)"
        case let .shapeMismatch(tensor, expected, found):
            return "GGUF: tensor '\(tensor)' has shape \(found), expected \(expected)"
        case let .unsupportedModel(detail):
            return "GGUF: unsupported model: \(detail)"
        }
    }
}
