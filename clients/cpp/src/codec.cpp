// codec.cpp - see codec.hpp.
#include "codec.hpp"

#include <array>
#include <limits>
#include <optional>

namespace rudp {
namespace {

// The reflected CRC-32 table, computed once at compile time.
constexpr std::array<std::uint32_t, 256> make_crc_table()
{
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t n = 0; n < 256; ++n) {
        std::uint32_t c = n;
        for (int k = 0; k < 8; ++k)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[n] = c;
    }
    return table;
}

constexpr auto kCrcTable = make_crc_table();

// RUDP-3: 1 to 20 ASCII digits with a value below 2^64. Leading zeros are
// accepted; signs, spaces and other digit characters are not.
std::optional<std::uint64_t> parse_number(std::string_view text)
{
    if (text.empty() || text.size() > 20)
        return std::nullopt;
    std::uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return std::nullopt;
        auto digit = static_cast<std::uint64_t>(c - '0');
        if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
            return std::nullopt;
        value = value * 10 + digit;
    }
    return value;
}

bool all_digits(std::string_view text)
{
    for (char c : text)
        if (c < '0' || c > '9')
            return false;
    return true;
}

std::optional<Type> parse_type(std::string_view name)
{
    for (Type t : {Type::start, Type::data, Type::end, Type::ack, Type::sack})
        if (name == to_string(t))
            return t;
    return std::nullopt;
}

// Append the checksum of everything so far (RUDP-4).
std::string with_checksum(std::string covered)
{
    covered += std::to_string(crc32(covered));
    return covered;
}

ParseResult parse_sack(std::string_view field)
{
    // "<cum>;<s1>,<s2>,...": a missing ';' is an empty list (RUDP-30).
    Packet p(Type::sack, 0);
    auto semicolon = field.find(';');
    auto cum = parse_number(field.substr(0, semicolon));
    if (!cum)
        return ParseError::seqno;
    p.seqno = *cum;
    if (semicolon == std::string_view::npos || semicolon + 1 == field.size())
        return p;
    std::string_view list = field.substr(semicolon + 1);
    for (;;) {
        auto comma = list.find(',');
        auto seqno = parse_number(list.substr(0, comma));
        if (!seqno)
            return ParseError::sack;
        p.sacks.push_back(*seqno);
        if (comma == std::string_view::npos)
            return p;
        list.remove_prefix(comma + 1);
    }
}

}  // namespace

std::string_view to_string(Type type)
{
    switch (type) {
    case Type::start: return "start";
    case Type::data: return "data";
    case Type::end: return "end";
    case Type::ack: return "ack";
    case Type::sack: return "sack";
    }
    return "?";
}

std::string_view to_string(ParseError error)
{
    switch (error) {
    case ParseError::too_long: return "too_long";
    case ParseError::malformed: return "malformed";
    case ParseError::checksum: return "checksum";
    case ParseError::type: return "type";
    case ParseError::seqno: return "seqno";
    case ParseError::sack: return "sack";
    }
    return "?";
}

std::uint32_t crc32(std::string_view bytes)
{
    std::uint32_t c = 0xFFFFFFFFu;
    for (unsigned char b : bytes)
        c = kCrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

std::string encode(const Packet& packet)
{
    switch (packet.type) {
    case Type::ack: return encode_ack(packet.seqno);
    case Type::sack: return encode_sack(packet.seqno, packet.sacks);
    default: break;
    }
    std::string out;
    out.reserve(packet.data.size() + 40);
    out += to_string(packet.type);
    out += '|';
    out += std::to_string(packet.seqno);
    out += '|';
    out += packet.data;
    out += '|';
    return with_checksum(std::move(out));
}

std::string encode_ack(std::uint64_t next_expected)
{
    return with_checksum("ack|" + std::to_string(next_expected) + "|");
}

std::string encode_sack(std::uint64_t next_expected, const std::vector<std::uint64_t>& held)
{
    std::string out = "sack|" + std::to_string(next_expected) + ";";
    for (std::size_t i = 0; i < held.size(); ++i) {
        if (i > 0)
            out += ',';
        out += std::to_string(held[i]);
    }
    out += '|';
    return with_checksum(std::move(out));
}

ParseResult parse(std::string_view datagram)
{
    if (datagram.size() > kMaxDatagram)  // RUDP-2
        return ParseError::too_long;
    auto last = datagram.rfind('|');
    if (last == std::string_view::npos)
        return ParseError::malformed;
    std::string_view checksum = datagram.substr(last + 1);
    if (checksum.empty() || !all_digits(checksum))
        return ParseError::malformed;
    // RUDP-4: the field must be exactly the canonical decimal text.
    if (checksum != std::to_string(crc32(datagram.substr(0, last + 1))))
        return ParseError::checksum;
    auto first = datagram.find('|');
    if (first == last)  // "<type>|<checksum>": no seqno field at all
        return ParseError::malformed;

    auto type = parse_type(datagram.substr(0, first));
    // "<seq>|<data>" for start/data/end, "<seq>" for ack, "<cum>;<list>" for sack
    std::string_view rest = datagram.substr(first + 1, last - first - 1);
    if (type == Type::ack || type == Type::sack) {
        if (rest.find('|') != std::string_view::npos)  // RUDP-6: no data field
            return ParseError::malformed;
        if (type == Type::sack)
            return parse_sack(rest);
        auto seqno = parse_number(rest);
        if (!seqno)
            return ParseError::seqno;
        return Packet{Type::ack, *seqno};
    }
    if (!type)
        return ParseError::type;
    auto second = rest.find('|');
    if (second == std::string_view::npos)  // RUDP-5: "start|5|<checksum>" has no data field
        return ParseError::malformed;
    auto seqno = parse_number(rest.substr(0, second));
    if (!seqno)
        return ParseError::seqno;
    return Packet{*type, *seqno, std::string(rest.substr(second + 1))};
}

std::size_t max_payload(Type type, std::uint64_t seqno)
{
    // type, seqno, three '|' and the longest checksum, 4294967295.
    return kMaxDatagram - to_string(type).size() - std::to_string(seqno).size() - 3 - 10;
}

}  // namespace rudp
