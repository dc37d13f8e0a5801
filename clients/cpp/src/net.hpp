// net.hpp - the few POSIX socket helpers the four programs share.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace net {

// Owns a file descriptor and closes it when it goes out of scope (RAII).
class FileDescriptor {
public:
    FileDescriptor() = default;
    explicit FileDescriptor(int fd) : fd_(fd) {}
    FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.release()) {}
    FileDescriptor& operator=(FileDescriptor&& other) noexcept;
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor() { reset(); }

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release() noexcept;
    void reset() noexcept;

private:
    int fd_ = -1;
};

// A std::system_error for errno, with what() = "<what>: <strerror>".
std::system_error os_error(const std::string& what, int error = errno);

// Port numbers from the command line: 1-65535, digits only.
std::uint16_t parse_port(std::string_view text);

// Resolve HOST (a name or an address) and connect a TCP socket to the first
// address that accepts. Throws with a message that says which step failed.
FileDescriptor connect_tcp(const std::string& host, const std::string& port);

// A UDP socket connected to HOST:PORT, so that send() needs no address and
// only that peer's datagrams reach it. IPv4 is preferred: "localhost" also
// means ::1, where many receivers do not listen.
FileDescriptor connect_udp(const std::string& host, const std::string& port);

// A socket of the given type (SOCK_STREAM or SOCK_DGRAM) bound to PORT on
// every address: IPv6 "::" accepting IPv4 too, or 0.0.0.0 where the machine
// has no IPv6 (HELLO-10, RUDP-61).
FileDescriptor bind_all_addresses(int type, std::uint16_t port);

// The peer address in its usual text form; an IPv4-mapped IPv6 address
// (::ffff:172.18.0.3) in its IPv4 form (HELLO-21).
struct Endpoint {
    std::string ip;
    std::uint16_t port = 0;
};
Endpoint endpoint_of(const sockaddr_storage& address);

}  // namespace net
