// Chapter 2: a Coro is lazy; co_await runs it inline and hands back its value.
#include <aio/aio.hpp>

#include <cstdio>

// Parameters by value: a reference parameter would dangle once the caller's temporary dies.
aio::Coro<int> add(int a, int b) { co_return a + b; }

aio::Coro<int> main_coro() {
    aio::Coro<int> pending = add(2, 3);  // nothing has run yet: the frame is only created
    std::printf("created\n");
    int sum = co_await std::move(pending);  // runs add() now, in this task
    std::printf("sum=%d\n", sum);
    co_return sum;
}

int main() {
    aio::VirtualTimeLoop loop;
    return loop.run_until_complete(main_coro()) == 5 ? 0 : 1;
}
