// codec.hpp - the datagrams of the course's reliable file transfer over UDP
// (spec/rudp.md RUDP-1..RUDP-8, RUDP-30): CRC-32, encoding and parsing.
//
//   start|<seqno>|<data>|<checksum>      data|...      end|...
//   ack|<seqno>|<checksum>               sack|<cum>;<s1>,<s2>,...|<checksum>
//
// Datagrams and payloads are held in std::string / std::string_view: they
// are plain byte containers here, and may hold '|', NUL and any byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace rudp {

inline constexpr std::size_t kMaxDatagram = 1472;  // RUDP-2
inline constexpr std::uint64_t kWindow = 5;        // RUDP-12, RUDP-40

enum class Type { start, data, end, ack, sack };

std::string_view to_string(Type type);

struct Packet {
    Packet() = default;
    Packet(Type t, std::uint64_t s, std::string d = {}) : type(t), seqno(s), data(std::move(d)) {}

    Type type = Type::data;
    std::uint64_t seqno = 0;           // ack and sack: the next expected seqno
    std::string data;                  // start, data, end: the payload
    std::vector<std::uint64_t> sacks;  // sack: out-of-order seqnos the receiver holds

    bool is_ack() const { return type == Type::ack || type == Type::sack; }
};

// Why a datagram was rejected: the classes of spec/vectors/README.md, in the
// order they are checked.
enum class ParseError { too_long, malformed, checksum, type, seqno, sack };

std::string_view to_string(ParseError error);

using ParseResult = std::variant<Packet, ParseError>;

// CRC-32/IEEE, as zlib's crc32() and Go's crc32.ChecksumIEEE (RUDP-4).
std::uint32_t crc32(std::string_view bytes);

// Encode start/data/end (RUDP-1), ack (RUDP-6) or sack (RUDP-30) packets,
// checksum included, with canonical numbers (RUDP-3, RUDP-4).
std::string encode(const Packet& packet);
std::string encode_ack(std::uint64_t next_expected);
std::string encode_sack(std::uint64_t next_expected, const std::vector<std::uint64_t>& held);

// Split and check one datagram as RUDP-5 says: type up to the first '|',
// seqno up to the second, checksum after the last, data in between.
ParseResult parse(std::string_view datagram);

// The largest payload a start/data/end packet with this seqno can carry so
// that its datagram stays within 1472 bytes whatever its checksum (RUDP-46).
std::size_t max_payload(Type type, std::uint64_t seqno);

}  // namespace rudp
