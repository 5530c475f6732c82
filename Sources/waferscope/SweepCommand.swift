import ArgumentParser
import Foundation
import PLMR
import WaferKernels
import WaferMesh
import WaferSpec
import WaferTrace

/// `waferscope sweep`: run kernels over grid sizes and put the model's prediction next to each
/// measurement, as a CSV for plotting.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run GEMM or GEMV kernels over square grids and compare the PLMR model's cycles with the engine's.",
        discussion: """
        Each run uses a SIDE×SIDE sub-grid of the preset (or --spec) fabric, records in memory at summary \
        detail, takes the measured cycles from the kernel mark (end − start) and predicts them in closed form \
        with the PLMR model from the spec and the shape alone. PLMR violations (SUMMA's colours beyond 12×12, \
        tiles over the SRAM budget) are recorded and the run goes on.

        The CSV header is exactly: kernel,algo,side,m,k,n,predicted_cycles,measured_cycles. For gemv, m holds \
        --rows (length of x), n holds --cols (length of y) and k is 1.

        Runs carry real numbers (checked against a dense product) only when they are small (side ≤ 16 and at \
        most 2^27 MACs); --timing-only turns numerics off everywhere. Timings are identical either way.

        The runs are independent: --jobs of them run at once, each on its own host thread (default: one per \
        host core), biggest grids first. Rows are written in the same order and with the same figures as with \
        --jobs 1, and a failing run stops the sweep at the same row; only the "run s" column, each run's own \
        wall time, depends on what else runs beside it.
        """
    )

    @Option(help: "gemm or gemv.")
    var kernel: String = "gemm"

    @Option(help: ArgumentHelp("Comma-separated algorithms (gemm: meshgemm,cannon,summa,gemmt; gemv: ktree,pipeline,ring). Default: all of the kernel's.", valueName: "list"))
    var algos: String?

    @Option(name: .customLong("mesh-sides"), help: ArgumentHelp("Comma-separated grid sides.", valueName: "list"))
    var meshSides: String = "8,16,32,64"

    @Option(help: "GEMM: rows of A and C.") var m: Int = 2048
    @Option(help: "GEMM: columns of A, rows of B.") var k: Int = 2048
    @Option(help: "GEMM: columns of B and C.") var n: Int = 2048
    @Option(help: "GEMV: length of x (rows of W).") var rows: Int = 8192
    @Option(help: "GEMV: length of y (columns of W).") var cols: Int = 8192
    @Option(help: "K-tree groups (gemv ktree, gemm gemmt); default ≈ √side.") var groups: Int?

    @Option(help: "Hardware preset: \(MeshSpec.presetNames.joined(separator: ", ")).")
    var preset: String = "wse2"
    @Option(name: .customLong("spec"), help: ArgumentHelp("A MeshSpec JSON file (overrides --preset).", valueName: "file.json"))
    var specFile: String?

    @Flag(help: "No payloads anywhere (numerics are otherwise on for small runs).")
    var timingOnly = false

    @Option(name: .customLong("out"), help: ArgumentHelp("CSV file to write.", valueName: "sweep.csv"))
    var out: String

    @Option(help: ArgumentHelp("Runs at once, each on its own host thread (default: the host's cores).", valueName: "n"))
    var jobs: Int?

    func validate() throws {
        guard kernel == "gemm" || kernel == "gemv" else { throw ValidationError("--kernel must be gemm or gemv, got '\(kernel)'") }
        if let groups, groups <= 0 { throw ValidationError("--groups must be positive, got \(groups)") }
        if let jobs, jobs <= 0 { throw ValidationError("--jobs must be positive, got \(jobs)") }
        guard [m, k, n, rows, cols].allSatisfy({ $0 > 0 }) else { throw ValidationError("sizes must be positive") }
        _ = try sides()
        _ = try algorithmList()
    }

    func sides() throws -> [Int] {
        let list = meshSides.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !list.isEmpty, list.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("--mesh-sides must be positive integers separated by commas, got '\(meshSides)'")
        }
        return list.map { $0! }
    }

    func algorithmList() throws -> [String] {
        let all = kernel == "gemm" ? GEMMAlgorithm.allCases.map(\.rawValue) : GEMVAlgorithm.allCases.map(\.rawValue)
        guard let algos else { return all }
        let list = algos.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for a in list where !all.contains(a) {
            throw ValidationError("unknown \(kernel) algorithm '\(a)' (known: \(all.joined(separator: ", ")))")
        }
        return list
    }

    func run() throws {
        let base = try MeshSpec.resolve(preset: preset, specFile: specFile, mesh: nil)
        let dir = (out as NSString).deletingLastPathComponent
        if !dir.isEmpty && !FileManager.default.fileExists(atPath: dir) {
            throw CLIError("output directory '\(dir)' does not exist")
        }
        // The CSV grows row by row, so an interrupted sweep keeps what it measured (with several
        // jobs: the rows before the first run still going; rows are written in order).
        guard FileManager.default.createFile(atPath: out, contents: Data("kernel,algo,side,m,k,n,predicted_cycles,measured_cycles\n".utf8)),
              let csv = FileHandle(forWritingAtPath: out) else {
            throw CLIError("cannot write '\(out)'")
        }
        defer { try? csv.close() }
        try csv.seekToEnd()
        var rows: [ValidationRow] = []
        printNow(SweepConsoleTable.header)
        let runs = try algorithmList().flatMap { algo in try sides().map { (algo, $0) } }
        let threads = min(jobs ?? ProcessInfo.processInfo.activeProcessorCount, runs.count)
        let (kernel, m, k, n, rowCount, cols, groups, timingOnly) = (kernel, m, k, n, self.rows, cols, groups, timingOnly)
        // Bigger grids first (their runs are the long ones), so the longest does not run alone at the end.
        try OrderedJobs.run(count: runs.count, threads: threads, cost: { Double(runs[$0].1) }, job: { i in
            let (algo, side) = runs[i]
            let spec = try base.subgrid(width: side, height: side)
            // Runs side by side already use the host's cores: their arithmetic stays on their own thread.
            return try SweepPoint.run(kernel: kernel, algorithm: algo, spec: spec, m: m, k: k, n: n, rows: rowCount, cols: cols,
                                      groups: groups, timingOnly: timingOnly, numericsThreads: threads > 1 ? 1 : nil)
        }) { i, point in
            let (algo, side) = runs[i]
            let (pm, pk, pn) = kernel == "gemm" ? (m, k, n) : (self.rows, 1, cols)
            try csv.write(contentsOf: Data("\(kernel),\(algo),\(side),\(pm),\(pk),\(pn),\(point.predicted.map(String.init) ?? ""),\(point.measured)\n".utf8))
            let row = ValidationRow(name: algo, kernel: kernel, algorithm: algo,
                                    shape: kernel == "gemm" ? "\(m)x\(k)x\(n)" : "\(self.rows)x\(cols)",
                                    grid: "\(side)x\(side)", predicted: point.predicted, measured: point.measured,
                                    dominantTerm: point.prediction?.dominantTerm)
            rows.append(row)
            printNow(SweepConsoleTable.line(algo: algo, side: side, point: point, row: row))
        }
        if let s = Validation.stats(rows) {
            print(String(format: "%d runs: MAPE %.2f%%, geomean error %.2f%%, max error %.2f%%, bias %+.2f%%",
                         s.count, s.mape, s.geomeanError, s.maxError, s.bias))
        }
        print("wrote \(out)")
    }
}

/// One measured and predicted kernel run of a sweep.
struct SweepPoint {
    var measured: Int
    var prediction: KernelPrediction?
    var maxAbsError: Float?
    var violations: Int
    var seconds: Double

    var predicted: Int? { prediction?.cycles }

    /// Runs one kernel on the whole of `spec`'s mesh (recording in memory, summary detail,
    /// violations recorded) and predicts it from the same shape and spec.
    static func run(kernel: String, algorithm: String, spec: MeshSpec, m: Int, k: Int, n: Int, rows: Int, cols: Int,
                    groups: Int?, timingOnly: Bool, numericsThreads: Int? = nil) throws -> SweepPoint {
        let side = spec.width
        let macs = kernel == "gemm" ? Double(m) * Double(k) * Double(n) : Double(rows) * Double(cols)
        let numerics = !timingOnly && side <= 16 && macs <= Double(1 << 27)
        let rec = try TraceRecorder(spec: spec, detail: .summary, keepsRecords: false)   // reads marks and totals only
        let engine = try MeshEngine(spec: spec, recorder: rec, payloadSlots: numerics ? KernelRunner.payloadSlots : nil,
                                    policy: .record)
        if let numericsThreads { engine.numericsThreads = numericsThreads }
        let grid = try KernelGrid(geometry: engine.geometry)
        let clock = Date()
        let err: Float?
        let prediction: KernelPrediction?
        if kernel == "gemm" {
            guard let a = GEMMAlgorithm(rawValue: algorithm) else { throw CLIError("unknown gemm algorithm '\(algorithm)'") }
            err = try KernelRunner.gemm(a, engine: engine, grid: grid, shape: GEMMShape(m: m, k: k, n: n), groups: groups)
            prediction = PLMRModel.gemm(algorithm, m: m, k: k, n: n, gridCols: side, gridRows: spec.height,
                                        groups: groups, spec: spec)
        } else {
            guard let a = GEMVAlgorithm(rawValue: algorithm) else { throw CLIError("unknown gemv algorithm '\(algorithm)'") }
            err = try KernelRunner.gemv(a, engine: engine, grid: grid, rows: rows, cols: cols, groups: groups)
            prediction = PLMRModel.gemv(algorithm, rows: rows, cols: cols, gridCols: side, gridRows: spec.height,
                                        groups: groups, spec: spec)
        }
        engine.finishRecording()
        let trace = try rec.finish()
        guard let mark = trace.kernels.first else { throw CLIError("\(algorithm) on \(side)x\(side) left no kernel mark") }
        return SweepPoint(measured: Int(mark.end - mark.start), prediction: prediction, maxAbsError: err,
                          violations: trace.violations.count, seconds: Date().timeIntervalSince(clock))
    }
}

/// The sweep's console table.
enum SweepConsoleTable {
    static let header = [pad("algo", 9), pad("side", 5, right: true), pad("predicted", 13, right: true),
                         pad("measured", 13, right: true), pad("error", 9, right: true), "  " + pad("dominant", 18),
                         pad("PLMR", 5), pad("run s", 7, right: true)].joined(separator: " ")

    static func line(algo: String, side: Int, point: SweepPoint, row: ValidationRow) -> String {
        let err = row.errorPercent.map { String(format: "%+.2f%%", $0) } ?? "n/a"
        var plmr = point.prediction.map { p in (p.compliance.memoryFits ? "" : "M!") + (p.compliance.routesFit ? "" : "R!") } ?? ""
        if plmr.isEmpty { plmr = "ok" }
        var s = [pad(algo, 9), pad("\(side)", 5, right: true), pad(point.predicted.map(String.init) ?? "—", 13, right: true),
                 pad("\(point.measured)", 13, right: true), pad(err, 9, right: true),
                 "  " + pad(point.prediction?.dominantShare ?? "no model", 18), pad(plmr, 5),
                 pad(String(format: "%.1f", point.seconds), 7, right: true)].joined(separator: " ")
        if let e = point.maxAbsError { s += String(format: "  max|err| %.1e", e) }
        return s
    }
}

/// `text` padded with spaces to `width` characters (on the left when `right`).
func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return right ? fill + text : text + fill
}

/// Prints a line and flushes it at once (a sweep is slow; show rows as they come).
func printNow(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
