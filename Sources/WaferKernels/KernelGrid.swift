import WaferSpec

/// A rectangle of cores a kernel runs on, with logical (row, column) coordinates.
///
/// Kernels address cores by logical position: row `i` in `0..<rows`, column `j` in `0..<cols`.
/// The physical core is at `(x0 + columnOrder[j], y0 + rowOrder[i])`; for ring kernels the orders
/// are the interleaved or plain rings, for everything else the identity.
public struct KernelGrid: Hashable, Sendable {
    public let x0: Int, y0: Int
    public let rows: Int, cols: Int
    public let geometry: MeshGeometry

    /// - Throws: `KernelError` when the grid does not fit the mesh.
    public init(geometry: MeshGeometry, x0: Int = 0, y0: Int = 0, rows: Int, cols: Int) throws {
        guard rows > 0, cols > 0 else { throw KernelError.shape("grid \(cols)x\(rows) must have positive sides") }
        guard x0 >= 0, y0 >= 0, x0 + cols <= geometry.width, y0 + rows <= geometry.height else {
            throw KernelError.shape("grid \(cols)x\(rows) at (\(x0),\(y0)) does not fit the \(geometry.width)x\(geometry.height) mesh")
        }
        self.geometry = geometry
        self.x0 = x0; self.y0 = y0; self.rows = rows; self.cols = cols
    }

    /// The whole mesh.
    public init(geometry: MeshGeometry) throws {
        try self.init(geometry: geometry, rows: geometry.height, cols: geometry.width)
    }

    /// Physical core at physical offsets (column `px`, row `py`) inside the grid.
    @inline(__always) public func core(px: Int, py: Int) -> Int { geometry.core(x: x0 + px, y: y0 + py) }

    /// Physical offsets of a core inside the grid, or nil when it lies outside.
    @inline(__always) public func offsets(of core: Int) -> (px: Int, py: Int)? {
        let px = geometry.x(of: core) - x0, py = geometry.y(of: core) - y0
        guard px >= 0, py >= 0, px < cols, py < rows else { return nil }
        return (px, py)
    }

    public var coreCount: Int { rows * cols }
}

/// Errors in a kernel's arguments.
public enum KernelError: Error, CustomStringConvertible {
    case shape(String)
    case unknown(String)

    public var description: String {
        switch self {
        case .shape(let s): return "bad kernel shape: \(s)"
        case .unknown(let s): return s
        }
    }
}

/// Ring orders laid on a line of cores.
public enum RingOrder {
    /// The interleaved ring: even positions ascending, then odd positions descending
    /// (n = 6: 0, 2, 4, 5, 3, 1). Neighbours in the ring are at most 2 hops apart.
    public static func interleaved(_ n: Int) -> [Int] {
        Array(stride(from: 0, to: n, by: 2)) + Array(stride(from: n % 2 == 0 ? n - 1 : n - 2, through: 1, by: -2))
    }

    /// The plain ring 0, 1, …, n − 1 (the wraparound crosses n − 1 hops).
    public static func plain(_ n: Int) -> [Int] { Array(0..<n) }

    /// The inverse permutation: `inverse(order)[position] = ring index`.
    public static func inverse(_ order: [Int]) -> [Int] {
        var inv = Array(repeating: 0, count: order.count)
        for (k, p) in order.enumerated() { inv[p] = k }
        return inv
    }
}

/// `⌈a / b⌉` for positive `b`.
@inline(__always) func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }
