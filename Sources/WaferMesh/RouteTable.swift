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

/// A declared route, flattened for the hot path.
struct RouteEntry {
    var source: Int32
    var colour: Int32
    var firstLeg: Int32
    /// One past the last leg.
    var legEnd: Int32
    var destination: Int32
    /// Hops of the first leg and its `LegEntry.info` (a send reads them with the rest of the entry).
    var firstHops: Int32
    var firstInfo: Int32
}

/// A leg, flattened: direction, hops and flags (1: deliverAlong, 2: relayAtEnd).
struct LegEntry {
    var hops: Int32
    var direction: UInt8
    var flags: UInt8

    /// Direction and flags packed as `MessageState.legInfo`.
    @inline(__always) var info: Int32 { Int32(direction) | Int32(flags) << 8 }
}

/// Every route a program declared.
///
/// A route has a colour, a source core and legs; the engine moves messages leg by leg. Routes are
/// declared before a run, as kernels on a WSE configure router colours before they start. The
/// colours each core's routes need (PLMR-R) are kept as they are declared: a 64-bit mask per
/// core for colours below 64, a sparse set for the rest.
final class RouteTable {
    let geometry: MeshGeometry
    private(set) var routes = RawVec<RouteEntry>(capacity: 256)
    private(set) var legs = RawVec<LegEntry>(capacity: 256)
    /// Bit `c` of `colourMask[core]`: some route on colour `c` (< 64) touches `core`.
    private let colourMask: RawArray<UInt64>
    /// Colours ≥ 64 touching each core (rare).
    private var wideColours: [Int32: Set<Int32>] = [:]
    /// Some declared route has a leg ending in a relay.
    private(set) var hasRelays = false
    /// Routes were declared since the last `coloursChecked()`.
    private(set) var coloursChanged = false

    init(geometry: MeshGeometry) {
        self.geometry = geometry
        colourMask = RawArray(repeating: 0, count: geometry.coreCount)
    }

    /// Bytes of the per-core colour masks.
    var colourMaskBytes: Int { colourMask.allocatedBytes }

    deinit {
        routes.free()
        legs.free()
        colourMask.free()
    }

    var count: Int { routes.count }

    /// Bytes the table holds (routes, legs, colour masks).
    var allocatedBytes: Int {
        routes.allocatedBytes + legs.allocatedBytes + colourMask.allocatedBytes + wideColours.count * 64
    }

    @inline(__always) func source(_ r: Int) -> Int32 { routes[r].source }
    @inline(__always) func destination(_ r: Int) -> Int32 { routes[r].destination }
    @inline(__always) func colour(_ r: Int) -> Int32 { routes[r].colour }

    /// Declares a route and returns its id.
    ///
    /// - Throws: `MeshError.badRoute` when a leg is empty or leaves the mesh, or the colour is negative.
    func declare(source src: Int, colour c: Int, legs newLegs: [RouteLeg]) throws -> Int32 {
        guard src >= 0, src < geometry.coreCount else { throw MeshError.badRoute("source core \(src) outside the mesh") }
        guard c >= 0, c < 1 << 24 else { throw MeshError.badRoute("colour \(c) out of range") }
        guard !newLegs.isEmpty else { throw MeshError.badRoute("route from core \(src) has no legs") }
        var x = geometry.x(of: src), y = geometry.y(of: src)
        for (i, leg) in newLegs.enumerated() {
            guard leg.hops >= 1 else { throw MeshError.badRoute("leg \(i) of the route from core \(src) has \(leg.hops) hops") }
            if leg.relayAtEnd && i == newLegs.count - 1 { throw MeshError.badRoute("the last leg cannot end in a relay") }
            let step = leg.direction.step
            let ex = x + step.dx * leg.hops, ey = y + step.dy * leg.hops
            guard ex >= 0, ey >= 0, ex < geometry.width, ey < geometry.height else {
                throw MeshError.badRoute("route from (\(geometry.x(of: src)),\(geometry.y(of: src))) leaves the \(geometry.width)x\(geometry.height) mesh")
            }
            x = ex; y = ey
        }
        // Valid: record the colour on every core touched (the source and each core entered).
        touch(src, colour: c)
        x = geometry.x(of: src); y = geometry.y(of: src)
        for leg in newLegs {
            let step = leg.direction.step
            for _ in 0..<leg.hops {
                x += step.dx; y += step.dy
                touch(geometry.core(x: x, y: y), colour: c)
            }
        }
        if newLegs.contains(where: { $0.relayAtEnd }) { hasRelays = true }
        let id = Int32(routes.count)
        let first = Int32(legs.count)
        for leg in newLegs {
            legs.append(LegEntry(hops: Int32(leg.hops), direction: UInt8(leg.direction.rawValue),
                                 flags: (leg.deliverAlong ? 1 : 0) | (leg.relayAtEnd ? 2 : 0)))
        }
        routes.append(RouteEntry(source: Int32(src), colour: Int32(c), firstLeg: first, legEnd: Int32(legs.count),
                                 destination: Int32(geometry.core(x: x, y: y)), firstHops: Int32(newLegs[0].hops),
                                 firstInfo: legs[Int(first)].info))
        coloursChanged = true
        return id
    }

    @inline(__always) private func touch(_ core: Int, colour c: Int) {
        if c < 64 { colourMask[core] |= 1 << UInt64(c) } else { wideColours[Int32(core), default: []].insert(Int32(c)) }
    }

    /// The dimension-ordered route (X first, then Y) from `src` to `dst`.
    func declareXY(from src: Int, to dst: Int, colour c: Int) throws -> Int32 {
        try declare(source: src, colour: c, legs: Self.xyLegs(geometry, from: src, to: dst))
    }

    static func xyLegs(_ g: MeshGeometry, from src: Int, to dst: Int) -> [RouteLeg] {
        let dx = g.x(of: dst) - g.x(of: src), dy = g.y(of: dst) - g.y(of: src)
        var legs: [RouteLeg] = []
        if dx != 0 { legs.append(RouteLeg(dx > 0 ? .east : .west, abs(dx))) }
        if dy != 0 { legs.append(RouteLeg(dy > 0 ? .south : .north, abs(dy))) }
        return legs
    }

    /// Marks the colours as checked (the engine checks them before a run when routes changed).
    func coloursChecked() { coloursChanged = false }

    /// Distinct colours the routes touching `core` need.
    ///
    /// - Complexity: O(1) (plus the colours ≥ 64 of the core).
    @inline(__always) func colourCount(core: Int) -> Int32 {
        var n = Int32(colourMask[core].nonzeroBitCount)
        if !wideColours.isEmpty, let w = wideColours[Int32(core)] { n += Int32(w.count) }
        return n
    }

    /// The distinct colours touching `core`, ascending.
    func colours(core: Int) -> [Int] {
        var out: [Int] = []
        var m = colourMask[core]
        while m != 0 {
            out.append(m.trailingZeroBitCount)
            m &= m - 1
        }
        if let w = wideColours[Int32(core)] { out += w.sorted().map { Int($0) } }
        return out
    }
}
