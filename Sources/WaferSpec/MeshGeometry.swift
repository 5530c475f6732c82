import Foundation

/// A direction a router can forward a message in. Raw values index a core's four outgoing links.
public enum Direction: Int, CaseIterable, Sendable, Codable {
    /// +x
    case east = 0
    /// −x
    case west = 1
    /// −y (towards row 0)
    case north = 2
    /// +y
    case south = 3

    /// The opposite direction.
    public var opposite: Direction {
        switch self {
        case .east: return .west
        case .west: return .east
        case .north: return .south
        case .south: return .north
        }
    }

    /// One-letter name used in reports ("E", "W", "N", "S").
    public var letter: String { ["E", "W", "N", "S"][rawValue] }

    /// Unit step (dx, dy).
    public var step: (dx: Int, dy: Int) {
        switch self {
        case .east: return (1, 0)
        case .west: return (-1, 0)
        case .north: return (0, -1)
        case .south: return (0, 1)
        }
    }
}

/// Index arithmetic shared by the engine, the trace and the renderers.
///
/// Cores are numbered row-major: `core = y * width + x`. Directed link `core * 4 + d` leaves
/// `core` in direction `d`; links that would leave the mesh exist in the numbering but never
/// carry traffic.
public struct MeshGeometry: Hashable, Sendable {
    public let width: Int
    public let height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    public init(_ spec: MeshSpec) { self.init(width: spec.width, height: spec.height) }

    public var coreCount: Int { width * height }
    public var linkCount: Int { coreCount * 4 }

    @inline(__always) public func core(x: Int, y: Int) -> Int { y &* width &+ x }
    @inline(__always) public func x(of core: Int) -> Int { core % width }
    @inline(__always) public func y(of core: Int) -> Int { core / width }
    @inline(__always) public func link(from core: Int, _ d: Direction) -> Int { core &* 4 &+ d.rawValue }
    @inline(__always) public func source(ofLink link: Int) -> Int { link >> 2 }
    @inline(__always) public func direction(ofLink link: Int) -> Direction { Direction(rawValue: link & 3)! }

    /// The neighbour of `core` in direction `d`, or nil at the mesh edge.
    public func neighbour(of core: Int, _ d: Direction) -> Int? {
        let x = x(of: core) + d.step.dx, y = y(of: core) + d.step.dy
        guard x >= 0, y >= 0, x < width, y < height else { return nil }
        return self.core(x: x, y: y)
    }

    /// Whether link `link` connects two cores (is not off the edge).
    public func isInternal(link: Int) -> Bool {
        neighbour(of: source(ofLink: link), direction(ofLink: link)) != nil
    }

    /// Manhattan distance between two cores.
    public func distance(_ a: Int, _ b: Int) -> Int {
        abs(x(of: a) - x(of: b)) + abs(y(of: a) - y(of: b))
    }
}

/// An axis-aligned rectangle of cores, inclusive bounds.
public struct CoreRegion: Hashable, Sendable, Codable {
    public var x0: Int, y0: Int, x1: Int, y1: Int

    public init(x0: Int, y0: Int, x1: Int, y1: Int) {
        self.x0 = min(x0, x1); self.y0 = min(y0, y1)
        self.x1 = max(x0, x1); self.y1 = max(y0, y1)
    }

    /// The whole mesh.
    public static func all(_ g: MeshGeometry) -> CoreRegion {
        CoreRegion(x0: 0, y0: 0, x1: g.width - 1, y1: g.height - 1)
    }

    public var width: Int { x1 - x0 + 1 }
    public var height: Int { y1 - y0 + 1 }

    public func contains(x: Int, y: Int) -> Bool { x >= x0 && x <= x1 && y >= y0 && y <= y1 }

    /// Parses "x0,y0,x1,y1" and checks it lies inside `g`.
    public static func parse(_ text: String, in g: MeshGeometry) throws -> CoreRegion {
        let p = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard p.count == 4, let a = p[0], let b = p[1], let c = p[2], let d = p[3] else {
            throw SpecError.invalid("region '\(text)' must be x0,y0,x1,y1")
        }
        let r = CoreRegion(x0: a, y0: b, x1: c, y1: d)
        guard r.x0 >= 0, r.y0 >= 0, r.x1 < g.width, r.y1 < g.height else {
            throw SpecError.invalid("region '\(text)' lies outside the \(g.width)x\(g.height) mesh")
        }
        return r
    }
}

/// A half-open window of cycles `[start, end)`.
public struct CycleWindow: Hashable, Sendable, Codable {
    public var start: Int
    public var end: Int

    public init(start: Int, end: Int) { self.start = start; self.end = end }

    public func overlaps(_ s: Int, _ e: Int) -> Bool { s < end && e > start }

    /// Parses "t0,t1" (cycles).
    public static func parse(_ text: String) throws -> CycleWindow {
        let p = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard p.count == 2, let a = p[0], let b = p[1], a >= 0, b > a else {
            throw SpecError.invalid("time window '\(text)' must be t0,t1 cycles with 0 <= t0 < t1")
        }
        return CycleWindow(start: a, end: b)
    }
}
