// WaferModel: loading and running a real LLaMA-family model on one host core.
//
// The module has three layers, each usable on its own:
// - Files: `GGUFFile` parses a GGUF v3 file (metadata, tensor directory, aligned data
//   section) with every offset bounds-checked; `GGUFQuantization` turns F32, F16, BF16,
//   Q4_0, Q4_1 and Q8_0 tensors into `Float`; failures are `GGUFError`s.
// - Text: `BPETokenizer` (byte-level BPE with the GGUF's pre-tokenizer, see
//   `PreTokenizer`) and `ChatTemplate` (ChatML).
// - Model: `ModelConfig` (shape only, also for timing studies of larger models),
//   `ModelWeights` (Float32, row-major `W[out][in]`), and `ReferenceModel`, the dense
//   forward pass with a `KVCache`, whose per-operation static functions are the ground
//   truth for other implementations.
//
// No type here is named `WaferModel`, so `WaferModel.X` always means the module.
