// receiver.cpp - see receiver.hpp.
#include "receiver.hpp"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <stdexcept>
#include <system_error>

#include "log.hpp"

namespace rudp {
namespace {

constexpr std::size_t kMaxTransfers = 256;  // a flood of starts must not exhaust memory or files

class FileOutput final : public Output {
public:
    explicit FileOutput(const std::string& name) : name_(name), partial_(name + ".partial")
    {
        file_.open(partial_, std::ios::binary | std::ios::trunc);
        if (!file_)
            throw std::system_error(errno, std::generic_category(), "cannot create " + partial_);
    }

    void write(std::string_view bytes) override
    {
        if (!file_.write(bytes.data(), static_cast<std::streamsize>(bytes.size())))
            throw std::system_error(errno, std::generic_category(), "cannot write " + partial_);
    }

    void complete() override
    {
        file_.close();
        if (file_.fail())
            throw std::system_error(errno, std::generic_category(), "cannot write " + partial_);
        std::filesystem::rename(partial_, name_);  // atomic: the name appears complete
    }

private:
    std::string name_, partial_;
    std::ofstream file_;
};

}  // namespace

std::unique_ptr<Output> open_file(const std::string& name)
{
    return std::make_unique<FileOutput>(name);
}

std::string output_name(const std::string& ip, std::uint16_t port)
{
    std::string name = ip;
    for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-')
            c = '_';
    return name + "." + std::to_string(port);
}

Receiver::Receiver(Options options, OutputFactory make_output)
    : options_(options), make_output_(std::move(make_output))
{
}

std::optional<std::string> Receiver::handle(std::string_view datagram, const std::string& ip,
                                            std::uint16_t port, Millis now)
{
    ParseResult parsed = parse(datagram);
    if (auto* error = std::get_if<ParseError>(&parsed)) {  // RUDP-8: dropped silently
        debug("dropped a datagram of ", datagram.size(), " bytes from ", ip, ": ",
              to_string(*error));
        return std::nullopt;
    }
    Packet& p = std::get<Packet>(parsed);
    if (p.is_ack()) {  // RUDP-6: a receiver ignores acks
        debug("dropped an ", to_string(p.type), " from ", ip);
        return std::nullopt;
    }

    std::string key = ip + "|" + std::to_string(port);
    auto found = transfers_.find(key);
    Transfer* t = found == transfers_.end() ? nullptr : &found->second;
    // RUDP-18: a start with another seqno or other data begins a new
    // transfer; the same start again is a retransmission.
    if (p.type == Type::start &&
        (!t || p.seqno != t->start_seqno || p.data != t->start_data)) {
        if (t)
            transfers_.erase(found);  // the old output stays as it is
        t = begin(key, output_name(ip, port), std::move(p));
        if (!t)
            return std::nullopt;
        p = Packet{Type::start, t->start_seqno, t->start_data};
    }
    if (!t) {  // RUDP-11: data or end without a transfer
        debug("dropped ", to_string(p.type), " ", p.seqno, " from ", ip, ": no transfer");
        return std::nullopt;
    }
    t->last_heard = now;  // RUDP-15: any valid packet counts, duplicates too
    if (!t->complete) {   // RUDP-17: after completion, only ack
        try {
            accept(*t, std::move(p));
        } catch (const std::exception& e) {
            std::cerr << "rudp-receiver: " << t->name << ": " << e.what() << ": transfer dropped\n";
            transfers_.erase(key);
            return std::nullopt;  // never ack what was not written
        }
    }
    return ack_for(*t);
}

Receiver::Transfer* Receiver::begin(const std::string& key, const std::string& name, Packet&& start)
{
    if (transfers_.size() >= kMaxTransfers) {
        std::cerr << "rudp-receiver: too many transfers at once: ignoring a start from " << name
                  << "\n";
        return nullptr;
    }
    Transfer t;
    t.name = name;
    t.start_seqno = t.next_expected = start.seqno;
    t.start_data = std::move(start.data);
    try {
        t.output = make_output_(name);
    } catch (const std::exception& e) {
        std::cerr << "rudp-receiver: " << e.what() << "\n";
        return nullptr;
    }
    debug(name, ": new transfer, start seqno ", t.start_seqno);
    return &transfers_.insert_or_assign(key, std::move(t)).first->second;
}

void Receiver::accept(Transfer& t, Packet&& p)
{
    // RUDP-12: the window is next_expected .. next_expected + 4. Anything
    // else (old duplicates, or too far ahead) is dropped, but still acked.
    // A packet with the largest seqno is dropped too: its ack would not fit.
    if (p.seqno < t.next_expected || p.seqno - t.next_expected >= kWindow ||
        p.seqno == std::numeric_limits<std::uint64_t>::max())
        return;
    t.held.try_emplace(p.seqno, Held{p.type, std::move(p.data)});  // at most once per seqno

    // RUDP-14: deliver in order, as far as the held packets reach.
    for (auto next = t.held.find(t.next_expected); next != t.held.end();
         next = t.held.find(t.next_expected)) {
        Held packet = std::move(next->second);
        t.held.erase(next);
        t.output->write(packet.data);
        ++t.next_expected;
        if (packet.type == Type::end) {
            t.output->complete();  // before end's ack goes out (RUDP-14)
            t.complete = true;
            t.held.clear();  // nothing comes after end
            std::cerr << "rudp-receiver: received " << t.name << "\n";
            break;
        }
    }
}

std::string Receiver::ack_for(const Transfer& t) const
{
    if (!options_.sack)
        return encode_ack(t.next_expected);  // RUDP-13
    // RUDP-31: exactly the held out-of-order seqnos, ascending (std::map is ordered).
    std::vector<std::uint64_t> held;
    for (const auto& entry : t.held)
        held.push_back(entry.first);
    return encode_sack(t.next_expected, held);
}

void Receiver::expire(Millis now)
{
    for (auto it = transfers_.begin(); it != transfers_.end();) {
        const Transfer& t = it->second;
        if (now - t.last_heard < options_.idle_timeout) {
            ++it;
            continue;
        }
        if (!t.complete)
            std::cerr << "rudp-receiver: " << t.name << " idle for "
                      << options_.idle_timeout.count() / 1000 << " s: dropped, " << t.name
                      << ".partial kept\n";
        it = transfers_.erase(it);
    }
}

}  // namespace rudp
