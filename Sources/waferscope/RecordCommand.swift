import ArgumentParser
import Foundation
import WaferKernels
import WaferMesh
import WaferSpec
import WaferTrace

/// `waferscope record …`: run a workload on the mesh and write its trace.
struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Run a workload on the simulated mesh and record a trace.",
        subcommands: [RecordComm.self, RecordGEMM.self, RecordGEMV.self]
    )
}

extension CommPattern: ExpressibleByArgument {}

/// `waferscope record comm`: the synthetic contention workloads.
struct RecordComm: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "comm",
        abstract: "Every core sends one message at cycle 0: to its east neighbour, its transpose, or the centre core.",
        discussion: "The makespan is the cycle the last message has fully arrived."
    )

    @OptionGroup var meshOptions: MeshOptions
    @OptionGroup var recordOptions: RecordOptions

    @Option(help: "neighbor (east, wrapping), transpose ((x,y)→(y,x)) or hotspot (all to the centre).")
    var pattern: CommPattern

    @Option(help: "Bytes per message.")
    var bytes: Int = 256

    func run() throws {
        guard bytes > 0 else { throw CLIError("--bytes must be positive, got \(bytes)") }
        let spec = try meshOptions.resolve()
        let rec = try recordOptions.recorder(spec: spec, metadata: [
            "command": commandLine(), "workload": "comm", "pattern": pattern.rawValue, "bytes": "\(bytes)",
        ])
        let engine = try MeshEngine(spec: spec, recorder: rec, policy: recordOptions.recordViolations ? .record : .abort)
        try engine.run(try CommProgram(pattern: pattern, bytes: bytes, engine: engine))
        engine.finishRecording()
        let trace = try rec.finish()
        print("wrote \(recordOptions.out)")
        print(TraceSummaryText.human(trace))
    }
}

extension GEMMAlgorithm: ExpressibleByArgument {}
extension GEMVAlgorithm: ExpressibleByArgument {}

/// Records a kernel run: shared by `record gemm` and `record gemv`.
private func recordKernel(meshOptions: MeshOptions, recordOptions: RecordOptions, timingOnly: Bool,
                          metadata: [String: String],
                          run: (MeshEngine, KernelGrid) throws -> Float?) throws {
    let spec = try meshOptions.resolve()
    var meta = metadata
    meta["command"] = commandLine()
    meta["numerics"] = timingOnly ? "timing-only" : "float32"
    let rec = try recordOptions.recorder(spec: spec, metadata: meta)
    let engine = try MeshEngine(spec: spec, recorder: rec, payloadSlots: timingOnly ? nil : KernelRunner.payloadSlots,
                                policy: recordOptions.recordViolations ? .record : .abort)
    let error: Float?
    do {
        error = try run(engine, try KernelGrid(geometry: engine.geometry))
    } catch let e as MeshError {
        if case .violation = e { throw CLIError("\(e) (add --record-violations to record it and run on)") }
        throw e
    }
    engine.finishRecording()
    if let error { rec.metadata["maxAbsError"] = "\(error)" }
    let trace = try rec.finish()
    print("wrote \(recordOptions.out)")
    print(TraceSummaryText.human(trace))
}

/// `waferscope record gemm`.
struct RecordGEMM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "C = A·B (or A·Bᵀ for gemmt) with MeshGEMM, Cannon, SUMMA or GEMM-T, with real numbers unless --timing-only.",
        discussion: "Ring algorithms (meshgemm, cannon, gemmt) use the largest square of the mesh. Inputs are uniform random in [-1, 1); the trace records the largest error against a dense single-core product."
    )

    @OptionGroup var meshOptions: MeshOptions
    @OptionGroup var recordOptions: RecordOptions

    @Option(help: "meshgemm, cannon, summa or gemmt.")
    var algo: GEMMAlgorithm = .meshgemm
    @Option(help: "Rows of A and C.") var m: Int
    @Option(help: "Columns of A (rows of B).") var k: Int
    @Option(help: "Columns of B and C.") var n: Int
    @Option(help: "K-tree groups of GEMM-T's ReduceAdd (default ≈ √P).") var groups: Int?
    @Option(help: "Seed of the random inputs.") var seed: UInt64 = 1
    @Flag(help: "Sizes only, no payloads: for shapes whose numbers would not fit in host memory.")
    var timingOnly = false

    func run() throws {
        if let groups, groups <= 0 { throw CLIError("--groups must be positive, got \(groups)") }
        let shape = GEMMShape(m: m, k: k, n: n)
        try recordKernel(meshOptions: meshOptions, recordOptions: recordOptions, timingOnly: timingOnly, metadata: [
            "workload": "gemm", "algorithm": algo.rawValue, "m": "\(m)", "k": "\(k)", "n": "\(n)",
        ]) { engine, grid in
            try KernelRunner.gemm(algo, engine: engine, grid: grid, shape: shape, groups: groups, seed: seed)
        }
    }
}

/// `waferscope record gemv`.
struct RecordGEMV: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemv",
        abstract: "y = x·W with a local GEMV per core and a K-tree, pipeline or ring allreduce along Y.",
        discussion: "x (length --rows) is split along Y and replicated along X; W (--rows × --cols) is split on both axes."
    )

    @OptionGroup var meshOptions: MeshOptions
    @OptionGroup var recordOptions: RecordOptions

    @Option(help: "ktree, pipeline or ring.")
    var algo: GEMVAlgorithm = .ktree
    @Option(help: "K-tree groups along the reduce axis (default ≈ √rows of the mesh).") var groups: Int?
    @Option(help: "Length of x (rows of W).") var rows: Int
    @Option(help: "Columns of W (length of y).") var cols: Int
    @Option(help: "Seed of the random inputs.") var seed: UInt64 = 1
    @Flag(help: "Sizes only, no payloads.")
    var timingOnly = false

    func run() throws {
        if let groups, groups <= 0 { throw CLIError("--groups must be positive, got \(groups)") }
        var meta = ["workload": "gemv", "algorithm": algo.rawValue, "rows": "\(rows)", "cols": "\(cols)"]
        if let groups { meta["groups"] = "\(groups)" }
        try recordKernel(meshOptions: meshOptions, recordOptions: recordOptions, timingOnly: timingOnly, metadata: meta) { engine, grid in
            try KernelRunner.gemv(algo, engine: engine, grid: grid, rows: rows, cols: cols, groups: groups, seed: seed)
        }
    }
}
