import Foundation

/// The file formats figures are written in, chosen by the output's extension.
public enum ImageFormat: String, CaseIterable, Sendable {
    case png, svg

    /// The format of `path` from its extension (case-insensitive).
    ///
    /// - Throws: `RenderError.badExtension` for anything but `.png` and `.svg`.
    public init(path: String) throws {
        let ext = (path as NSString).pathExtension.lowercased()
        guard let f = ImageFormat(rawValue: ext) else { throw RenderError.badExtension(path) }
        self = f
    }
}
