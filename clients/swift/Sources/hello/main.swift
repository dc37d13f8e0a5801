// Hello Internet (HELLO-1..HELLO-30):
//   hello client HOST PORT
//   hello [--challenge] server PORT
import Glibc
import Interop

let usage = "hello client HOST PORT | hello [--challenge] server PORT"
var arguments = Arguments(usage: usage)
var challenge = false
var positional: [String] = []
while let argument = arguments.next() {
    switch argument {
    case "--challenge": challenge = true // HELLO-20
    case let flag where flag.hasPrefix("-"): arguments.fail("unknown option \(flag)")
    default: positional.append(argument)
    }
}

switch positional.first {
case "client" where positional.count == 3:
    guard let port = UInt16(positional[2]) else { arguments.fail("port must be a number") }
    do {
        let reply = try Hello.exchange(host: positional[1], port: port)
        print(reply) // HELLO-7: the reply alone on its line
        exit(0)
    } catch {
        printError("hello client: \(error)") // HELLO-8
        exit(1)
    }

case "server" where positional.count == 2:
    guard let port = UInt16(positional[1]) else { arguments.fail("port must be a number") }
    exitCleanlyOnTermination()
    do {
        let listener = try TCPListener.listening(port: port)
        printError("hello server: listening on TCP port \(port)\(challenge ? " (challenge)" : "")")
        Hello.serve(listener, challenge: challenge)
    } catch {
        printError("hello server: \(error)")
        exit(1)
    }

default:
    arguments.fail("expected a role")
}
