// test_codec.cpp - the worked examples of spec/rudp.md (RUDP-4, RUDP-5,
// RUDP-30) and the sizes of full datagrams (RUDP-46).
#include "../src/codec.hpp"
#include "check.hpp"

using rudp::Packet;
using rudp::Type;

TEST("codec: CRC-32 check value and the spec's worked examples (RUDP-4)")
{
    CHECK_EQ(rudp::crc32("123456789"), 3421780262u);
    CHECK_EQ(rudp::encode(Packet{Type::start, 0, "hello"}), "start|0|hello|1374653333");
    CHECK_EQ(rudp::encode_ack(1), "ack|1|2195368786");  // above 2^31: printed unsigned
    CHECK_EQ(rudp::encode_sack(3, {5, 6}), "sack|3;5,6|2211952226");
}

TEST("codec: data may contain '|' and any byte (RUDP-5)")
{
    auto parsed = rudp::parse("data|7|a|b|3661478912");
    auto* p = std::get_if<Packet>(&parsed);
    CHECK(p && p->type == Type::data && p->seqno == 7 && p->data == "a|b");

    std::string binary;
    for (int b = 0; b < 256; ++b)
        binary += static_cast<char>(b);
    std::string wire = rudp::encode(Packet{Type::end, 18446744073709551614u, binary});
    auto round = rudp::parse(wire);
    auto* q = std::get_if<Packet>(&round);
    CHECK(q && q->type == Type::end && q->seqno == 18446744073709551614u && q->data == binary);
}

TEST("codec: corrupted datagrams are rejected (RUDP-4, RUDP-8)")
{
    std::string wire = rudp::encode(Packet{Type::data, 42, "payload"});
    for (std::size_t i = 0; i < wire.size(); ++i) {
        std::string bad = wire;
        bad[i] ^= 0x01;
        CHECK(std::holds_alternative<rudp::ParseError>(rudp::parse(bad)));
    }
}

TEST("codec: full payloads make datagrams of at most 1472 bytes (RUDP-2, RUDP-46)")
{
    for (std::uint64_t seqno : {0ull, 9ull, 10ull, 999999999ull, 18446744073709551614ull}) {
        for (Type type : {Type::start, Type::data, Type::end}) {
            std::string full(rudp::max_payload(type, seqno), 'x');
            std::string wire = rudp::encode(Packet{type, seqno, full});
            CHECK(wire.size() <= rudp::kMaxDatagram);
            CHECK(wire.size() >= rudp::kMaxDatagram - 9);  // only the checksum may be shorter
        }
    }
}
