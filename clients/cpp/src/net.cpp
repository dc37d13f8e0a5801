// net.cpp - see net.hpp.
#include "net.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <memory>
#include <stdexcept>

namespace net {

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept
{
    if (this != &other) {
        reset();
        fd_ = other.release();
    }
    return *this;
}

int FileDescriptor::release() noexcept
{
    int fd = fd_;
    fd_ = -1;
    return fd;
}

void FileDescriptor::reset() noexcept
{
    if (fd_ >= 0)
        ::close(fd_);
    fd_ = -1;
}

std::system_error os_error(const std::string& what, int error)
{
    return std::system_error(error, std::generic_category(), what);
}

std::uint16_t parse_port(std::string_view text)
{
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 1 ||
        value > 65535)
        throw std::invalid_argument("'" + std::string(text) + "' is not a port number (1-65535)");
    return static_cast<std::uint16_t>(value);
}

namespace {

struct AddrinfoDeleter {
    void operator()(addrinfo* list) const { freeaddrinfo(list); }
};
using AddrinfoList = std::unique_ptr<addrinfo, AddrinfoDeleter>;

AddrinfoList resolve(const std::string& host, const std::string& port, int type)
{
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = type;
    addrinfo* list = nullptr;
    if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &list); rc != 0)
        throw std::runtime_error("could not resolve host " + host + ": " + gai_strerror(rc));
    return AddrinfoList(list);
}

}  // namespace

FileDescriptor connect_tcp(const std::string& host, const std::string& port)
{
    auto list = resolve(host, port, SOCK_STREAM);  // HELLO-5: names, not only addresses
    int error = 0;
    for (const addrinfo* ai = list.get(); ai; ai = ai->ai_next) {
        FileDescriptor fd(::socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol));
        if (fd && ::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0)
            return fd;
        error = errno;
    }
    throw os_error("could not connect to " + host + " port " + port, error);
}

FileDescriptor connect_udp(const std::string& host, const std::string& port)
{
    auto list = resolve(host, port, SOCK_DGRAM);
    const addrinfo* chosen = list.get();
    for (const addrinfo* ai = list.get(); ai; ai = ai->ai_next)
        if (ai->ai_family == AF_INET) {
            chosen = ai;
            break;
        }
    FileDescriptor fd(::socket(chosen->ai_family, chosen->ai_socktype, chosen->ai_protocol));
    if (!fd || ::connect(fd.get(), chosen->ai_addr, chosen->ai_addrlen) != 0)
        throw os_error("cannot address " + host + " port " + port);
    return fd;
}

FileDescriptor bind_all_addresses(int type, std::uint16_t port)
{
    const int on = 1, off = 0;
    FileDescriptor fd(::socket(AF_INET6, type, 0));
    if (fd) {
        ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
        ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        sockaddr_in6 any{};
        any.sin6_family = AF_INET6;
        any.sin6_addr = in6addr_any;
        any.sin6_port = htons(port);
        if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&any), sizeof any) == 0)
            return fd;
    }
    fd = FileDescriptor(::socket(AF_INET, type, 0));  // no IPv6 here
    if (!fd)
        throw os_error("socket");
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_addr.s_addr = htonl(INADDR_ANY);
    any.sin_port = htons(port);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&any), sizeof any) != 0)
        throw os_error("cannot bind port " + std::to_string(port));
    return fd;
}

Endpoint endpoint_of(const sockaddr_storage& address)
{
    char text[INET6_ADDRSTRLEN] = "?";
    Endpoint e;
    if (address.ss_family == AF_INET) {
        const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
        ::inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
        e.port = ntohs(v4.sin_port);
    } else if (address.ss_family == AF_INET6) {
        const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
        if (IN6_IS_ADDR_V4MAPPED(&v6.sin6_addr))  // the last 4 bytes are the IPv4 address
            ::inet_ntop(AF_INET, &v6.sin6_addr.s6_addr[12], text, sizeof text);
        else
            ::inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
        e.port = ntohs(v6.sin6_port);
    }
    e.ip = text;
    return e;
}

}  // namespace net
