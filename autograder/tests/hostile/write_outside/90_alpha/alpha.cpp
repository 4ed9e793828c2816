#include "alpha.hpp"

#include "aio/sleep.hpp"

#include <cstdio>
#include <string>

namespace lab {
namespace {

bool write_marker(const std::string& path) {
    std::FILE* file = std::fopen(path.c_str(), "w");
    if (file == nullptr) return false;
    std::fputs("escaped\n", file);
    return std::fclose(file) == 0;
}

}  // namespace

// Returns the right sum only if it could write next to its own source (the grader's
// scratch folder, whose path __FILE__ gives away) and into the machine's /tmp.
int add(int a, int b) {
    std::string here = __FILE__;
    std::string folder = here.substr(0, here.rfind('/'));
    bool wrote = write_marker(folder + "/../../aiolab-hostile-escape") &&
                 write_marker("/tmp/aiolab-hostile-escape");
    return wrote ? a + b : -1;
}
int multiply(int a, int b) { return a * b; }
std::string greet(std::string_view name) { return "hello, " + std::string(name); }
long sum_to(int n) {
    long total = 0;
    for (int i = 1; i <= n; ++i) total += i;
    return total;
}
aio::Coro<int> async_double(int value) {
    co_await aio::sleep(1.0);
    co_return 2 * value;
}

}  // namespace lab
