import WaferSpec

/// One straight stretch of a route.
public struct RouteLeg: Hashable, Sendable {
    public var direction: Direction
    /// Hops along `direction` (at least 1).
    public var hops: Int
    /// Deliver a copy to every core this leg enters (router multicast), not only at the route's end.
    public var deliverAlong: Bool
    /// The core at this leg's end stores the message and software re-sends it on the next leg
    /// (a relay: store-and-forward plus β).
    public var relayAtEnd: Bool

    public init(_ direction: Direction, _ hops: Int, deliverAlong: Bool = false, relayAtEnd: Bool = false) {
        self.direction = direction; self.hops = hops
        self.deliverAlong = deliverAlong; self.relayAtEnd = relayAtEnd
    }
}

/// Errors in a program's use of the mesh (not PLMR violations: those are measurements).
public enum MeshError: Error, CustomStringConvertible {
    case badRoute(String)
    case badProgram(String)
    case deadlock(String)
    case violation(String)

    public var description: String {
        switch self {
        case .badRoute(let s): return "bad route: \(s)"
        case .badProgram(let s): return "bad program: \(s)"
        case .deadlock(let s): return "deadlock: \(s)"
        case .violation(let s): return s
        }
    }
}

/// Every route a program declared, flattened for the hot path.
///
/// A route has a colour, a source core and legs; the engine moves messages leg by leg. Routes are
/// declared before a run, as kernels on a WSE configure router colours before they start.
struct RouteTable {
    let geometry: MeshGeometry
    private(set) var source: [Int32] = []
    private(set) var colour: [Int32] = []
    private(set) var firstLeg: [Int32] = []
    private(set) var legEnd: [Int32] = []
    private(set) var destination: [Int32] = []
    private(set) var legDirection: [UInt8] = []
    private(set) var legHops: [Int32] = []
    private(set) var legFlags: [UInt8] = []   // 1: deliverAlong, 2: relayAtEnd
    /// (core << 24 | colour) for every core each route touches; reduced per core at run time.
    private(set) var touches: [UInt64] = []
    private(set) var countedTouches = 0

    init(geometry: MeshGeometry) { self.geometry = geometry }

    var count: Int { source.count }

    /// Declares a route and returns its id.
    ///
    /// - Throws: `MeshError.badRoute` when a leg is empty or leaves the mesh, or the colour is negative.
    mutating func declare(source src: Int, colour c: Int, legs: [RouteLeg]) throws -> Int32 {
        guard src >= 0, src < geometry.coreCount else { throw MeshError.badRoute("source core \(src) outside the mesh") }
        guard c >= 0, c < 1 << 24 else { throw MeshError.badRoute("colour \(c) out of range") }
        guard !legs.isEmpty else { throw MeshError.badRoute("route from core \(src) has no legs") }
        var x = geometry.x(of: src), y = geometry.y(of: src)
        var touched: [Int] = [src]
        for (i, leg) in legs.enumerated() {
            guard leg.hops >= 1 else { throw MeshError.badRoute("leg \(i) of the route from core \(src) has \(leg.hops) hops") }
            if leg.relayAtEnd && i == legs.count - 1 { throw MeshError.badRoute("the last leg cannot end in a relay") }
            for _ in 0..<leg.hops {
                x += leg.direction.step.dx; y += leg.direction.step.dy
                guard x >= 0, y >= 0, x < geometry.width, y < geometry.height else {
                    throw MeshError.badRoute("route from (\(geometry.x(of: src)),\(geometry.y(of: src))) leaves the \(geometry.width)x\(geometry.height) mesh")
                }
                touched.append(geometry.core(x: x, y: y))
            }
        }
        let id = Int32(source.count)
        source.append(Int32(src))
        colour.append(Int32(c))
        firstLeg.append(Int32(legDirection.count))
        for leg in legs {
            legDirection.append(UInt8(leg.direction.rawValue))
            legHops.append(Int32(leg.hops))
            legFlags.append((leg.deliverAlong ? 1 : 0) | (leg.relayAtEnd ? 2 : 0))
        }
        legEnd.append(Int32(legDirection.count))
        destination.append(Int32(geometry.core(x: x, y: y)))
        for t in touched { touches.append(UInt64(t) << 24 | UInt64(c)) }
        return id
    }

    /// The dimension-ordered route (X first, then Y) from `src` to `dst`.
    mutating func declareXY(from src: Int, to dst: Int, colour c: Int) throws -> Int32 {
        try declare(source: src, colour: c, legs: Self.xyLegs(geometry, from: src, to: dst))
    }

    static func xyLegs(_ g: MeshGeometry, from src: Int, to dst: Int) -> [RouteLeg] {
        let dx = g.x(of: dst) - g.x(of: src), dy = g.y(of: dst) - g.y(of: src)
        var legs: [RouteLeg] = []
        if dx != 0 { legs.append(RouteLeg(dx > 0 ? .east : .west, abs(dx))) }
        if dy != 0 { legs.append(RouteLeg(dy > 0 ? .south : .north, abs(dy))) }
        return legs
    }

    /// Distinct colours each core's routes need, and the colours of the worst cores.
    ///
    /// - Complexity: O(T log T) for T route-core touches.
    func coloursPerCore() -> (counts: [Int32], coloursOf: (Int) -> [Int]) {
        var counts = Array(repeating: Int32(0), count: geometry.coreCount)
        let sorted = touches.sorted()
        var prev: UInt64 = .max
        for t in sorted where t != prev {
            counts[Int(t >> 24)] += 1
            prev = t
        }
        let lookup: (Int) -> [Int] = { core in
            var out: [Int] = []
            var last = -1
            for t in sorted where Int(t >> 24) == core {
                let c = Int(t & 0xFF_FFFF)
                if c != last { out.append(c); last = c }
            }
            return out
        }
        return (counts, lookup)
    }
}
