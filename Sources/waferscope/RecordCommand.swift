import ArgumentParser
import Foundation
import WaferMesh
import WaferSpec
import WaferTrace

/// `waferscope record …`: run a workload on the mesh and write its trace.
struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Run a workload on the simulated mesh and record a trace.",
        subcommands: [RecordComm.self]
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
