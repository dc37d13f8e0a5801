// RUDP receiver (RUDP-61):
//   rudp-receiver [-p PORT] [-t TIMEOUT_SECONDS] [-k] [-d] [-o DIR]
// Writes each transfer into the working directory (or DIR); runs until stopped.
import Glibc
import Interop

var arguments = Arguments(usage: "rudp-receiver [-p PORT] [-t TIMEOUT_SECONDS] [-k] [-d] [-o DIR]")
var port: UInt16 = 33122
var config = ReceiverConfig()
while let argument = arguments.next() {
    switch argument {
    case "-p": port = arguments.number(of: "-p", "the port")
    case "-t": config.timeout = .seconds(arguments.number(of: "-t", "the timeout", as: Int.self))
    case "-k": config.sack = true
    case "-d": config.debug = true
    case "-o": config.outputDirectory = arguments.value(of: "-o")
    default: arguments.fail("unexpected argument \(argument)")
    }
}

exitCleanlyOnTermination()
do {
    let socket = try UDPSocket.listening(port: port)
    printError("rudp-receiver: listening on UDP port \(port)")
    Receiver(config: config).serve(on: socket)
} catch {
    printError("rudp-receiver: port \(port): \(error)")
    exit(1)
}
