/// Font sizes and spacing of a figure, scaled to the canvas (1 at 1600 × 1000 px).
public struct Theme: Sendable {
    /// Multiplier of every size below.
    public let scale: Double

    public init(width: Int, height: Int) {
        scale = max(0.6, min(3, min(Double(width) / 1600, Double(height) / 1000)))
    }

    public var title: Double { 28 * scale }
    public var subtitle: Double { 17 * scale }
    public var axisTitle: Double { 17 * scale }
    public var tick: Double { 14 * scale }
    public var legend: Double { 15 * scale }
    public var note: Double { 14 * scale }
    /// Space around the figure.
    public var margin: Double { 28 * scale }
    /// Space between neighbouring elements.
    public var gap: Double { 10 * scale }
    public var tickLength: Double { 6 * scale }
    public var lineWidth: Double { max(1, 1.2 * scale) }
    public var seriesWidth: Double { max(1.5, 2.4 * scale) }
    public var markerSize: Double { 7 * scale }
}
