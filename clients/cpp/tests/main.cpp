// main.cpp - runs every TEST (or those whose name contains argv[1]).
#include <cstring>
#include <exception>

#include "check.hpp"

int main(int argc, char** argv)
{
    int passed = 0, failed = 0;
    for (const auto& test : check::registry()) {
        if (argc > 1 && !std::strstr(test.name, argv[1]))
            continue;
        check::failures() = 0;
        try {
            test.body();
        } catch (const std::exception& e) {
            std::cerr << "exception: " << e.what() << "\n";
            ++check::failures();
        }
        if (check::failures() == 0) {
            ++passed;
        } else {
            ++failed;
            std::cerr << "FAIL: " << test.name << "\n";
        }
    }
    std::cout << passed << " passed, " << failed << " failed" << std::endl;
    return failed == 0 ? 0 : 1;
}
