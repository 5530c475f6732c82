import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Parses an SVG with Foundation's XMLParser and collects what the tests count.
///
/// Path elements inside `<defs>` (glyph outlines, clip paths) are not drawn directly and are
/// left out of `paths`.
final class SVGInspector: NSObject, XMLParserDelegate {
    /// The `d` attribute of every drawn `<path>`.
    private(set) var paths: [String] = []
    /// Element names with how often they occur (anywhere).
    private(set) var counts: [String: Int] = [:]
    private(set) var rootName: String?
    private var defsDepth = 0

    /// Parses `data`; nil when it is not well-formed XML.
    static func parse(_ data: Data) -> SVGInspector? {
        let inspector = SVGInspector()
        let parser = XMLParser(data: data)
        parser.delegate = inspector
        return parser.parse() ? inspector : nil
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if rootName == nil { rootName = name }
        counts[name, default: 0] += 1
        if name == "defs" { defsDepth += 1 }
        if name == "path", defsDepth == 0 { paths.append(attributes["d"] ?? "") }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "defs" { defsDepth -= 1 }
    }

    /// The vertices of a path made of one closed polygon ("M x y L x y … Z M x y"), else nil.
    static func polygon(_ d: String) -> [(Double, Double)]? {
        let tokens = d.split(separator: " ").map(String.init)
        var points: [(Double, Double)] = []
        var i = 0
        var closed = false
        while i < tokens.count {
            let t = tokens[i]
            if t == "Z" { closed = true; i += 1; continue }
            guard t == "M" || t == "L", i + 2 < tokens.count, let x = Double(tokens[i + 1]), let y = Double(tokens[i + 2]) else { return nil }
            if closed { break } // the trailing move after Z
            points.append((x, y))
            i += 3
        }
        return closed ? points : nil
    }
}
