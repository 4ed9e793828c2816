#include "alpha.hpp"

#include "aio/sleep.hpp"

#include <cstring>
#include <string>

// Embeds the reference solution's source through the assembler, spelled so that a text
// search for the directive does not see it; only the build sandbox stops it. The path is
// relative to the build tree, where the compiler runs (the fixture project's layout).
#define AIOLAB_TEXT(x) #x
#define AIOLAB_PATH "../../project/solutions/90_alpha/alpha.cpp"
asm(".section .rodata\n.global stolen_source\nstolen_source:\n.inc" AIOLAB_TEXT(bin) " \"" AIOLAB_PATH "\"\n.byte 0\n.text\n");
extern "C" const char stolen_source[];

namespace lab {

int add(int a, int b) { return std::strlen(stolen_source) > 0 ? a + b : -1; }
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
