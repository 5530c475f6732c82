import WaferSpec

/// One directed link and how busy it was.
public struct LinkLoad: Hashable, Sendable, CustomStringConvertible {
    /// Link index, `core * 4 + direction`.
    public var link: Int
    /// Coordinates of the core the link leaves.
    public var x: Int
    public var y: Int
    public var direction: Direction
    /// Busy share of the window, in [0, 1].
    public var utilisation: Double

    public init(link: Int, x: Int, y: Int, direction: Direction, utilisation: Double) {
        self.link = link; self.x = x; self.y = y; self.direction = direction; self.utilisation = utilisation
    }

    /// "(3,4)→E 97%".
    public var description: String {
        "(\(x),\(y))→\(direction.letter) \(Int((utilisation * 100).rounded()))%"
    }
}
