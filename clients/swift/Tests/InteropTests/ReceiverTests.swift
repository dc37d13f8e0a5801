import Foundation
import XCTest
import Interop

final class ReceiverTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("rudp-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: directory)
    }

    /// Every script of spec/vectors/receiver.json, fed to the state machine
    /// with a fake clock: the exact ack after each datagram, and the files the
    /// receiver leaves behind. Our file names are the reference's (`<ip>.<port>`,
    /// `.partial` while incomplete), so the files can be compared exactly.
    func testReceiverVectors() throws {
        let scripts = try Vectors.load("receiver.json")
        XCTAssertGreaterThan(scripts.count, 15)
        for script in scripts {
            let name = script["name"] as! String
            let outputs = directory.appendingPathComponent(String(name.map { $0.isLetter ? $0 : "-" }))
            try FileManager.default.createDirectory(at: outputs, withIntermediateDirectories: true)
            var config = ReceiverConfig()
            config.sack = script["sack"] as! Bool
            config.timeout = .milliseconds(script["idle_timeout_ms"] as! Int)
            config.outputDirectory = outputs.path
            let receiver = Receiver(config: config)
            let t0 = ContinuousClock.now

            for (i, step) in (script["steps"] as! [[String: Any]]).enumerated() {
                let now = t0 + .milliseconds(step["at_ms"] as! Int)
                let from = SocketAddress(step["from"] as! String)!
                receiver.expireIdle(at: now)
                let ack = receiver.handle(Vectors.bytes(step["datagram"])!, from: from, at: now)
                XCTAssertEqual(ack.map { String(decoding: $0, as: UTF8.self) }, Vectors.bytes(step["ack"]).map { String(decoding: $0, as: UTF8.self) },
                               "\(name), step \(i) (\(Vectors.escaped(step["datagram"])))")
            }

            var expected: [String: [UInt8]] = [:]
            for file in script["files"] as! [[String: Any]] {
                expected[file["name"] as! String] = Vectors.bytes(file["content"])!
            }
            var actual: [String: [UInt8]] = [:]
            for file in try FileManager.default.contentsOfDirectory(atPath: outputs.path) {
                actual[file] = [UInt8](try Data(contentsOf: outputs.appendingPathComponent(file)))
            }
            XCTAssertEqual(actual, expected, "\(name): files")
        }
    }

    /// RUDP-16: the file name comes from the address alone, and is a plain name.
    func testFileNames() {
        XCTAssertEqual(SocketAddress("172.18.0.3:40000")!.fileName, "172.18.0.3.40000")
        XCTAssertEqual(SocketAddress("[::ffff:10.0.0.1]:5")!.fileName, "10.0.0.1.5")
        XCTAssertEqual(SocketAddress("[::1]:40000")!.fileName, "__1.40000")
    }
}
