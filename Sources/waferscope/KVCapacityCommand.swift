import ArgumentParser
import Foundation
import WaferLLM
import WaferModel
import WaferSpec

/// `waferscope kv-capacity`: the longest context a decode grid holds under each KV-cache policy.
struct KVCapacityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kv-capacity",
        abstract: "Report the maximum context (tokens) before a PLMR-M violation, for the shift and concat KV caches.",
        discussion: "Counts every core's weight tiles and buffers as the decoder places them; a timing-only run of that many tokens fits and one more overflows."
    )

    @OptionGroup var meshOptions: MeshOptions

    @Option(help: ArgumentHelp("GGUF model file (its shape is read from the metadata).", valueName: "path"))
    var model: String?

    @Option(help: "A known model shape instead of a file: smollm2-135m, llama3-8b, llama2-13b.")
    var config: String?

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let spec = try meshOptions.resolve()
        let cfg: ModelConfig
        if let config {
            guard let c = ModelConfig.named(config) else { throw CLIError("unknown --config '\(config)' (known: smollm2-135m, llama3-8b, llama2-13b)") }
            cfg = c
        } else {
            let path = model ?? ModelLocations.smolLM2RelativePath
            guard FileManager.default.fileExists(atPath: path) else {
                throw CLIError("model file '\(path)' not found (run `make model`, pass --model PATH, or use --config NAME)")
            }
            cfg = try ModelConfig(gguf: try GGUFFile(path: path))
        }
        let layout = try DecodeLayout(config: cfg, cols: spec.width, rows: spec.height)
        let cap = KVCapacity(layout: layout, spec: spec)
        let results = KVPolicy.allCases.map { cap.maxTokens($0) }
        if json {
            var obj: [String: Any] = ["model": cfg.name, "mesh": "\(spec.width)x\(spec.height)", "spec": spec.name]
            for r in results { obj[r.policy.rawValue] = ["maxTokens": r.maxTokens, "limitingCore": [r.limitingCore.x, r.limitingCore.y]] }
            print(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self))
            return
        }
        print("\(cfg.name) on \(spec.width)x\(spec.height) (\(spec.name), \(spec.sramBytesPerCore / 1024) KB SRAM per core)")
        for r in results {
            print(String(format: "  %-6@ %8d tokens   (first core to run out: (%d,%d))", r.policy.rawValue, r.maxTokens,
                         r.limitingCore.x, r.limitingCore.y))
        }
        if let s = results.first(where: { $0.policy == .shift }), let c = results.first(where: { $0.policy == .concat }) {
            if s.maxTokens == 0 {
                print("  the weights alone do not fit this grid: use a larger --mesh")
            } else if c.maxTokens > 0 {
                print(String(format: "  shift / concat: %.0f×", Double(s.maxTokens) / Double(c.maxTokens)))
            }
        }
    }
}
