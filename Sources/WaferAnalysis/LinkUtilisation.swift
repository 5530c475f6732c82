import WaferSpec
import WaferTrace

/// Per directed link, the share of a time window it carried wavelets: busy cycles / window length.
///
/// Over the whole run the values are exact (`LinkTotals.busyCycles` / makespan). Over a shorter
/// window they come from the trace's `LinkWindows`, whose frames have a fixed width: a frame that
/// the window only partly covers counts in proportion to the overlap (its busy cycles taken as
/// spread evenly over the frame), so a window is as sharp as the recorded frames.
public struct LinkUtilisation: Sendable {
    public let geometry: MeshGeometry
    /// The cycles the values are measured over.
    public let window: CycleWindow
    /// Utilisation in [0, 1] per link, indexed `core * 4 + direction`; 0 for links off the mesh.
    public let values: [Double]

    /// Wraps precomputed values (tests, synthetic maps).
    public init(geometry: MeshGeometry, window: CycleWindow, values: [Double]) {
        precondition(values.count == geometry.linkCount, "one value per link")
        self.geometry = geometry
        self.window = window
        self.values = values
    }

    /// Utilisation over the whole run, from the exact link totals.
    public init(trace: Trace) {
        let m = trace.summary.makespanCycles
        let scale = m > 0 ? 1 / Double(m) : 0
        self.init(geometry: trace.geometry, window: CycleWindow(start: 0, end: Int(max(m, 1))),
                  values: trace.linkTotals.busyCycles.map { min(1, Double($0) * scale) })
    }

    /// Utilisation over `window`, from the trace's per-window link counts.
    ///
    /// The window is clipped to the recorded frames.
    /// - Throws: `AnalysisError.noLinkWindows` for a summary trace, `.windowOutsideRun` when the
    ///   window starts after the last frame.
    public init(trace: Trace, window: CycleWindow) throws {
        guard let lw = trace.linkWindows, lw.windowCycles > 0 else { throw AnalysisError.noLinkWindows }
        let recorded = Int64(lw.frames.count) * lw.windowCycles
        let end = min(Int64(window.end), max(recorded, trace.summary.makespanCycles))
        guard Int64(window.start) < min(end, recorded) else {
            throw AnalysisError.windowOutsideRun(window, makespan: trace.summary.makespanCycles)
        }
        let g = trace.geometry
        var busy = [Double](repeating: 0, count: g.linkCount)
        let wc = lw.windowCycles
        let first = Int(Int64(window.start) / wc)
        let last = min(lw.frames.count - 1, Int((end - 1) / wc))
        for f in first...max(first, last) where f < lw.frames.count {
            let fs = Int64(f) * wc, fe = fs + wc
            let overlap = min(end, fe) - max(Int64(window.start), fs)
            guard overlap > 0 else { continue }
            let weight = Double(overlap) / Double(wc)
            let frame = lw.frames[f]
            for l in 0..<min(frame.count, busy.count) where frame[l] != 0 {
                busy[l] += Double(frame[l]) * weight
            }
        }
        let clipped = CycleWindow(start: window.start, end: Int(end))
        let len = Double(clipped.end - clipped.start)
        self.init(geometry: g, window: clipped, values: busy.map { min(1, $0 / len) })
    }

    /// Successive windows covering the run, for small multiples.
    ///
    /// Recorded frames are grouped evenly so there are at most `panels` windows; each window ends
    /// at a frame boundary (the last at the makespan).
    /// - Throws: `AnalysisError.noLinkWindows` for a summary trace, `.emptyRun` for an empty one.
    public static func frames(of trace: Trace, panels: Int) throws -> [LinkUtilisation] {
        guard let lw = trace.linkWindows, lw.windowCycles > 0 else { throw AnalysisError.noLinkWindows }
        let makespan = trace.summary.makespanCycles
        guard makespan > 0, !lw.frames.isEmpty else { throw AnalysisError.emptyRun }
        let used = max(1, min(lw.frames.count, Int((makespan + lw.windowCycles - 1) / lw.windowCycles)))
        let group = (used + max(1, panels) - 1) / max(1, panels)
        var out: [LinkUtilisation] = []
        var f = 0
        while f < used {
            let start = Int64(f) * lw.windowCycles
            let end = min(Int64(f + group) * lw.windowCycles, makespan)
            if end > start {
                out.append(try LinkUtilisation(trace: trace, window: CycleWindow(start: Int(start), end: Int(end))))
            }
            f += group
        }
        return out
    }

    /// The utilisation of the link leaving (x, y) in direction `d`.
    public func utilisation(x: Int, y: Int, _ d: Direction) -> Double {
        values[geometry.link(from: geometry.core(x: x, y: y), d)]
    }

    /// The largest utilisation of any link.
    public var maximum: Double { values.max() ?? 0 }

    /// The `count` busiest links leaving cores of `region` (the whole mesh by default), busiest
    /// first; ties go to the lower link index. Idle links are never listed.
    ///
    /// - Complexity: O(links × count) worst case, O(links) when few links are busy.
    public func hottest(_ count: Int, in region: CoreRegion? = nil) -> [LinkLoad] {
        guard count > 0 else { return [] }
        var top: [(u: Double, link: Int)] = []
        for (l, u) in values.enumerated() where u > 0 {
            if top.count == count, u <= top[top.count - 1].u { continue }
            if let r = region {
                let c = geometry.source(ofLink: l)
                guard r.contains(x: geometry.x(of: c), y: geometry.y(of: c)) else { continue }
            }
            var i = top.count
            while i > 0, top[i - 1].u < u { i -= 1 }
            top.insert((u, l), at: i)
            if top.count > count { top.removeLast() }
        }
        return top.map { t in
            let c = geometry.source(ofLink: t.link)
            return LinkLoad(link: t.link, x: geometry.x(of: c), y: geometry.y(of: c),
                            direction: geometry.direction(ofLink: t.link), utilisation: t.u)
        }
    }
}
