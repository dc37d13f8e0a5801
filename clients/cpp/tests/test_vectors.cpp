// test_vectors.cpp - every vector of spec/vectors/datagrams.json and every
// script of spec/vectors/receiver.json (copies in tests/vectors/).
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "../src/codec.hpp"
#include "../src/receiver.hpp"
#include "check.hpp"
#include "json.hpp"

namespace {

std::string vectors_dir()
{
    const char* dir = std::getenv("VECTORS_DIR");
    return dir ? dir : "tests/vectors";
}

std::string type_name(const rudp::Packet& p) { return std::string(rudp::to_string(p.type)); }

// "10.0.0.1:5000" or "[2001:db8::1]:5000"
std::pair<std::string, std::uint16_t> split_address(const std::string& address)
{
    auto colon = address.rfind(':');
    std::string ip = address.substr(0, colon);
    if (!ip.empty() && ip.front() == '[')
        ip = ip.substr(1, ip.size() - 2);
    return {ip, static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1)))};
}

// Keeps every transfer's output in memory, in the order transfers begin.
struct Recorded {
    std::string name, data;
    bool complete = false;
};

class MemoryOutput : public rudp::Output {
public:
    explicit MemoryOutput(std::shared_ptr<Recorded> record) : record_(std::move(record)) {}
    void write(std::string_view bytes) override { record_->data.append(bytes); }
    void complete() override { record_->complete = true; }

private:
    std::shared_ptr<Recorded> record_;
};

// Feeds one script's steps to a receiver, checking every ack.
void run_script(const json::Value& script, rudp::Receiver& receiver)
{
    for (const auto& step : script["steps"].array) {
        auto [ip, port] = split_address(step["from"].string);
        rudp::Millis at(static_cast<long>(step["at_ms"].number));
        receiver.expire(at);
        auto ack = receiver.handle(json::bytes(step["datagram"]), ip, port, at);
        std::string where = script["name"].string + ", step at " +
                            std::to_string(at.count()) + " ms: " +
                            step["datagram"]["escaped"].string;
        if (step["ack"].is_null()) {
            if (ack)
                std::cerr << where << ": unexpected ack " << *ack << "\n";
            CHECK(!ack);
        } else {
            std::string want = json::bytes(step["ack"]);
            if (!ack || *ack != want)
                std::cerr << where << ": ack " << (ack ? *ack : "(none)") << ", want " << want << "\n";
            CHECK(ack && *ack == want);
        }
    }
}

rudp::Receiver::Options options_of(const json::Value& script)
{
    rudp::Receiver::Options options;
    options.sack = script["sack"].boolean;
    options.idle_timeout = rudp::Millis(static_cast<long>(script["idle_timeout_ms"].number));
    return options;
}

std::string read_file(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

TEST("datagrams.json: every vector parses (or is rejected) as the spec says")
{
    auto doc = json::parse_file(vectors_dir() + "/datagrams.json");
    CHECK(doc["vectors"].array.size() > 30);
    for (const auto& v : doc["vectors"].array) {
        const std::string& name = v["name"].string;
        rudp::ParseResult result = rudp::parse(json::bytes(v["datagram"]));
        const auto* packet = std::get_if<rudp::Packet>(&result);
        if (!v["valid"].boolean) {
            const auto* error = std::get_if<rudp::ParseError>(&result);
            if (!error || rudp::to_string(*error) != v["error"].string)
                std::cerr << name << ": want error " << v["error"].string << "\n";
            CHECK(error && rudp::to_string(*error) == v["error"].string);
            continue;
        }
        if (!packet) {
            std::cerr << name << ": rejected as "
                      << rudp::to_string(std::get<rudp::ParseError>(result)) << "\n";
            CHECK(packet);
            continue;
        }
        const auto& want = v["packet"];
        CHECK_EQ(type_name(*packet), want["type"].string);
        CHECK_EQ(std::to_string(packet->seqno), want["seqno"].string);
        if (want.has("data"))
            CHECK(packet->data == json::bytes(want["data"]));
        std::vector<std::string> sacks, want_sacks;
        for (auto s : packet->sacks)
            sacks.push_back(std::to_string(s));
        if (want.has("sacks"))
            for (const auto& s : want["sacks"].array)
                want_sacks.push_back(s.string);
        CHECK(sacks == want_sacks);
        if (v.has("canonical") && v["canonical"].boolean)
            CHECK(rudp::encode(*packet) == json::bytes(v["datagram"]));
    }
}

TEST("receiver.json: every script gives the exact acks and outputs")
{
    auto doc = json::parse_file(vectors_dir() + "/receiver.json");
    CHECK(doc["vectors"].array.size() > 10);
    for (const auto& script : doc["vectors"].array) {
        std::vector<std::shared_ptr<Recorded>> outputs;
        rudp::Receiver receiver(options_of(script), [&](const std::string& name) {
            outputs.push_back(std::make_shared<Recorded>(Recorded{name, "", false}));
            return std::make_unique<MemoryOutput>(outputs.back());
        });
        run_script(script, receiver);

        const auto& transfers = script["transfers"].array;
        CHECK_EQ(outputs.size(), transfers.size());
        for (std::size_t i = 0; i < std::min(outputs.size(), transfers.size()); ++i) {
            auto [ip, port] = split_address(transfers[i]["from"].string);
            CHECK_EQ(outputs[i]->name, rudp::output_name(ip, port));
            CHECK_EQ(outputs[i]->complete, transfers[i]["complete"].boolean);
            if (outputs[i]->data != json::bytes(transfers[i]["output"]))
                std::cerr << script["name"].string << ": transfer " << i << " output differs\n";
            CHECK(outputs[i]->data == json::bytes(transfers[i]["output"]));
        }
    }
}

TEST("receiver.json: the files on disk are the reference's, names included")
{
    auto doc = json::parse_file(vectors_dir() + "/receiver.json");
    const auto home = std::filesystem::current_path();
    const auto base = std::filesystem::temp_directory_path() /
                      ("cpp-vectors-" + std::to_string(::getpid()));
    for (const auto& script : doc["vectors"].array) {
        const auto dir = base / std::to_string(&script - doc["vectors"].array.data());
        std::filesystem::create_directories(dir);
        std::filesystem::current_path(dir);
        {
            rudp::Receiver receiver(options_of(script), rudp::open_file);
            run_script(script, receiver);
        }  // the receiver closes its files
        std::filesystem::current_path(home);

        std::map<std::string, std::string> got, want;
        for (const auto& entry : std::filesystem::directory_iterator(dir))
            got[entry.path().filename().string()] = read_file(entry.path());
        for (const auto& file : script["files"].array)
            want[file["name"].string] = json::bytes(file["content"]);
        if (got != want)
            std::cerr << script["name"].string << ": files in the output directory differ\n";
        CHECK(got == want);
    }
    std::filesystem::remove_all(base);
}
