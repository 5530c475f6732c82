/// Where model files live in a WaferScope checkout.
///
/// `scripts/fetch-model.sh` (`make model`) downloads the SmolLM2 GGUF to
/// `smolLM2RelativePath` under the repository root and verifies `smolLM2SHA256`.
public enum ModelLocations {
    /// Path of the SmolLM2-135M-Instruct Q4_1 GGUF relative to the repository root.
    public static let smolLM2RelativePath = ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
    /// SHA-256 of that file.
    public static let smolLM2SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
}
