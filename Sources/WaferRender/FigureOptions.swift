import Foundation
import WaferAnalysis

/// The command-line options of `render` and `plot`, still as text where they depend on the data.
public struct FigureOptions: Sendable {
    /// Image size in pixels.
    public var width = 1600
    public var height = 1000
    /// "x0,y0,x1,y1": only these cores (trace figures).
    public var region: String?
    /// "t0,t1": only these cycles (timeline, congestion).
    public var time: String?
    /// How blocks of cores are summarised (congestion, congestion-frames, memory); max by default.
    public var aggregate: BlockAggregate?
    /// Windows of congestion-frames (8 by default).
    public var panels: Int?
    /// Replaces the figure's own title.
    public var title: String?

    public init(width: Int = 1600, height: Int = 1000, region: String? = nil, time: String? = nil,
                aggregate: BlockAggregate? = nil, panels: Int? = nil, title: String? = nil) {
        self.width = width; self.height = height; self.region = region; self.time = time
        self.aggregate = aggregate; self.panels = panels; self.title = title
    }

    /// Parses "WxH" (e.g. "1600x1000") into the size.
    ///
    /// - Throws: `RenderError.badOption` for anything else or a side outside 64…16384.
    public mutating func setSize(_ text: String) throws {
        let p = text.lowercased().replacingOccurrences(of: "×", with: "x").split(separator: "x")
        guard p.count == 2, let w = Int(p[0]), let h = Int(p[1]), (64...16384).contains(w), (64...16384).contains(h) else {
            throw RenderError.badOption("bad --size '\(text)': expected WxH pixels, each 64…16384, e.g. 1600x1000")
        }
        width = w
        height = h
    }

    /// Parses "mean" or "max".
    ///
    /// - Throws: `RenderError.badOption` for anything else.
    public static func aggregate(named text: String) throws -> BlockAggregate {
        guard let a = BlockAggregate(rawValue: text.lowercased()) else {
            throw RenderError.badOption("bad --aggregate '\(text)': expected \(BlockAggregate.allCases.map(\.rawValue).joined(separator: " or "))")
        }
        return a
    }
}
