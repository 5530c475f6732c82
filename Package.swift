// swift-tools-version: 6.0
import PackageDescription

/// Hot simulation code: dynamic exclusivity checks on class-held arrays cost ~20 % of the engine's
/// time in release builds (measured with perf); the engine's state is confined to one thread.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked", "-cross-module-optimization"], .when(configuration: .release))]

/// WaferScope: an instrumented wafer-scale mesh simulator for LLM inference.
///
/// Module layering (dependencies point downwards only; see the README's layout):
///   waferscope (CLI)
///   WaferLLM (model on the mesh) -> WaferKernels -> WaferMesh (engine) -> WaferTrace -> WaferSpec
///   WaferLLM -> WaferModel (GGUF, tokenizer, dense reference; nothing of ours)
///   PLMR (analytic model) -> WaferSpec only
///   WaferRender (Cairo) -> WaferAnalysis -> WaferTrace
let package = Package(
    name: "WaferScope",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "waferscope", targets: ["waferscope"]),
        .library(name: "WaferSpec", targets: ["WaferSpec"]),
        .library(name: "WaferTrace", targets: ["WaferTrace"]),
        .library(name: "WaferMesh", targets: ["WaferMesh"]),
        .library(name: "WaferKernels", targets: ["WaferKernels"]),
        .library(name: "WaferModel", targets: ["WaferModel"]),
        .library(name: "WaferLLM", targets: ["WaferLLM"]),
        .library(name: "PLMR", targets: ["PLMR"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .target(name: "WaferSpec"),
        .target(name: "WaferTrace", dependencies: ["WaferSpec"], swiftSettings: hotPath),
        .target(name: "WaferMesh", dependencies: ["WaferSpec", "WaferTrace"], swiftSettings: hotPath),
        .target(name: "WaferKernels", dependencies: ["WaferSpec", "WaferMesh"], swiftSettings: hotPath),
        .target(name: "PLMR", dependencies: ["WaferSpec"]),
        .target(name: "WaferAnalysis", dependencies: ["WaferSpec", "WaferTrace"]),
        .systemLibrary(name: "CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),
        .target(name: "WaferRender", dependencies: ["CCairo", "WaferSpec", "WaferTrace", "WaferAnalysis"]),
        .executableTarget(
            name: "waferscope",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                "WaferSpec", "WaferTrace", "WaferMesh", "WaferKernels", "PLMR", "WaferAnalysis", "WaferRender",
                "WaferModel", "WaferLLM",
            ]
        ),
        .testTarget(name: "WaferSpecTests", dependencies: ["WaferSpec"]),
        .testTarget(name: "WaferTraceTests", dependencies: ["WaferTrace", "WaferSpec"]),
        .testTarget(name: "WaferMeshTests", dependencies: ["WaferMesh", "WaferTrace", "WaferSpec"]),
        .testTarget(name: "WaferKernelsTests", dependencies: ["WaferKernels", "WaferMesh", "WaferTrace", "WaferSpec"]),
        .testTarget(name: "PLMRTests", dependencies: ["PLMR", "WaferSpec", "WaferKernels", "WaferMesh", "WaferTrace"]),
        .testTarget(name: "WaferRenderTests", dependencies: ["WaferRender", "WaferAnalysis", "WaferTrace", "WaferSpec", "WaferMesh"]),
        .target(name: "WaferModel"),
        .target(name: "WaferLLM", dependencies: ["WaferModel", "WaferKernels", "WaferMesh", "WaferSpec", "WaferTrace"], swiftSettings: hotPath),
        .testTarget(name: "WaferModelTests", dependencies: ["WaferModel"]),
        .testTarget(name: "WaferLLMTests", dependencies: ["WaferLLM", "WaferModel", "WaferKernels", "WaferMesh", "WaferSpec", "WaferTrace"]),
    ]
)
