import Foundation
import WaferSpec

/// What the model predicts for one kernel invocation: cycles with their breakdown, and PLMR
/// compliance (memory, routes, hops) with a verdict per property.
public struct KernelPrediction: Hashable, Sendable {
    /// Kernel family: "gemm", "gemv", "allreduce", "broadcast".
    public var kernel: String
    /// Algorithm: "meshgemm", "cannon", "summa", "gemmt", "ktree", "pipeline", "ring".
    public var algorithm: String
    /// Predicted cycles from the first core's start to the last core's end.
    public var cycles: Int
    /// The critical path split by what spends its cycles (sums to `cycles`).
    public var breakdown: CostPath
    /// Steps of the kernel's main loop (1 for a single collective).
    public var steps: Int
    /// Critical-path cycles of one steady-state step (0 when the kernel has no repeated step).
    public var stepCycles: Int
    /// Whether one steady-state step is bound by "compute" (local work and its op overheads) or
    /// "communication" (a message chain), as the model sees it.
    public var stepBound: String
    /// Memory, routes and distances per core.
    public var compliance: Compliance
    /// Caveats: regimes the formula does not cover for this invocation.
    public var notes: [String]

    /// ⌈MACs / macsPerCycle⌉ on the critical path.
    public var computeCycles: Int { breakdown.compute }
    /// Hop latency plus serialisation on the critical path.
    public var communicationCycles: Int { breakdown.communication }
    /// Fixed per-op overheads on the critical path.
    public var overheadCycles: Int { breakdown.overhead }

    /// The largest of the three terms: "compute", "communication" or "overhead".
    public var dominantTerm: String {
        let terms = [("compute", computeCycles), ("communication", communicationCycles), ("overhead", overheadCycles)]
        return terms.max { $0.1 < $1.1 }!.0
    }

    /// The dominant term with its share of the cycles, e.g. "compute 71%".
    public var dominantShare: String {
        let v: Int
        switch dominantTerm {
        case "compute": v = computeCycles
        case "communication": v = communicationCycles
        default: v = overheadCycles
        }
        return "\(dominantTerm) \(cycles > 0 ? Int((100 * Double(v) / Double(cycles)).rounded()) : 0)%"
    }

    /// Peak SRAM bytes per core (nil when the kernel's buffers belong to its caller).
    public var peakSramBytes: Int? { compliance.peakSramBytes }
    /// Distinct routing colours at the busiest core.
    public var coloursPerCore: Int { compliance.coloursPerCore }
    /// The longest route in hops.
    public var maxHops: Int { compliance.maxHops }
    /// One line per PLMR property.
    public var verdicts: [String] { compliance.verdicts }
}

/// The PLMR properties of a kernel on a grid: parallelism, latency (hops, relays), memory and routes.
public struct Compliance: Hashable, Sendable {
    /// Cores that do work, and cores of the grid the kernel was given.
    public var coresUsed: Int
    public var coresInGrid: Int
    /// The longest route in hops, and software relays on the longest path.
    public var maxHops: Int
    public var maxRelays: Int
    /// Peak bytes allocated per core (nil: the kernel allocates nothing of its own).
    public var peakSramBytes: Int?
    public var sramBytesPerCore: Int
    /// Distinct colours of the routes touching the busiest core.
    public var coloursPerCore: Int
    public var colourLimit: Int

    /// Whether the peak allocation fits in a core's SRAM.
    public var memoryFits: Bool { (peakSramBytes ?? 0) <= sramBytesPerCore }
    /// Whether the colours fit in a router.
    public var routesFit: Bool { coloursPerCore <= colourLimit }

    /// "P: …", "L: …", "M: …", "R: …", each ending in "ok" or "VIOLATED" where a budget applies.
    public var verdicts: [String] {
        let pct = coresInGrid > 0 ? 100 * Double(coresUsed) / Double(coresInGrid) : 0
        var v = [String(format: "P: %d of %d cores work (%.0f%%)", coresUsed, coresInGrid, pct)]
        v.append("L: max \(maxHops) hop\(maxHops == 1 ? "" : "s"), \(maxRelays) relay\(maxRelays == 1 ? "" : "s")")
        if let b = peakSramBytes {
            v.append(String(format: "M: %.1f KB of %.1f KB %@", Double(b) / 1024, Double(sramBytesPerCore) / 1024,
                            memoryFits ? "ok" : "VIOLATED"))
        } else {
            v.append("M: no buffers of its own")
        }
        v.append("R: \(coloursPerCore) of \(colourLimit) colours \(routesFit ? "ok" : "VIOLATED")")
        return v
    }
}
