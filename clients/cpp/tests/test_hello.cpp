// test_hello.cpp - reading Hello messages (HELLO-2, HELLO-15) and the
// challenge reply (HELLO-20).
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "../src/message.hpp"
#include "../src/net.hpp"
#include "check.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Pair {
    net::FileDescriptor reader, writer;
};

Pair socket_pair()
{
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        throw net::os_error("socketpair");
    return {net::FileDescriptor(fds[0]), net::FileDescriptor(fds[1])};
}

}  // namespace

TEST("hello: a line ends at the newline, bytes after it are not part of it")
{
    auto [reader, writer] = socket_pair();
    hello::write_all(writer.get(), "Hello in Go\nextra");
    auto m = hello::read_message(reader.get(), Clock::now() + 5s);
    CHECK_EQ(m.bytes, "Hello in Go");
    CHECK(m.end == hello::End::newline);
}

TEST("hello: a message split over several writes is read whole")
{
    auto [reader, writer] = socket_pair();
    std::thread trickle([fd = writer.get()] {
        for (char c : std::string("Hello in Rust\n")) {
            hello::write_all(fd, std::string(1, c));
            std::this_thread::sleep_for(5ms);
        }
    });
    auto m = hello::read_message(reader.get(), Clock::now() + 5s);
    trickle.join();
    CHECK_EQ(m.bytes, "Hello in Rust");
}

TEST("hello: without a newline, the close ends the message")
{
    auto [reader, writer] = socket_pair();
    hello::write_all(writer.get(), "Hello in C");
    ::shutdown(writer.get(), SHUT_WR);
    auto m = hello::read_message(reader.get(), Clock::now() + 5s);
    CHECK_EQ(m.bytes, "Hello in C");
    CHECK(m.end == hello::End::close);
}

TEST("hello: without a newline or close, the idle gap ends the message")
{
    auto [reader, writer] = socket_pair();
    hello::write_all(writer.get(), "Hello in Java");
    auto began = Clock::now();
    auto m = hello::read_message(reader.get(), began + 8s);
    CHECK_EQ(m.bytes, "Hello in Java");
    CHECK(m.end == hello::End::idle_gap);
    CHECK(Clock::now() - began >= hello::kIdleGap);  // never sooner than 1 s
}

TEST("hello: a close before the first byte is no message")
{
    auto [reader, writer] = socket_pair();
    writer.reset();
    bool thrown = false;
    try {
        hello::read_message(reader.get(), Clock::now() + 5s);
    } catch (const hello::NoMessage&) {
        thrown = true;
    }
    CHECK(thrown);
}

TEST("hello: whitespace and NUL bytes around a message are not part of it (HELLO-15)")
{
    CHECK_EQ(hello::trim(" \tHello in Go\r"), "Hello in Go");
    CHECK_EQ(hello::trim(std::string("Hello in C\0\0\0", 13)), "Hello in C");
    CHECK_EQ(hello::trim(" \r\n"), "");
}

TEST("hello: challenge replies (HELLO-20)")
{
    CHECK_EQ(hello::challenge_reply("Hello in Rust", "C++"), "Goodbye Rust from C++");
    CHECK_EQ(hello::challenge_reply("  hello IN   Objective  C \r", "C++"),
             "Goodbye Objective C from C++");
    CHECK_EQ(hello::challenge_reply("Hi from Ruby", "C++"), "Goodbye Hi from Ruby from C++");
    CHECK_EQ(hello::challenge_reply("Hello in", "C++"), "Goodbye Hello in from C++");
    CHECK_EQ(hello::challenge_reply(std::string(" \0\t", 3), "C++"), "Goodbye from C++");
    CHECK_EQ(hello::challenge_reply("Hello in C++", "Go"), "Goodbye C++ from Go");
}
