/// A perceptually uniform sequential colour map: value 0 maps to `low`, 1 to `high`.
///
/// The tables hold 33 control points sampled evenly from matplotlib's 256-entry maps (by
/// Nathaniel Smith and Stéfan van der Walt, CC0); colours between control points are linear
/// interpolations in sRGB, which stays within a fraction of a percent of the full tables.
public struct ColorMap: Sendable, Hashable {
    public let name: String
    /// Control points evenly spaced over [0, 1].
    public let points: [RGB]

    public init(name: String, points: [RGB]) {
        precondition(points.count >= 2, "a colour map needs two control points")
        self.name = name
        self.points = points
    }

    /// The colour at `t`, clamped to [0, 1] (NaN maps to the low end).
    public func color(_ t: Double) -> RGB {
        guard t.isFinite, t > 0 else { return points[0] }
        if t >= 1 { return points[points.count - 1] }
        let x = t * Double(points.count - 1)
        let i = Int(x)
        return points[i].mixed(with: points[i + 1], x - Double(i))
    }

    /// The colour of the low end.
    public var low: RGB { points[0] }
    /// The colour of the high end.
    public var high: RGB { points[points.count - 1] }

    /// The position in [0, 1] whose colour is nearest to `c` (sampled at 1/1024), for tests and
    /// for reading a value back from a pixel.
    public func position(of c: RGB) -> Double {
        var best = 0.0, bestD = Double.infinity
        for i in 0...1024 {
            let t = Double(i) / 1024
            let d = color(t).distance2(c)
            if d < bestD { bestD = d; best = t }
        }
        return best
    }

    /// Dark purple through blue and green to yellow.
    public static let viridis = ColorMap(name: "viridis", points: [
        (0.267004, 0.004874, 0.329415), (0.277018, 0.050344, 0.375715), (0.282327, 0.094955, 0.417331),
        (0.282884, 0.135920, 0.453427), (0.278826, 0.175490, 0.483397), (0.270595, 0.214069, 0.507052),
        (0.258965, 0.251537, 0.524736), (0.244972, 0.287675, 0.537260), (0.229739, 0.322361, 0.545706),
        (0.214298, 0.355619, 0.551184), (0.199430, 0.387607, 0.554642), (0.185556, 0.418570, 0.556753),
        (0.172719, 0.448791, 0.557885), (0.160665, 0.478540, 0.558115), (0.149039, 0.508051, 0.557250),
        (0.137770, 0.537492, 0.554906), (0.127568, 0.566949, 0.550556), (0.121148, 0.592739, 0.544641),
        (0.120081, 0.622161, 0.534946), (0.130067, 0.651384, 0.521608), (0.153894, 0.680203, 0.504172),
        (0.191090, 0.708366, 0.482284), (0.239374, 0.735588, 0.455688), (0.296479, 0.761561, 0.424223),
        (0.360741, 0.785964, 0.387814), (0.430983, 0.808473, 0.346476), (0.506271, 0.828786, 0.300362),
        (0.585678, 0.846661, 0.249897), (0.668054, 0.861999, 0.196293), (0.751884, 0.874951, 0.143228),
        (0.835270, 0.886029, 0.102646), (0.916242, 0.896091, 0.100717), (0.993248, 0.906157, 0.143936),
    ].map { RGB($0.0, $0.1, $0.2) })

    /// Black through purple and orange to pale yellow.
    public static let magma = ColorMap(name: "magma", points: [
        (0.001462, 0.000466, 0.013866), (0.013708, 0.011771, 0.068667), (0.039608, 0.031090, 0.133515),
        (0.074257, 0.052017, 0.202660), (0.113094, 0.065492, 0.276784), (0.159018, 0.068354, 0.352688),
        (0.211718, 0.061992, 0.418647), (0.265447, 0.060237, 0.461840), (0.316654, 0.071690, 0.485380),
        (0.366012, 0.090314, 0.497960), (0.414709, 0.110431, 0.504662), (0.463508, 0.129893, 0.507652),
        (0.512831, 0.148179, 0.507648), (0.562866, 0.165368, 0.504692), (0.613617, 0.181811, 0.498536),
        (0.664915, 0.198075, 0.488836), (0.716387, 0.214982, 0.475290), (0.761077, 0.231214, 0.460162),
        (0.810855, 0.252861, 0.439305), (0.857763, 0.279857, 0.415496), (0.899552, 0.314616, 0.391037),
        (0.933606, 0.358764, 0.370541), (0.958464, 0.411324, 0.360014), (0.975082, 0.468861, 0.363111),
        (0.985693, 0.528148, 0.379371), (0.992196, 0.587502, 0.406299), (0.995810, 0.646344, 0.441361),
        (0.997254, 0.704611, 0.482635), (0.997019, 0.762398, 0.528821), (0.995424, 0.819875, 0.579140),
        (0.992831, 0.877168, 0.633109), (0.989815, 0.934329, 0.690198), (0.987053, 0.991438, 0.749504),
    ].map { RGB($0.0, $0.1, $0.2) })
}
