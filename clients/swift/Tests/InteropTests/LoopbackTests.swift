import Foundation
import XCTest
import Interop

/// The programs' parts talking to each other over 127.0.0.1. No loss, and no
/// assertion about time: they only check that what is sent arrives intact.
final class LoopbackTests: XCTestCase {
    func testTransferOfBinaryDataArrivesIntact() throws {
        for sack in [false, true] {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rudp-loop-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }

            var receiverConfig = ReceiverConfig()
            receiverConfig.sack = sack
            receiverConfig.outputDirectory = directory.path
            let socket = try UDPSocket.listening(port: 0)
            let port = socket.localPort
            XCTAssert(startThread { Receiver(config: receiverConfig).serve(on: socket) })

            // Every byte value, pipes and NULs included, over ~70 packets.
            var generator = SystemRandomNumberGenerator()
            let input = (0..<100_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var config = SenderConfig()
            config.sack = sack
            config.firstSeq = 1_000
            config.giveUp = .seconds(20)
            let peer = try resolve("localhost", port: port, type: Int32(SOCK_DGRAM.rawValue))[0]
            let stats = try send(ArraySource(input), over: UDPSocket.connected(to: peer), config: config)
            XCTAssertEqual(stats.bytes, input.count)

            // The file is complete before end's ack is sent (RUDP-14).
            let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            XCTAssertEqual(files.count, 1)
            XCTAssertFalse(files[0].hasSuffix(".partial"))
            XCTAssertEqual([UInt8](try Data(contentsOf: directory.appendingPathComponent(files[0]))), input)
        }
    }

    func testSenderGivesUpWithoutReceiver() throws {
        let silent = try UDPSocket.listening(port: 0) // bound, never answers
        var config = SenderConfig()
        config.giveUp = .seconds(1)
        let peer = try resolve("127.0.0.1", port: silent.localPort, type: Int32(SOCK_DGRAM.rawValue))[0]
        XCTAssertThrowsError(try send(ArraySource([1, 2, 3]), over: UDPSocket.connected(to: peer), config: config)) { error in
            guard case SendError.gaveUp = error else { return XCTFail("\(error)") }
        }
    }

    func testHelloClientAndServer() throws {
        for challenge in [false, true] {
            let listener = try TCPListener.listening(port: 0)
            let port = listener.localPort
            XCTAssert(startThread { Hello.serve(listener, challenge: challenge) })
            let reply = try Hello.exchange(host: "localhost", port: port)
            XCTAssertEqual(reply, challenge ? "Goodbye Swift from Swift" : "Goodbye in Swift")
        }
    }
}
