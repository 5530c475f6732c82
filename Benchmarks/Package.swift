// swift-tools-version: 6.0
import Foundation
import PackageDescription

/// WaferScope's benchmark harness: a separate package so that benchmarks never run with the
/// unit tests. It depends on the root package by path (`..`), or on `WAFERSCOPE_ROOT` when set
/// (scripts/bench.sh points that at an overlay while the root package does not yet export the
/// kernel, model and LLM libraries as products).
///
/// Build and run through `make bench` (scripts/bench.sh), which writes bench/REPORT.md and
/// bench/results.json.
let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
let rootPath = ProcessInfo.processInfo.environment["WAFERSCOPE_ROOT"] ?? ".."
let rootURL = rootPath.hasPrefix("/") ? URL(fileURLWithPath: rootPath) : here.appendingPathComponent(rootPath)
/// SwiftPM names a path dependency after its directory.
let root = rootURL.standardizedFileURL.lastPathComponent.lowercased()

let package = Package(
    name: "WaferScopeBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(path: rootPath),
    ],
    targets: [
        .executableTarget(
            name: "waferbench",
            dependencies: [
                .product(name: "WaferSpec", package: root),
                .product(name: "WaferTrace", package: root),
                .product(name: "WaferMesh", package: root),
                .product(name: "WaferKernels", package: root),
                .product(name: "WaferModel", package: root),
                .product(name: "WaferLLM", package: root),
            ],
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]
        ),
    ]
)
