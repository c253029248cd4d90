// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Imprint",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "imprint", targets: ["imprint"]),
        .executable(name: "imprint-server", targets: ["imprint-server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // Executable: only bootstraps logging, tunes malloc for image blocks and runs the root command.
        .executableTarget(
            name: "imprint",
            dependencies: [
                "ImprintCommands", "CLinux",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // Commands
        .target(
            name: "ImprintCommands",
            dependencies: [
                "ImprintCore", "ImprintInventory", "ImprintAgent", "ImprintImage", "ImprintDisk", "ImprintRemote", "ImprintWire",
                "ImprintPreflight",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ImprintCommandsTests",
            dependencies: [
                "ImprintTestSupport", "ImprintCommands", "ImprintCore", "ImprintInventory", "ImprintAgent", "ImprintWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // Core: plain values (facts and their probe, unit, plan, identity, the network model and its netplan reader:
        // the only module that imports Yams), validation, errors, the confined target root, the unit directory protocol
        .target(
            name: "ImprintCore",
            dependencies: [
                "CUUID", "CLinux",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ImprintCoreTests",
            dependencies: ["ImprintTestSupport", "ImprintCore", "CLinux"],
            swiftSettings: swiftSettings
        ),

        // Inventory: the SQLite store (the only module that imports GRDB), a unit directory and a deployment store
        .target(
            name: "ImprintInventory",
            dependencies: [
                "ImprintCore", "ImprintWire", "ImprintTemplates",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ImprintInventoryTests",
            dependencies: ["ImprintTestSupport", "ImprintInventory", "ImprintCore", "ImprintWire"],
            swiftSettings: swiftSettings
        ),

        // Agent: the personalization entry point, its steps, planner, applier, journal and identity log
        .target(
            name: "ImprintAgent",
            dependencies: [
                "ImprintCore", "ImprintTemplates", "CLinux",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ImprintAgentTests",
            dependencies: ["ImprintTestSupport", "ImprintAgent", "ImprintCore", "ImprintInventory"],
            swiftSettings: swiftSettings
        ),

        // Image: capture, restore, verify and the library; the block codecs (the only module that imports libdeflate and zstd)
        .target(
            name: "ImprintImage",
            dependencies: [
                "ImprintCore", "CDeflate", "CZstd", "CLinux",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            exclude: ["FORMAT.md"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ImprintImageTests",
            dependencies: ["ImprintTestSupport", "ImprintImage", "ImprintCore"],
            swiftSettings: swiftSettings
        ),

        // Preflight: an image checked against every unit it will go to, by the real tools (netplan, nmcli, ifquery,
        // systemd-networkd, cupsd, sshd) run on scratch copies, and one unit booted in qemu, before anything is deployed
        .target(
            name: "ImprintPreflight",
            dependencies: ["ImprintCore", "ImprintAgent", "ImprintImage", "ImprintDisk", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),

        // Disk: partition layouts laid again on another disk, the places a system names its disks by id, the restore
        // onto a whole disk
        .target(
            name: "ImprintDisk",
            dependencies: ["ImprintCore", "ImprintImage"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ImprintDiskTests",
            dependencies: ["ImprintTestSupport", "ImprintDisk", "ImprintCore"],
            swiftSettings: swiftSettings
        ),

        // Wire: the deployment server's API bodies and the signature units put on their requests, which the server and
        // its clients share
        .target(
            name: "ImprintWire",
            dependencies: [
                "ImprintCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),

        // Remote: the client side of the server's API (identify, report, download an image that resumes) and
        // `restore --server` (restore and personalize as the server says), over libcurl loaded at run time, so a
        // unit without libcurl still personalizes offline
        .target(
            name: "ImprintRemote",
            dependencies: ["ImprintWire", "ImprintCore", "ImprintImage", "ImprintAgent", "CCurl", "CLinux"],
            swiftSettings: swiftSettings
        ),

        // Server: the HTTP API, the image library over HTTP and the fleet page (the only module importing Hummingbird)
        .target(
            name: "ImprintServer",
            dependencies: [
                "ImprintWire", "ImprintCore", "ImprintInventory", "ImprintImage", "ImprintTemplates",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ImprintServerCommands",
            dependencies: [
                "ImprintServer", "ImprintCore", "ImprintInventory", "ImprintRemote", "ImprintWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "imprint-server",
            dependencies: [
                "CLinux", "ImprintServerCommands",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ImprintServerTests",
            dependencies: [
                "ImprintTestSupport", "ImprintServer", "ImprintServerCommands", "ImprintRemote", "ImprintWire",
                "ImprintCore", "ImprintInventory",
            ],
            swiftSettings: swiftSettings
        ),

        // Fuzzing: the image reader, the CSV importer, the facts parser and the server's request bodies fed arbitrary bytes. The executable is
        // built plain here (it runs files through a target, so the harness never rots) and with libFuzzer by .ci/fuzz.
        .target(
            name: "ImprintFuzz",
            dependencies: [
                "ImprintCore", "ImprintImage", "ImprintInventory", "ImprintWire", "CLinux",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "imprint-fuzz",
            dependencies: ["ImprintFuzz"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ImprintFuzzTests",
            dependencies: ["ImprintTestSupport", "ImprintFuzz"],
            swiftSettings: swiftSettings
        ),

        // Templates: the files under Templates/ (systemd unit, network and CUPS files, the fleet page's HTML), embedded
        // in the binary and rendered with Mustache (the only module that imports it)
        .target(
            name: "ImprintTemplates",
            dependencies: [
                "ImprintCore",
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            path: "Templates",
            // deploy/: the server's systemd unit and nginx configuration, which an admin installs by hand
            exclude: ["README.md", "deploy"],
            sources: ["Templates.swift", "Pages.swift"],
            resources: [.embedInCode("systemd"), .embedInCode("network"), .embedInCode("cups"), .embedInCode("server")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ImprintTemplatesTests",
            dependencies: ["ImprintTestSupport", "ImprintTemplates", "ImprintCore"],
            swiftSettings: swiftSettings
        ),

        // Tests: shared helpers (temporary folders, fixtures, processes)
        .target(
            name: "ImprintTestSupport",
            dependencies: ["ImprintCore", "ImprintPreflight"],
            path: "Tests/ImprintTestSupport",
            swiftSettings: swiftSettings
        ),

        // C libraries, from Debian's -dev packages
        // Whole-buffer deflate for the gzip blocks (what htslib's bgzip uses); no zlib: nothing streams. No pkgConfig:
        // its flags would link the shared library, and the module map links the static one (see there).
        .systemLibrary(
            name: "CDeflate",
            providers: [.apt(["libdeflate-dev"])]
        ),
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        .systemLibrary(name: "CLinux"),
        // Headers only: libcurl is opened at run time (dlopen), not linked
        .systemLibrary(name: "CCurl"),
        .systemLibrary(
            name: "CUUID",
            pkgConfig: "uuid",
            providers: [.apt(["uuid-dev"])]
        ),

        // Benchmarks: an in-process timing of inventory lookups, driven by Benchmarks/inventory.sh
        .executableTarget(
            name: "imprint-bench",
            dependencies: ["ImprintInventory", "ImprintCore"],
            path: "Benchmarks/imprint-bench",
            swiftSettings: swiftSettings
        ),
    ]
)
