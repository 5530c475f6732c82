import WaferModel

extension ModelConfig {
    /// The model shapes the command line knows by name: smollm2-135m, llama3-8b, llama2-13b.
    public static func named(_ name: String) -> ModelConfig? {
        switch name.lowercased() {
        case "smollm2-135m", "smollm2": return .smolLM2_135M
        case "llama3-8b": return .llama3_8B
        case "llama2-13b": return .llama2_13B
        default: return nil
        }
    }
}
