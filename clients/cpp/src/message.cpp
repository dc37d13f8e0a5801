// message.cpp - see message.hpp.
#include "message.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <vector>

#include "net.hpp"

namespace hello {

using Clock = std::chrono::steady_clock;

Message read_message(int fd, Clock::time_point deadline)
{
    std::string bytes;
    char buf[4096];
    for (;;) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            if (bytes.empty())
                throw NoMessage("nothing arrived within " + std::to_string(kTimeout.count()) + " s");
            return {bytes, End::deadline};  // a peer still trickling bytes
        }
        // Before the first byte we wait for the whole time left; after it,
        // the idle gap ends a message that has no '\n'.
        auto wait = bytes.empty() ? left : std::min<std::chrono::milliseconds>(left, kIdleGap);
        pollfd pfd{fd, POLLIN, 0};
        int ready = ::poll(&pfd, 1, static_cast<int>(wait.count()));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0)
            throw net::os_error("poll");
        if (ready == 0) {
            if (!bytes.empty() && wait == kIdleGap)
                return {bytes, End::idle_gap};
            continue;
        }
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == ECONNRESET && !bytes.empty())
            return {bytes, End::reset};  // the bytes before the reset count
        if (n < 0)
            throw NoMessage(std::system_error(errno, std::generic_category()).code().message());
        if (n == 0) {
            if (bytes.empty())
                throw NoMessage("the peer closed the connection without sending anything");
            return {bytes, End::close};
        }
        std::string_view got(buf, static_cast<std::size_t>(n));
        if (auto newline = got.find('\n'); newline != std::string_view::npos) {
            bytes.append(got.substr(0, newline));  // bytes after it are not ours
            return {bytes, End::newline};
        }
        bytes.append(got);
        if (bytes.size() >= kMaxMessage)
            throw NoMessage("more than 64 KiB without a newline");
    }
}

namespace {
bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f' || c == '\0';
}
}  // namespace

std::string_view trim(std::string_view message)
{
    while (!message.empty() && is_blank(message.front()))
        message.remove_prefix(1);
    while (!message.empty() && is_blank(message.back()))
        message.remove_suffix(1);
    return message;
}

std::string challenge_reply(std::string_view message, std::string_view server_language)
{
    // 1. whitespace trimmed around the message, runs inside it as one space
    std::vector<std::string> words;
    std::string word;
    for (char c : message) {
        if (!is_blank(c)) {
            word += c;
        } else if (!word.empty()) {
            words.push_back(std::move(word));
            word.clear();
        }
    }
    if (!word.empty())
        words.push_back(std::move(word));
    // 4. an empty message
    if (words.empty())
        return "Goodbye from " + std::string(server_language);

    auto lower = [](std::string s) {
        for (char& c : s)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return s;
    };
    // 2. "Hello in <rest>", any letter case, at least three words: the rest;
    // 3. otherwise the whole message.
    std::size_t first = words.size() >= 3 && lower(words[0]) == "hello" && lower(words[1]) == "in"
                            ? 2
                            : 0;
    std::string client_language;
    for (std::size_t i = first; i < words.size(); ++i) {
        if (i > first)
            client_language += ' ';
        client_language += words[i];
    }
    return "Goodbye " + client_language + " from " + std::string(server_language);
}

void write_all(int fd, std::string_view text)
{
    while (!text.empty()) {
        ssize_t n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw net::os_error("write");
        text.remove_prefix(static_cast<std::size_t>(n));
    }
}

}  // namespace hello
