// check.hpp - a minimal unit test harness: TEST(name) { CHECK(...); }.
// The runner prints one line per failed check and closes with
// "N passed, N failed"; it exits non-zero if anything failed.
#pragma once

#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace check {

struct Test {
    const char* name;
    std::function<void()> body;
};

inline std::vector<Test>& registry()
{
    static std::vector<Test> tests;
    return tests;
}

inline int& failures()  // failed checks in the current test
{
    static int count = 0;
    return count;
}

struct Register {
    Register(const char* name, std::function<void()> body)
    {
        registry().push_back({name, std::move(body)});
    }
};

template <typename A, typename B>
void equal(const A& actual, const B& expected, const char* expr, const char* file, int line)
{
    if (actual == expected)
        return;
    std::ostringstream msg;
    msg << file << ":" << line << ": " << expr << "\n    got:  " << actual
        << "\n    want: " << expected;
    std::cerr << msg.str() << "\n";
    ++failures();
}

}  // namespace check

#define CHECK_CONCAT2(a, b) a##b
#define CHECK_CONCAT(a, b) CHECK_CONCAT2(a, b)
#define TEST(name)                                                                  \
    static void CHECK_CONCAT(test_, __LINE__)();                                    \
    static check::Register CHECK_CONCAT(register_, __LINE__)(name, CHECK_CONCAT(test_, __LINE__)); \
    static void CHECK_CONCAT(test_, __LINE__)()

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            std::cerr << __FILE__ << ":" << __LINE__ << ": CHECK(" #cond ") failed\n"; \
            ++check::failures();                                                     \
        }                                                                            \
    } while (0)

#define CHECK_EQ(actual, expected) \
    check::equal((actual), (expected), #actual " == " #expected, __FILE__, __LINE__)
