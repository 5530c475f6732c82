import WaferSpec

/// A synthetic communication workload that exercises contention.
///
/// Every core sends one message of `bytes` at cycle 0 on dimension-ordered routes, and receives
/// whatever is addressed to it:
/// - `neighbor`: to its east neighbour (the last column wraps to the first, crossing the row);
/// - `transpose`: from (x, y) to (y, x) (diagonal cores, and cores whose mirror lies outside a
///   non-square mesh, send nothing);
/// - `hotspot`: to the centre core (W/2, H/2), which sends nothing.
public enum CommPattern: String, CaseIterable, Sendable {
    case neighbor, transpose, hotspot

    /// The destination of `core`'s message, or nil when it sends none.
    public func destination(of core: Int, in g: MeshGeometry) -> Int? {
        let x = g.x(of: core), y = g.y(of: core)
        switch self {
        case .neighbor:
            guard g.width > 1 else { return nil }
            return g.core(x: (x + 1) % g.width, y: y)
        case .transpose:
            guard x != y, y < g.width, x < g.height else { return nil }
            return g.core(x: y, y: x)
        case .hotspot:
            let centre = g.core(x: g.width / 2, y: g.height / 2)
            return core == centre ? nil : centre
        }
    }
}

/// The program that runs a `CommPattern`: one send per core, then one receive per expected message.
public struct CommProgram: MeshProgram {
    let routeOf: [Int32]
    let receives: [Int32]
    let bytes: Int

    /// Declares the pattern's routes on `engine` (all on colour 0).
    public init(pattern: CommPattern, bytes: Int, engine: MeshEngine) throws {
        let g = engine.geometry
        var routeOf = Array(repeating: Int32(-1), count: g.coreCount)
        var receives = Array(repeating: Int32(0), count: g.coreCount)
        for c in 0..<g.coreCount {
            guard let d = pattern.destination(of: c, in: g) else { continue }
            routeOf[c] = try engine.routeXY(from: c, to: d, colour: 0)
            receives[d] += 1
        }
        self.routeOf = routeOf
        self.receives = receives
        self.bytes = bytes
    }

    public func op(core: Int, pc: Int) -> MeshOp? {
        var pc = pc
        if routeOf[core] >= 0 {
            if pc == 0 { return .send(route: routeOf[core], bytes: bytes, buffer: -1) }
            pc -= 1
        }
        return pc < Int(receives[core]) ? .recv(colour: 0, buffer: -1) : nil
    }
}
