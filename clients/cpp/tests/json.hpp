// json.hpp - just enough JSON to read the spec's test vectors.
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace json {

struct Value {
    enum class Kind { null, boolean, number, string, array, object } kind = Kind::null;
    bool boolean = false;
    double number = 0;
    std::string string;
    std::vector<Value> array;
    std::map<std::string, Value> object;

    const Value& operator[](const std::string& key) const
    {
        auto it = object.find(key);
        if (it == object.end())
            throw std::out_of_range("no key " + key);
        return it->second;
    }
    bool has(const std::string& key) const { return object.count(key) != 0; }
    bool is_null() const { return kind == Kind::null; }
};

class Parser {
public:
    explicit Parser(std::string text) : s_(std::move(text)) {}

    Value parse()
    {
        Value v = value();
        skip();
        if (i_ != s_.size())
            fail("trailing text");
        return v;
    }

private:
    [[noreturn]] void fail(const std::string& what) const
    {
        throw std::runtime_error("json: " + what + " at offset " + std::to_string(i_));
    }
    void skip()
    {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t'))
            ++i_;
    }
    bool eat(char c)
    {
        skip();
        if (i_ < s_.size() && s_[i_] == c) {
            ++i_;
            return true;
        }
        return false;
    }
    void expect(char c)
    {
        if (!eat(c))
            fail(std::string("expected '") + c + "'");
    }
    bool word(const char* w)
    {
        std::string_view rest(s_.data() + i_, s_.size() - i_);
        std::string_view want(w);
        if (rest.substr(0, want.size()) != want)
            return false;
        i_ += want.size();
        return true;
    }

    Value value()
    {
        skip();
        Value v;
        if (i_ >= s_.size())
            fail("unexpected end");
        char c = s_[i_];
        if (c == '{') {
            ++i_;
            v.kind = Value::Kind::object;
            if (eat('}'))
                return v;
            do {
                skip();
                std::string key = string();
                expect(':');
                v.object[key] = value();
            } while (eat(','));
            expect('}');
        } else if (c == '[') {
            ++i_;
            v.kind = Value::Kind::array;
            if (eat(']'))
                return v;
            do
                v.array.push_back(value());
            while (eat(','));
            expect(']');
        } else if (c == '"') {
            v.kind = Value::Kind::string;
            v.string = string();
        } else if (word("true")) {
            v.kind = Value::Kind::boolean;
            v.boolean = true;
        } else if (word("false")) {
            v.kind = Value::Kind::boolean;
        } else if (word("null")) {
        } else {
            std::size_t used = 0;
            v.kind = Value::Kind::number;
            v.number = std::stod(s_.substr(i_, 32), &used);
            i_ += used;
        }
        return v;
    }

    void append_utf8(std::string& out, std::uint32_t cp)
    {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    std::uint32_t hex4()
    {
        if (i_ + 4 > s_.size())
            fail("short \\u escape");
        std::uint32_t cp = std::stoul(s_.substr(i_, 4), nullptr, 16);
        i_ += 4;
        return cp;
    }

    std::string string()
    {
        if (s_[i_] != '"')
            fail("expected a string");
        ++i_;
        std::string out;
        while (i_ < s_.size() && s_[i_] != '"') {
            char c = s_[i_++];
            if (c != '\\') {
                out += c;
                continue;
            }
            char e = s_[i_++];
            switch (e) {
            case 'n': out += '\n'; break;
            case 't': out += '\t'; break;
            case 'r': out += '\r'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'u': {
                std::uint32_t cp = hex4();
                if (cp >= 0xD800 && cp < 0xDC00 && word("\\u"))  // a surrogate pair
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4() - 0xDC00);
                append_utf8(out, cp);
                break;
            }
            default: out += e;  // \" \\ \/
            }
        }
        if (i_ >= s_.size())
            fail("unterminated string");
        ++i_;
        return out;
    }

    std::string s_;
    std::size_t i_ = 0;
};

inline Value parse_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot open " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return Parser(text.str()).parse();
}

// The vectors' byte strings: {"base64": ..., "escaped": ...}.
inline std::string base64_decode(const std::string& text)
{
    static const std::string alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        if (c == '=')
            break;
        auto pos = alphabet.find(c);
        if (pos == std::string::npos)
            throw std::runtime_error("bad base64");
        acc = (acc << 6) | static_cast<std::uint32_t>(pos);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xFF);
        }
    }
    return out;
}

inline std::string bytes(const Value& v) { return base64_decode(v["base64"].string); }

}  // namespace json
