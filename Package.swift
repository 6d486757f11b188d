// swift-tools-version:6.0
// Unmask — a deepfake and synthetic-media detector for Linux.
// Layering (see README "Architecture"): CFFmpeg → MediaIO; COpenBLAS → NeuralNet; CLI on top.
import PackageDescription

let package = Package(
    name: "Unmask",
    platforms: [.macOS(.v15)],  // Synchronization (Mutex, Atomic)
    products: [
        .executable(name: "unmask", targets: ["unmask"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/JohnSundell/Plot", from: "0.14.0"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // MARK: System libraries (Debian packages)
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev"])]
        ),
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),

        // MARK: Library modules
        .target(name: "MediaIO", dependencies: ["CFFmpeg"]),
        .target(name: "NeuralNet", dependencies: ["COpenBLAS"]),
        // Yardsticks for NeuralNet, kept out of the detector's modules: the reference networks that
        // Scripts/nn_reference.py mirrors in PyTorch (parity fixtures, `bench nn` against PyTorch) and the
        // throughput benchmarks. Only the `bench` subcommands and NeuralNetTests use it.
        .target(name: "NeuralNetReference", dependencies: ["NeuralNet"]),
        .target(name: "Detector", dependencies: ["NeuralNet", "MediaIO"]),
        .target(
            name: "Audit",
            dependencies: [
                "MediaIO", "Detector",
                .product(name: "Plot", package: "Plot"),
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // MARK: Command-line tool
        .executableTarget(
            name: "unmask",
            dependencies: [
                "MediaIO", "NeuralNet", "NeuralNetReference", "Detector", "Audit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: Tests
        .testTarget(name: "MediaIOTests", dependencies: ["MediaIO"]),
        .testTarget(
            name: "NeuralNetTests", dependencies: ["NeuralNet", "NeuralNetReference"], resources: [.copy("Fixtures")]),
        .testTarget(name: "AuditTests", dependencies: ["Audit", "ReportSchemaChecking"]),
        .testTarget(name: "DetectorTests", dependencies: ["Detector", "NeuralNet", "NeuralNetReference", "MediaIO"]),
        // Fixtures/ holds media the tests cannot make with MediaIO (read by path, not bundled).
        .testTarget(
            name: "UnmaskCLITests", dependencies: ["MediaIO", "Detector", "Audit", "ReportSchemaChecking"],
            exclude: ["Fixtures"]),
        // Test support, not shipped: checks report JSON against Docs/unmask.report.schema.json.
        .target(name: "ReportSchemaChecking", path: "Tests/ReportSchemaChecking"),
    ],
    swiftLanguageModes: [.v6]
)
