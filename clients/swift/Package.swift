// swift-tools-version:5.9
// Hello Internet and RUDP for the interop suite, in Swift with the standard
// library and Glibc only: no package dependencies, so `swift build` works
// offline inside `docker build`.
import PackageDescription

let package = Package(
    name: "interop-swift",
    products: [
        .executable(name: "hello", targets: ["hello"]),
        .executable(name: "rudp-sender", targets: ["rudp-sender"]),
        .executable(name: "rudp-receiver", targets: ["rudp-receiver"]),
    ],
    targets: [
        // The protocols: codec, sender, receiver, Hello client and server.
        .target(name: "Interop"),
        // The three programs are thin command-line wrappers around it.
        .executableTarget(name: "hello", dependencies: ["Interop"]),
        .executableTarget(name: "rudp-sender", dependencies: ["Interop"]),
        .executableTarget(name: "rudp-receiver", dependencies: ["Interop"]),
        // Unit tests, including the suite's spec/vectors/*.json (copied into
        // vectors/ because the Docker build context is this folder only).
        .testTarget(name: "InteropTests", dependencies: ["Interop"], exclude: ["vectors"]),
    ]
)
