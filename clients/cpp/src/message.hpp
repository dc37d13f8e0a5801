// message.hpp - reading and interpreting Hello messages (spec/hello.md).
#pragma once

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace hello {

inline constexpr std::string_view kLanguage = "C++";  // MANIFEST-3: our name in messages
inline constexpr std::chrono::milliseconds kIdleGap{1000};      // HELLO-2
inline constexpr std::chrono::seconds kTimeout{10};             // HELLO-8: overall wait
inline constexpr std::size_t kMaxMessage = 64 * 1024;           // HELLO-1, newline included

// How a message ended (spec/hello.md, "How a receiver ends a message").
enum class End { newline, close, reset, idle_gap, deadline };

struct Message {
    std::string bytes;  // as received, without the '\n'
    End end;
};

// No message: nothing arrived before the deadline, the peer closed before
// sending a byte, the message was too long, or the socket failed.
class NoMessage : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Reads one message from a connected socket (HELLO-2): until a '\n', the
// peer's close (or reset) after at least one byte, or 1 s without a byte
// once one has arrived; never just one read() call's worth. Before the first
// byte it waits until the deadline.
Message read_message(int fd, std::chrono::steady_clock::time_point deadline);

// The message's text: spaces, tabs, CR, LF and NUL bytes around it removed
// (HELLO-15).
std::string_view trim(std::string_view message);

// The challenge reply (HELLO-20), without its '\n':
// "Goodbye <ClientLanguage> from <ServerLanguage>".
std::string challenge_reply(std::string_view message, std::string_view server_language);

// Writes all of `text`, whatever write() does with it. Throws on failure.
void write_all(int fd, std::string_view text);

}  // namespace hello
