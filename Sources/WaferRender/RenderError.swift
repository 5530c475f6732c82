import Foundation

/// Why a figure could not be made or written, as one line.
public enum RenderError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The output path's extension names no format we write.
    case badExtension(String)
    /// The output could not be written.
    case cannotWrite(path: String, reason: String)
    /// A figure kind the command does not know.
    case unknownKind(String, known: [String])
    /// A bad option value (region, window, size, panel count).
    case badOption(String)
    /// Cairo refused (out of memory, a size it cannot handle).
    case cairo(String)

    public var description: String {
        switch self {
        case .badExtension(let p):
            return "cannot tell the image format of '\(p)': the output must end in .png or .svg"
        case .cannotWrite(let p, let r):
            return "cannot write '\(p)': \(r)"
        case .unknownKind(let k, let known):
            return "unknown kind '\(k)' (known: \(known.joined(separator: ", ")))"
        case .badOption(let s):
            return s
        case .cairo(let s):
            return "cairo: \(s)"
        }
    }
}
