/// An opaque colour with components in [0, 1].
public struct RGB: Hashable, Sendable, CustomStringConvertible {
    public var r: Double
    public var g: Double
    public var b: Double

    public init(_ r: Double, _ g: Double, _ b: Double) { self.r = r; self.g = g; self.b = b }

    /// From 0xRRGGBB.
    public init(hex: UInt32) {
        self.init(Double((hex >> 16) & 0xff) / 255, Double((hex >> 8) & 0xff) / 255, Double(hex & 0xff) / 255)
    }

    /// `self` moved towards `other` by `t` in [0, 1] (linear in sRGB).
    public func mixed(with other: RGB, _ t: Double) -> RGB {
        RGB(r + (other.r - r) * t, g + (other.g - g) * t, b + (other.b - b) * t)
    }

    /// Squared Euclidean distance in RGB, for "closest colour" checks.
    public func distance2(_ o: RGB) -> Double {
        (r - o.r) * (r - o.r) + (g - o.g) * (g - o.g) + (b - o.b) * (b - o.b)
    }

    /// Packed as opaque native-endian ARGB32 (0xFFRRGGBB), as Cairo image surfaces store it.
    public var argb32: UInt32 {
        func c(_ v: Double) -> UInt32 { UInt32(max(0, min(255, (v * 255).rounded()))) }
        return 0xff00_0000 | c(r) << 16 | c(g) << 8 | c(b)
    }

    public var description: String {
        func h(_ v: Double) -> String {
            let s = String(Int(max(0, min(255, (v * 255).rounded()))), radix: 16)
            return s.count == 1 ? "0" + s : s
        }
        return "#" + h(r) + h(g) + h(b)
    }

    public static let white = RGB(1, 1, 1)
    public static let black = RGB(0, 0, 0)
}

/// The fixed colours figures share.
public enum Palette {
    /// Body text and axes.
    public static let ink = RGB(hex: 0x222222)
    /// Secondary text (subtitles, notes).
    public static let muted = RGB(hex: 0x5F6368)
    /// Grid lines.
    public static let grid = RGB(hex: 0xE3E3E3)
    /// Marks for violations and over-budget cores.
    public static let alarm = RGB(hex: 0xE8112D)

    /// Timeline: a core computing.
    public static let compute = RGB(hex: 0x2C7BB6)
    /// Timeline: a core's ramp injecting a message.
    public static let send = RGB(hex: 0x1A9850)
    /// Timeline: a core blocked in a receive.
    public static let wait = RGB(hex: 0xD7301F)
    /// Timeline: a core doing nothing.
    public static let idle = RGB(hex: 0xEDEDED)

    /// Ten categorical colours (Tableau 10), for kernels and algorithms.
    public static let categorical: [RGB] = [
        0x4E79A7, 0xF28E2B, 0xE15759, 0x76B7B2, 0x59A14F, 0xEDC948, 0xB07AA1, 0xFF9DA7, 0x9C755F, 0xBAB0AC,
    ].map { RGB(hex: $0) }

    /// The i-th categorical colour (cycling).
    public static func category(_ i: Int) -> RGB { categorical[i % categorical.count] }

    /// The colour of an activity category of a full-detail timeline.
    public static func activity(_ name: String) -> RGB {
        switch name {
        case "compute": return compute
        case "send": return send
        case "wait": return wait
        default: return idle
        }
    }
}
