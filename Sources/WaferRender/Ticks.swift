import Foundation

/// Tick positions for axes and colour bars: 1-2-5 steps on linear scales, decades on log scales.
public enum Ticks {
    /// Ticks at multiples of a 1-2-5 step covering [lo, hi], at most about `maxCount` of them.
    ///
    /// The step is the smallest of 1, 2, 5 × 10^k giving no more than `maxCount` ticks inside
    /// the range; ticks outside [lo, hi] are dropped.
    public static func linear(_ lo: Double, _ hi: Double, maxCount: Int) -> [Double] {
        guard lo.isFinite, hi.isFinite, hi > lo else { return lo.isFinite ? [lo] : [] }
        let step = linearStep(lo, hi, maxCount: maxCount)
        let first = (lo / step - 1e-9).rounded(.up)
        let last = (hi / step + 1e-9).rounded(.down)
        guard last >= first else { return [] }
        // Divide by the (integer) inverse of sub-unit steps so 0.1 × 3 comes out as 0.3.
        let inverse = step < 1 ? (1 / step).rounded() : 0
        return stride(from: first, through: last, by: 1).map { k in
            k == 0 ? 0 : inverse > 0 ? k / inverse : k * step
        }
    }

    /// The 1-2-5 step `linear` uses.
    public static func linearStep(_ lo: Double, _ hi: Double, maxCount: Int) -> Double {
        let span = hi - lo
        let target = span / Double(max(1, maxCount))
        var mag = pow(10, (log10(target)).rounded(.down))
        while true {
            for m in [1.0, 2, 5] {
                let step = m * mag
                if (hi / step + 1e-9).rounded(.down) - (lo / step - 1e-9).rounded(.up) + 1 <= Double(max(1, maxCount)) { return step }
            }
            mag *= 10
        }
    }

    /// Major ticks for a log scale over [lo, hi] (both > 0): powers of ten, every k-th decade
    /// when there are more than `maxCount`; with fewer than three decades, also 2 and 5 times
    /// each power. `minor` holds 2…9 × each power (empty when decades are skipped).
    public static func log(_ lo: Double, _ hi: Double, maxCount: Int) -> (major: [Double], minor: [Double]) {
        guard lo > 0, hi > lo, lo.isFinite, hi.isFinite else { return ([], []) }
        let e0 = Int(log10(lo).rounded(.down)), e1 = Int(log10(hi).rounded(.up))
        let decades = e1 - e0
        let inRange = { (v: Double) in v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9) }
        var major: [Double] = [], minor: [Double] = []
        let every = max(1, Int((Double(decades) / Double(max(1, maxCount))).rounded(.up)))
        for e in e0...e1 {
            let p = pow(10, Double(e))
            if e % every == 0, inRange(p) { major.append(p) }
            if every == 1 { for m in 2...9 where inRange(Double(m) * p) { minor.append(Double(m) * p) } }
        }
        if major.count < 3, decades <= 3 {
            var fine: [Double] = []
            for e in e0...e1 {
                for m in [1.0, 2, 5] where inRange(m * pow(10, Double(e))) { fine.append(m * pow(10, Double(e))) }
            }
            if fine.count <= max(2, maxCount) {
                major = fine
                minor = minor.filter { m in !fine.contains { abs($0 - m) <= m * 1e-9 } }
            }
        }
        return (major, minor)
    }

    /// The smallest round number at or above `v` (> 0): 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a
    /// power of ten; 1 for v ≤ 0. Colour scales end there, so the top colour is reached.
    public static func niceCeil(_ v: Double) -> Double {
        guard v > 0, v.isFinite else { return 1 }
        let e = log10(v).rounded(.down)
        let scaled = { (m: Double) in e < 0 ? m / pow(10, -e) : m * pow(10, e) }
        for m in [1.0, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10] where scaled(m) >= v * (1 - 1e-12) { return scaled(m) }
        return scaled(10)
    }
}

/// Number formatting for tick labels and annotations.
public enum NumberFormat {
    /// `v` with `decimals` digits after the point and thin-space-free thousands separators ("12,345").
    public static func grouped(_ v: Double, decimals: Int = 0) -> String {
        let neg = v < 0
        let scaled = (abs(v) * pow(10, Double(decimals))).rounded()
        let intPart = Int((scaled / pow(10, Double(decimals))).rounded(.down))
        var s = String(intPart)
        var out = ""
        for (i, ch) in s.reversed().enumerated() {
            if i > 0, i % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        s = String(out.reversed())
        if decimals > 0 {
            let frac = Int(scaled) - intPart * Int(pow(10, Double(decimals)))
            var f = String(frac)
            while f.count < decimals { f = "0" + f }
            s += "." + f
        }
        return (neg && scaled != 0 ? "-" : "") + s
    }

    /// A tick label for a linear axis whose ticks are `step` apart: grouped digits, with just
    /// enough decimals.
    public static func tick(_ v: Double, step: Double) -> String {
        var d = 0
        var s = step
        while d < 6, abs(s - s.rounded()) > 1e-9 * max(1, abs(s)) { s *= 10; d += 1 }
        return grouped(v, decimals: d)
    }

    /// A compact label with an SI suffix: 950, 1.2k, 15k, 3M, 1G.
    public static func si(_ v: Double) -> String {
        let a = abs(v)
        let (div, suffix): (Double, String) =
            a >= 1e9 ? (1e9, "G") : a >= 1e6 ? (1e6, "M") : a >= 1e3 ? (1e3, "k") : (1, "")
        let x = v / div
        let text: String
        if abs(x) >= 100 || x == x.rounded() { text = String(Int(x.rounded())) } else if abs(x) >= 10 {
            text = String(format: "%.1f", x)
        } else {
            text = String(format: "%.2g", x)
        }
        return text + suffix
    }

    /// A cycle count with its duration at `clockHz`: "12,345 cycles (11.2 µs)".
    public static func cycles(_ c: Int64, clockHz: Double) -> String {
        "\(grouped(Double(c))) cycles (\(duration(seconds: Double(c) / clockHz)))"
    }

    /// A duration in s, ms, µs or ns with three significant digits.
    public static func duration(seconds s: Double) -> String {
        let (v, u): (Double, String) = s >= 1 ? (s, "s") : s >= 1e-3 ? (s * 1e3, "ms") : s >= 1e-6 ? (s * 1e6, "µs") : (s * 1e9, "ns")
        return String(format: v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v) + " " + u
    }

    /// A clock frequency: "1.1 GHz", "800 MHz".
    public static func frequency(_ hz: Double) -> String {
        let (v, u): (Double, String) = hz >= 1e9 ? (hz / 1e9, "GHz") : hz >= 1e6 ? (hz / 1e6, "MHz") : hz >= 1e3 ? (hz / 1e3, "kHz") : (hz, "Hz")
        let text = v == v.rounded() ? String(Int(v)) : String(format: "%.3g", v)
        return text + " " + u
    }

    /// Bytes as KB (1024) with one decimal when below 100.
    public static func kilobytes(_ bytes: Double) -> String {
        let kb = bytes / 1024
        return kb >= 100 || kb == kb.rounded() ? "\(Int(kb.rounded())) KB" : String(format: "%.1f KB", kb)
    }

    /// A fraction in [0, 1] as a whole percentage ("97%"), or one decimal below 10 %.
    public static func percent(_ f: Double) -> String {
        let p = f * 100
        return p >= 9.95 || p == p.rounded() ? "\(Int(p.rounded()))%" : String(format: "%.1f%%", p)
    }
}
