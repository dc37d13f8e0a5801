// RUDP sender (RUDP-60):
//   rudp-sender -a HOST -p PORT [-f FILE] [-k] [-d] [-g GIVE_UP_SECONDS]
// Sends FILE, or standard input without -f; exits 0 once `end` is acked.
import Glibc
import Interop

var arguments = Arguments(usage: "rudp-sender -a HOST -p PORT [-f FILE] [-k] [-d] [-g GIVE_UP_SECONDS]")
var host: String?
var port: UInt16?
var file: String?
var config = SenderConfig()
// A random start seqno (RUDP-18: makes mix-ups with an earlier transfer from
// the same port practically impossible), small enough for any receiver.
config.firstSeq = UInt64.random(in: 0..<1_000_000)
while let argument = arguments.next() {
    switch argument {
    case "-a": host = arguments.value(of: "-a")
    case "-p": port = arguments.number(of: "-p", "the port")
    case "-f": file = arguments.value(of: "-f")
    case "-k": config.sack = true
    case "-d": config.debug = true
    case "-g": config.giveUp = .seconds(arguments.number(of: "-g", "the give-up time", as: Int.self))
    default: arguments.fail("unexpected argument \(argument)")
    }
}
guard let host else { arguments.fail("-a HOST is required") }
guard let port else { arguments.fail("-p PORT is required") }

do {
    let input = try file.map(FileSource.init(path:)) ?? FileSource(fd: STDIN_FILENO)
    let receiver = try resolve(host, port: port, type: Int32(SOCK_DGRAM.rawValue))[0]
    let socket = try UDPSocket.connected(to: receiver)
    let started = ContinuousClock.now
    let stats = try send(input, over: socket, config: config)
    if config.debug {
        printError("done: \(stats.bytes) bytes in \(stats.packets) packets (\(stats.transmissions) sent, \(stats.fastRetransmits) fast retransmits, \(stats.timeouts) timeouts) in \(started.duration(to: .now)), srtt \(stats.srtt.map { "\($0)" } ?? "none")")
    }
    exit(0)
} catch {
    printError("rudp-sender: \(error)") // RUDP-45: non-zero, with a message
    exit(1)
}
