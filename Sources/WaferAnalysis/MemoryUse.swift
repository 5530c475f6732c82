import WaferSpec
import WaferTrace

/// Per-core peak SRAM against the PLMR-M budget (`MeshSpec.sramBytesPerCore`).
public struct MemoryUse: Sendable {
    public let geometry: MeshGeometry
    /// Bytes of SRAM each core may use.
    public let budgetBytes: Int
    /// Peak SRAM per core in bytes, indexed by core.
    public let peakBytes: [Int32]
    /// PLMR-M violations the run recorded (capped by the engine, so possibly fewer than cores over).
    public let recordedViolations: Int

    public init(trace: Trace) {
        geometry = trace.geometry
        budgetBytes = trace.spec.sramBytesPerCore
        peakBytes = trace.coreTotals.peakSramBytes
        recordedViolations = trace.violations.filter { $0.kind == .memory }.count
    }

    /// Wraps given values (tests).
    public init(geometry: MeshGeometry, budgetBytes: Int, peakBytes: [Int32], recordedViolations: Int = 0) {
        self.geometry = geometry
        self.budgetBytes = budgetBytes
        self.peakBytes = peakBytes
        self.recordedViolations = recordedViolations
    }

    /// Peak bytes of a core.
    public func peak(core: Int) -> Int { Int(peakBytes[core]) }

    /// Peak over budget of a core (above 1 when over).
    public func fraction(core: Int) -> Double { Double(peakBytes[core]) / Double(max(1, budgetBytes)) }

    /// Whether a core's peak exceeded the budget.
    public func isOverBudget(core: Int) -> Bool { Int(peakBytes[core]) > budgetBytes }

    /// The cores whose peak exceeded the budget, in index order.
    public var overBudgetCores: [Int] { peakBytes.indices.filter { Int(peakBytes[$0]) > budgetBytes } }

    /// The largest peak of any core, in bytes.
    public var maxPeakBytes: Int { Int(peakBytes.max() ?? 0) }

    /// The peaks in bytes aggregated over blocks, flagging blocks with a core over budget.
    public func blocks(region: CoreRegion? = nil, blockSize: Int, aggregate: BlockAggregate) -> CoreBlocks {
        CoreBlocks(geometry: geometry, region: region, blockSize: blockSize, aggregate: aggregate,
                   value: { Double(peakBytes[$0]) }, flag: { Int(peakBytes[$0]) > budgetBytes })
    }
}
