// swift-tools-version: 6.2
//
// Weiche has no package dependencies: only the Swift toolchain and two system C libraries,
// libpq (PostgreSQL's client library) and OpenSSL's libcrypto.
import PackageDescription

/// Warnings are errors in CI (`CI` is set there); locally they stay warnings so that a newer
/// compiler's new diagnostics never keep a user from building.
let strictness: [SwiftSetting] =
    Context.environment["CI"] != nil ? [.treatAllWarnings(as: .error)] : []

let swiftSettings: [SwiftSetting] = strictness + [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "Weiche",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "weiche", targets: ["WeicheCLI"]),
        .library(name: "WeicheCore", targets: ["WeicheCore"]),
        .library(name: "WeicheTesting", targets: ["WeicheTesting"]),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        .systemLibrary(
            name: "CCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"]), .brew(["openssl"])]
        ),
        .target(name: "WeicheCore", swiftSettings: swiftSettings),
        .target(name: "WeichePostgres", dependencies: ["CLibPQ"], swiftSettings: swiftSettings),
        .target(
            name: "Weiche",
            dependencies: ["WeicheCore", "WeichePostgres", "CCrypto"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "WeicheTesting",
            dependencies: ["WeicheCore", "WeichePostgres", "Weiche"],
            swiftSettings: swiftSettings
        ),
        // Agency adapters: one module each under Plugins/, importing only WeicheCore.
        .target(name: "AdapterWeicheJSON", dependencies: ["WeicheCore"], path: "Plugins/AdapterWeicheJSON", swiftSettings: swiftSettings),
        .target(name: "AdapterMassArbeit", dependencies: ["WeicheCore"], path: "Plugins/AdapterMassArbeit", swiftSettings: swiftSettings),
        .target(name: "AdapterJugendamt", dependencies: ["WeicheCore"], path: "Plugins/AdapterJugendamt", swiftSettings: swiftSettings),
        .target(
            name: "AdapterAuslaenderbehoerde", dependencies: ["WeicheCore"], path: "Plugins/AdapterAuslaenderbehoerde",
            swiftSettings: swiftSettings),
        .target(name: "AdapterFHIR", dependencies: ["WeicheCore"], path: "Plugins/AdapterFHIR", swiftSettings: swiftSettings),
        .executableTarget(
            name: "WeicheCLI",
            dependencies: ["Weiche", "WeichePostgres", "WeicheCore", "AdapterWeicheJSON", "AdapterMassArbeit", "AdapterJugendamt", "AdapterAuslaenderbehoerde",
                "AdapterFHIR",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WeicheCoreTests",
            dependencies: ["WeicheCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WeichePostgresTests",
            dependencies: ["WeichePostgres", "WeicheTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WeicheTests",
            dependencies: ["Weiche", "WeichePostgres", "WeicheTesting", "AdapterWeicheJSON"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AdapterWeicheJSONTests",
            dependencies: ["AdapterWeicheJSON", "WeicheTesting"],
            path: "Tests/AdapterWeicheJSONTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AdapterMassArbeitTests",
            dependencies: ["AdapterMassArbeit", "WeicheTesting"],
            path: "Tests/AdapterMassArbeitTests",
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AdapterJugendamtTests",
            dependencies: ["AdapterJugendamt", "WeicheTesting"],
            path: "Tests/AdapterJugendamtTests",
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AdapterAuslaenderbehoerdeTests",
            dependencies: ["AdapterAuslaenderbehoerde", "WeicheTesting"],
            path: "Tests/AdapterAuslaenderbehoerdeTests",
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AdapterFHIRTests",
            dependencies: ["AdapterFHIR", "WeicheTesting"],
            path: "Tests/AdapterFHIRTests",
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WeicheCLITests",
            dependencies: ["WeicheCLI", "Weiche", "WeicheTesting"],
            swiftSettings: swiftSettings
        ),
    ]
)
