import XCTest
import Interop

final class HelloTests: XCTestCase {
    /// HELLO-20's examples.
    func testChallengeReplies() {
        XCTAssertEqual(Hello.challengeReply(to: "Hello in C++"), "Goodbye C++ from Swift")
        XCTAssertEqual(Hello.challengeReply(to: "hello  IN\tObjective  C"), "Goodbye Objective C from Swift")
        XCTAssertEqual(Hello.challengeReply(to: "Hi from Ruby"), "Goodbye Hi from Ruby from Swift")
        XCTAssertEqual(Hello.challengeReply(to: "Hello in"), "Goodbye Hello in from Swift")
        XCTAssertEqual(Hello.challengeReply(to: ""), "Goodbye from Swift")
    }

    /// HELLO-15: whitespace, CR and NUL bytes around a message are not part of it.
    func testTextTrimsBlanksAndNULs() {
        XCTAssertEqual(Hello.text(Array(" Hello in C\r\n".utf8) + [0, 0]), "Hello in C")
        XCTAssertEqual(Hello.text(Array("Hello  in Go".utf8)), "Hello  in Go")
    }
}
