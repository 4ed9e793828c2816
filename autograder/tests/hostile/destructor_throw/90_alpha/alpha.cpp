#include "alpha.hpp"

#include "aio/sleep.hpp"

#include <stdexcept>

namespace lab {
namespace {

struct Thrower {
    ~Thrower() noexcept(false) { throw std::runtime_error("thrown from a destructor"); }
};

}  // namespace

// A local whose destructor throws: the exception leaves add() (the test fails).
int add(int a, int b) {
    Thrower local;
    return a + b;
}

// A static whose destructor throws at exit, after the test passed: std::terminate.
int multiply(int a, int b) {
    static Thrower at_exit;
    return a * b;
}
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
