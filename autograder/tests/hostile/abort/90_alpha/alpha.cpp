#include "alpha.hpp"

#include "aio/sleep.hpp"

#include <cstdlib>

namespace lab {

int add(int, int) { std::abort(); }
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
