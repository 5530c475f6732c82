/// The hardware description of a wafer-scale mesh: the single source of truth for timing and capacity.
///
/// A `MeshSpec` is read by the engine (which *measures*) and by the PLMR model (which *predicts*);
/// neither may reach into the other, so everything both need about the hardware lives here.
///
/// Units: sizes in cores, times in cycles of `clockHz`, capacities in bytes. A wavelet is the
/// 32-bit unit a link moves; `linkBytesPerCycle` says how many payload bytes one directed link
/// moves per cycle (4 on the WSE: one wavelet per cycle per direction).
public struct MeshSpec: Codable, Hashable, Sendable {
    /// A short name for reports ("wse2", "wse2 64x64", "custom").
    public var name: String
    /// Cores along X (columns).
    public var width: Int
    /// Cores along Y (rows).
    public var height: Int
    /// Core clock in Hz; converts cycles to seconds.
    public var clockHz: Double
    /// SRAM per core in bytes (the PLMR-M budget).
    public var sramBytesPerCore: Int
    /// Payload bytes a directed link moves per cycle.
    public var linkBytesPerCycle: Int
    /// Payload bytes per cycle between a router and its own core, in each direction (the ramp).
    public var rampBytesPerCycle: Int
    /// α: cycles for a message head to cross one router-forwarded hop.
    public var hopLatencyCycles: Int
    /// β: cycles each time software on a core re-sends (relays) a message, beyond store-and-forward.
    public var relayLatencyCycles: Int
    /// R: distinct routing colours one router can hold.
    public var colorsPerCore: Int
    /// Multiply-accumulates per cycle per core (SIMD width at the device precision).
    public var macsPerCycle: Int
    /// Fixed cycles per operation a core issues (task activation, function call, DSD set-up).
    public var opOverheadCycles: Int
    /// Bytes per element on the device (2 for FP16); memory and message sizes count at this size.
    public var elementBytes: Int

    public init(
        name: String, width: Int, height: Int, clockHz: Double, sramBytesPerCore: Int,
        linkBytesPerCycle: Int, rampBytesPerCycle: Int, hopLatencyCycles: Int,
        relayLatencyCycles: Int, colorsPerCore: Int, macsPerCycle: Int, opOverheadCycles: Int,
        elementBytes: Int
    ) {
        self.name = name
        self.width = width
        self.height = height
        self.clockHz = clockHz
        self.sramBytesPerCore = sramBytesPerCore
        self.linkBytesPerCycle = linkBytesPerCycle
        self.rampBytesPerCycle = rampBytesPerCycle
        self.hopLatencyCycles = hopLatencyCycles
        self.relayLatencyCycles = relayLatencyCycles
        self.colorsPerCore = colorsPerCore
        self.macsPerCycle = macsPerCycle
        self.opOverheadCycles = opOverheadCycles
        self.elementBytes = elementBytes
    }

    /// Number of cores.
    public var coreCount: Int { width * height }

    /// Cycles a link is occupied by a message of `bytes` payload bytes (at least one).
    public func linkCycles(bytes: Int) -> Int {
        max(1, (bytes + linkBytesPerCycle - 1) / linkBytesPerCycle)
    }

    /// Cycles a ramp is occupied by a message of `bytes` payload bytes (at least one).
    public func rampCycles(bytes: Int) -> Int {
        max(1, (bytes + rampBytesPerCycle - 1) / rampBytesPerCycle)
    }

    /// Converts cycles to seconds at `clockHz`.
    public func seconds(cycles: Int) -> Double { Double(cycles) / clockHz }

    /// Checks every field; throws `SpecError` naming the first bad one.
    public func validate() throws {
        func positive(_ v: Int, _ field: String) throws {
            if v <= 0 { throw SpecError.invalid("\(field) must be positive, got \(v)") }
        }
        try positive(width, "width")
        try positive(height, "height")
        if !(clockHz > 0) || !clockHz.isFinite { throw SpecError.invalid("clockHz must be positive, got \(clockHz)") }
        try positive(sramBytesPerCore, "sramBytesPerCore")
        try positive(linkBytesPerCycle, "linkBytesPerCycle")
        try positive(rampBytesPerCycle, "rampBytesPerCycle")
        try positive(hopLatencyCycles, "hopLatencyCycles")
        if relayLatencyCycles < 0 { throw SpecError.invalid("relayLatencyCycles must not be negative, got \(relayLatencyCycles)") }
        try positive(colorsPerCore, "colorsPerCore")
        try positive(macsPerCycle, "macsPerCycle")
        if opOverheadCycles < 0 { throw SpecError.invalid("opOverheadCycles must not be negative, got \(opOverheadCycles)") }
        try positive(elementBytes, "elementBytes")
        if width > 1 << 15 || height > 1 << 15 {
            throw SpecError.invalid("mesh \(width)x\(height) is larger than 32768 cores on a side")
        }
    }

    /// A sub-grid of this fabric with the same per-core hardware.
    ///
    /// - Throws: `SpecError` when the sub-grid is empty or larger than the fabric.
    public func subgrid(width w: Int, height h: Int) throws -> MeshSpec {
        if w <= 0 || h <= 0 { throw SpecError.invalid("mesh \(w)x\(h) must have positive sides") }
        if w > width || h > height {
            throw SpecError.invalid("mesh \(w)x\(h) is larger than the \(name) fabric (\(width)x\(height))")
        }
        var s = self
        s.width = w
        s.height = h
        s.name = "\(presetBaseName) \(w)x\(h)"
        return s
    }

    private var presetBaseName: String {
        name.split(separator: " ").first.map(String.init) ?? name
    }
}

/// A spec that cannot be used, with a one-line reason.
public enum SpecError: Error, CustomStringConvertible, Equatable {
    case invalid(String)
    case unknownPreset(String)
    case badMeshArgument(String)

    public var description: String {
        switch self {
        case .invalid(let s): return "invalid mesh spec: \(s)"
        case .unknownPreset(let s): return "unknown preset '\(s)' (known: \(MeshSpec.presetNames.joined(separator: ", ")))"
        case .badMeshArgument(let s): return "bad --mesh value '\(s)': expected WxH with positive integers, e.g. 64x64"
        }
    }
}
