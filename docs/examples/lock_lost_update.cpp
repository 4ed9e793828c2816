// Chapter 10: one thread, and still a race: a read-modify-write with an await in the middle
// lets other tasks run between the read and the write. An aio::Lock makes the three steps
// one critical section.
#include <aio/aio.hpp>

#include <cstdio>
#include <optional>
#include <vector>

struct Account {
    int balance = 0;
    aio::Lock lock;
};

aio::Coro<void> deposit(Account& account, int amount, bool locked) {
    std::optional<aio::ReleaseGuard<aio::Lock>> held;
    if (locked) held.emplace(co_await account.lock.scoped_acquire());  // `async with lock:`
    const int balance = account.balance;    // read
    co_await aio::sleep(0.1);               // e.g. a round-trip to a database
    account.balance = balance + amount;     // write: overwrites what others wrote meanwhile
}

aio::Coro<int> five_deposits(bool locked) {
    Account account;
    std::vector<aio::Task<void>> tasks;
    for (int i = 0; i < 5; ++i) tasks.push_back(aio::create_task(deposit(account, 10, locked)));
    for (auto& task : tasks) co_await task;
    co_return account.balance;
}

aio::Coro<void> main_coro() {
    const int unlocked = co_await five_deposits(false);
    const int locked = co_await five_deposits(true);
    std::printf("without the lock: %d, with the lock: %d, at t=%.1f\n", unlocked, locked,
                aio::to_seconds(aio::get_running_loop().time()));
}

int main() {
    aio::run(main_coro(), {.loop_factory = [] { return std::make_unique<aio::VirtualTimeLoop>(); }});
}
