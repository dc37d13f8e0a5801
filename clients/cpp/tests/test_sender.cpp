// test_sender.cpp - how the sender splits its input (RUDP-7, RUDP-46), its
// RTT estimator (RUDP-41), and whole transfers through a lossy relay into
// the receiver's logic (RUDP-40..RUDP-45).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <random>
#include <thread>

#include "../src/net.hpp"
#include "../src/receiver.hpp"
#include "../src/sender.hpp"
#include "check.hpp"

namespace {

using namespace std::chrono_literals;

std::string random_bytes(std::size_t n, unsigned seed)
{
    std::mt19937 gen(seed);
    std::string out(n, '\0');
    for (char& c : out)
        c = static_cast<char>(gen() & 0xFF);
    return out;
}

// A file descriptor reading `content` (through a temporary file).
net::FileDescriptor input_of(const std::string& content)
{
    std::FILE* f = std::tmpfile();
    std::fwrite(content.data(), 1, content.size(), f);
    std::fflush(f);
    net::FileDescriptor fd(::dup(::fileno(f)));
    std::fclose(f);
    ::lseek(fd.get(), 0, SEEK_SET);
    return fd;
}

std::vector<rudp::Chunker::Chunk> chunks_of(const std::string& content, std::uint64_t first)
{
    auto fd = input_of(content);
    rudp::Chunker chunker(fd.get(), first);
    std::vector<rudp::Chunker::Chunk> out;
    do
        out.push_back(chunker.next());
    while (!out.back().last);
    return out;
}

net::FileDescriptor udp_socket_on_loopback()
{
    net::FileDescriptor fd(::socket(AF_INET, SOCK_DGRAM, 0));
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&any), sizeof any) != 0)
        throw net::os_error("bind");
    return fd;
}

std::uint16_t port_of(int fd)
{
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    return net::endpoint_of(a).port;
}

class MemoryOutput : public rudp::Output {
public:
    MemoryOutput(std::string& data, std::atomic<bool>& done) : data_(data), done_(done) {}
    void write(std::string_view bytes) override { data_.append(bytes); }
    void complete() override { done_ = true; }

private:
    std::string& data_;
    std::atomic<bool>& done_;
};

// A receiver (its logic on a loopback socket) behind a relay that loses,
// duplicates and reorders datagrams in both directions with a fixed seed.
class LossyPath {
public:
    LossyPath(bool sack, double loss, unsigned seed) : loss_(loss), gen_(seed)
    {
        rudp::Receiver::Options options;
        options.sack = sack;
        receiver_ = std::make_unique<rudp::Receiver>(options, [this](const std::string&) {
            received_.clear();
            complete_ = false;
            return std::make_unique<MemoryOutput>(received_, complete_);
        });
        receiver_thread_ = std::thread([this] { run_receiver(); });
        relay_thread_ = std::thread([this] { run_relay(); });
    }
    ~LossyPath()
    {
        stop_ = true;
        relay_thread_.join();
        receiver_thread_.join();
    }

    std::uint16_t port() const { return port_of(relay_.get()); }
    std::string received() const { return received_; }
    bool complete() const { return complete_; }

private:
    void run_receiver()
    {
        char buf[rudp::kMaxDatagram + 1];
        while (!stop_) {
            pollfd pfd{receiver_socket_.get(), POLLIN, 0};
            if (::poll(&pfd, 1, 20) <= 0)
                continue;
            sockaddr_storage from{};
            socklen_t len = sizeof from;
            ssize_t n = ::recvfrom(receiver_socket_.get(), buf, sizeof buf, 0,
                                   reinterpret_cast<sockaddr*>(&from), &len);
            auto peer = net::endpoint_of(from);
            auto now = std::chrono::duration_cast<rudp::Millis>(
                std::chrono::steady_clock::now().time_since_epoch());
            if (auto ack = receiver_->handle(std::string_view(buf, n), peer.ip, peer.port, now))
                ::sendto(receiver_socket_.get(), ack->data(), ack->size(), 0,
                         reinterpret_cast<sockaddr*>(&from), len);
        }
    }

    // Sender <-> relay_ ... toward_receiver_ <-> receiver.
    void run_relay()
    {
        sockaddr_in receiver{};
        receiver.sin_family = AF_INET;
        receiver.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        receiver.sin_port = htons(port_of(receiver_socket_.get()));
        ::connect(toward_receiver_.get(), reinterpret_cast<sockaddr*>(&receiver), sizeof receiver);
        sockaddr_storage sender{};
        socklen_t sender_len = 0;
        std::uniform_real_distribution<double> chance(0, 1);
        std::string held;  // one datagram held back, to reorder
        char buf[2048];
        while (!stop_) {
            pollfd pfds[2] = {{relay_.get(), POLLIN, 0}, {toward_receiver_.get(), POLLIN, 0}};
            if (::poll(pfds, 2, 20) <= 0)
                continue;
            if (pfds[0].revents & POLLIN) {
                sender_len = sizeof sender;
                ssize_t n = ::recvfrom(relay_.get(), buf, sizeof buf, 0,
                                       reinterpret_cast<sockaddr*>(&sender), &sender_len);
                std::string d(buf, n);
                if (chance(gen_) < loss_)
                    continue;
                if (chance(gen_) < 0.05 && held.empty()) {  // send it after the next one
                    held = d;
                    continue;
                }
                int copies = chance(gen_) < 0.05 ? 2 : 1;
                for (int i = 0; i < copies; ++i)
                    ::send(toward_receiver_.get(), d.data(), d.size(), 0);
                if (!held.empty())
                    ::send(toward_receiver_.get(), held.data(), held.size(), 0);
                held.clear();
            }
            if (pfds[1].revents & POLLIN) {
                ssize_t n = ::recv(toward_receiver_.get(), buf, sizeof buf, 0);
                if (n > 0 && sender_len > 0 && chance(gen_) >= loss_)
                    ::sendto(relay_.get(), buf, n, 0, reinterpret_cast<sockaddr*>(&sender),
                             sender_len);
            }
        }
    }

    double loss_;
    std::mt19937 gen_;
    std::atomic<bool> stop_{false};
    net::FileDescriptor receiver_socket_ = udp_socket_on_loopback();
    net::FileDescriptor relay_ = udp_socket_on_loopback();
    net::FileDescriptor toward_receiver_ = udp_socket_on_loopback();
    std::unique_ptr<rudp::Receiver> receiver_;
    std::string received_;
    std::atomic<bool> complete_{false};
    std::thread receiver_thread_, relay_thread_;
};

void transfer(bool sack, double loss, std::size_t size, unsigned seed)
{
    const std::string content = random_bytes(size, seed);
    LossyPath path(sack, loss, seed);
    auto input = input_of(content);
    auto sock = net::connect_udp("127.0.0.1", std::to_string(path.port()));
    rudp::Sender::Options options;
    options.sack = sack;
    options.first_seqno = seed * 1000;
    options.give_up = 20s;
    rudp::Chunker chunker(input.get(), options.first_seqno);
    rudp::Sender sender(sock.get(), options);
    sender.send(chunker);  // returns only once end is acked (RUDP-45)
    CHECK(path.complete());
    CHECK_EQ(path.received().size(), content.size());
    CHECK(path.received() == content);
}

}  // namespace

TEST("sender: an empty input is an empty start and an empty end (RUDP-7)")
{
    auto chunks = chunks_of("", 0);
    CHECK_EQ(chunks.size(), 2u);
    CHECK(chunks[0].data.empty() && !chunks[0].last);
    CHECK(chunks[1].data.empty() && chunks[1].last);
}

TEST("sender: a one-packet input goes in start, end is empty (RUDP-7)")
{
    auto chunks = chunks_of("one|packet", 7);
    CHECK_EQ(chunks.size(), 2u);
    CHECK_EQ(chunks[0].data, "one|packet");
    CHECK(chunks[1].data.empty() && chunks[1].last);
}

TEST("sender: larger inputs fill every packet; end carries the last piece (RUDP-46)")
{
    const std::uint64_t first = 99;
    const std::size_t start_room = rudp::max_payload(rudp::Type::start, first);
    const std::size_t data_room = rudp::max_payload(rudp::Type::data, first + 1);
    for (std::size_t size : {start_room + 1, start_room + data_room, start_room + 3 * data_room + 5}) {
        const std::string content = random_bytes(size, 1);
        auto chunks = chunks_of(content, first);
        std::string joined;
        for (std::size_t i = 0; i < chunks.size(); ++i) {
            joined += chunks[i].data;
            CHECK_EQ(chunks[i].last, i + 1 == chunks.size());
            if (i + 1 < chunks.size())
                CHECK_EQ(chunks[i].data.size(), i == 0 ? start_room : data_room);
        }
        CHECK(!chunks.back().data.empty());
        CHECK(joined == content);
    }
}

TEST("sender: RTO is 500 ms before a sample, then SRTT + 4 RTTVAR within 200 ms..1 s (RUDP-41)")
{
    rudp::RttEstimator rtt;
    CHECK(rtt.rto() == 500ms);
    rtt.sample(100ms);  // SRTT 100, RTTVAR 50
    CHECK(rtt.rto() == 300ms);
    for (int i = 0; i < 50; ++i)
        rtt.sample(1ms);
    CHECK(rtt.rto() == 200ms);  // the floor
    rtt.sample(5s);
    CHECK(rtt.rto() == 1s);  // the cap
}

TEST("sender: transfers complete through 20 % loss, duplicates and reordering")
{
    transfer(false, 0.2, 150 * 1024, 1);
}

TEST("sender: with sacks too (RUDP-30..RUDP-32)")
{
    transfer(true, 0.2, 150 * 1024, 2);
}

TEST("sender: empty and one-byte files through loss")
{
    transfer(false, 0.3, 0, 3);
    transfer(true, 0.3, 1, 4);
}
