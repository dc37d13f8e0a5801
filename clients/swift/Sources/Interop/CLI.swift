import Glibc

/// A minimal parser for the course's flags (`-a HOST -p PORT -f FILE -k -d`):
/// the standard library has no argument parser, and swift-argument-parser is
/// a package we cannot fetch offline.
public struct Arguments {
    private var remaining: ArraySlice<String>
    public let usage: String

    public init(_ arguments: [String] = CommandLine.arguments, usage: String) {
        remaining = arguments.dropFirst()
        self.usage = usage
    }

    /// The next argument, or nil at the end.
    public mutating func next() -> String? {
        remaining.popFirst()
    }

    /// The value after `flag`.
    public mutating func value(of flag: String) -> String {
        guard let value = remaining.popFirst() else { fail("\(flag) needs a value") }
        return value
    }

    /// The value after `flag` as a number (a port, a number of seconds).
    public mutating func number<T: FixedWidthInteger>(of flag: String, _ what: String, as _: T.Type = T.self) -> T {
        let text = value(of: flag)
        guard let number = T(text) else { fail("\(what) must be a number, got \"\(text)\"") }
        return number
    }

    /// Prints `message` and the usage on stderr and exits with status 2.
    public func fail(_ message: String) -> Never {
        printError("\(message)\nusage: \(usage)")
        exit(2)
    }
}

/// Exits 0 on SIGTERM and SIGINT: servers and receivers run until the suite
/// stops them (HELLO-13, RUDP-61), and being stopped is not a failure.
public func exitCleanlyOnTermination() {
    signal(SIGTERM) { _ in _exit(0) }
    signal(SIGINT) { _ in _exit(0) }
}
