// log.hpp - debug output on stderr, switched on by -d.
#pragma once

#include <iostream>
#include <sstream>

inline bool debug_enabled = false;

// debug("sent ", seqno, " (", size, " bytes)"): one line on stderr, built
// first so that lines of concurrent threads never interleave.
template <typename... Args>
void debug(const Args&... args)
{
    if (!debug_enabled)
        return;
    std::ostringstream line;
    (line << ... << args) << '\n';
    std::cerr << line.str();
}
