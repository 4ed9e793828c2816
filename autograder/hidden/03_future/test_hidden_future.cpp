// Hidden tests, lab 03: edge cases of states and callbacks, the Waitable protocol, aio
// integration, stress and leak checks.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <aio/aio.hpp>

#include "future.hpp"

namespace {

using Log = std::vector<std::string>;

/// Where the stack is now: compared across callbacks, it shows whether they nest.
[[gnu::noinline]] std::uintptr_t stack_position() {
    return reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
}

void run_one_iteration(aio::EventLoop& loop) {
    loop.call_soon([&loop] { loop.stop(); });
    loop.run_forever();
}

/// An intrusive aio::DoneCallback that records what the loop does with it.
class ProbeCallback final : public aio::DoneCallback {
public:
    explicit ProbeCallback(Log& log) : log_(&log) {}
    void on_done(aio::Waitable& future) override {
        log_->push_back("on_done");
        seen = &future;
    }
    void release_from_loop() noexcept override { log_->push_back("release"); }
    aio::Waitable* seen = nullptr;

private:
    Log* log_;
};

/// A value whose construction can be made to fail.
struct Fragile {
    explicit Fragile(bool fail) {
        if (fail) throw std::runtime_error("construction failed");
    }
};

aio::Coro<void> await_void(lab::Future<void> future) { co_await future; }

aio::Coro<std::string> await_void_error(lab::Future<void> future) {
    try {
        co_await future;
    } catch (const std::runtime_error& error) {
        co_return error.what();
    }
    co_return "no exception";
}

aio::Coro<std::string> await_cancel_message(lab::Future<int> future) {
    try {
        co_await future;
    } catch (const aio::CancelledError& error) {
        co_return "cancelled: " + error.message();
    }
    co_return "not cancelled";
}

}  // namespace

// --- states --------------------------------------------------------------------------------

TEST_CASE("a value that fails to construct leaves the future pending", "[03][step1][state][hidden]") {
    aio::VirtualTimeLoop loop;
    lab::Future<Fragile> future(loop);
    CHECK_THROWS_AS(future.set_result(true), std::runtime_error);
    CHECK_FALSE(future.done());
    future.set_result(false);
    CHECK(future.done());
}

TEST_CASE("result() rethrows the very exception object that was set", "[03][step1][state][hidden]") {
    aio::VirtualTimeLoop loop;
    lab::Future<int> future(loop);
    future.set_exception(std::make_exception_ptr(std::runtime_error("same")));
    const std::exception* first = nullptr;
    const std::exception* second = nullptr;
    try {
        future.result();
    } catch (const std::exception& error) {
        first = &error;
    }
    try {
        future.result();
    } catch (const std::exception& error) {
        second = &error;
    }
    REQUIRE(first != nullptr);
    CHECK(first == second);
    CHECK(future.exception() == future.exception());
}

TEST_CASE("InvalidStateError from a finished future leaves its result alone", "[03][step1][state][hidden]") {
    aio::VirtualTimeLoop loop;
    lab::Future<std::string> future(loop);
    future.set_result("first");
    CHECK_THROWS_AS(future.set_result("second"), aio::InvalidStateError);
    CHECK_THROWS_AS(future.set_exception(std::make_exception_ptr(std::runtime_error("x"))), aio::InvalidStateError);
    CHECK(future.result() == "first");
    CHECK(future.exception() == nullptr);
}

// --- callbacks -----------------------------------------------------------------------------

TEST_CASE("on_done receives the future's own Waitable", "[03][step3][callbacks][hidden]") {
    aio::VirtualTimeLoop loop;
    Log log;
    ProbeCallback probe(log);
    lab::Future<int> future(loop);
    future.waitable().add_done_callback(probe);
    future.set_result(1);
    run_one_iteration(loop);
    CHECK(log == Log{"on_done", "release"});
    CHECK(probe.seen == &future.waitable());
}

TEST_CASE("on_done receives the future when the callback is added after completion",
          "[03][step3][callbacks][hidden]") {
    aio::VirtualTimeLoop loop;
    Log log;
    ProbeCallback probe(log);
    lab::Future<int> future(loop);
    future.cancel();
    future.waitable().add_done_callback(probe);
    CHECK(log.empty());
    run_one_iteration(loop);
    CHECK(log == Log{"on_done", "release"});
    CHECK(probe.seen == &future.waitable());
}

TEST_CASE("a callback removed through the Waitable protocol is neither run nor released by the future",
          "[03][step3][callbacks][hidden]") {
    aio::VirtualTimeLoop loop;
    Log log;
    ProbeCallback probe(log);
    lab::Future<int> future(loop);
    future.waitable().add_done_callback(probe);
    CHECK(future.waitable().remove_done_callback(probe));
    CHECK_FALSE(future.waitable().remove_done_callback(probe));
    future.set_result(1);
    run_one_iteration(loop);
    CHECK(log.empty());
}

TEST_CASE("a future destroyed with an intrusive callback registered releases it", "[03][step3][callbacks][hidden]") {
    aio::VirtualTimeLoop loop;
    Log log;
    ProbeCallback probe(log);
    {
        lab::Future<int> future(loop);
        future.waitable().add_done_callback(probe);
    }
    CHECK(log == Log{"release"});
}

TEST_CASE("removing the middle callback keeps the others in order", "[03][step3][callbacks][hidden]") {
    aio::VirtualTimeLoop loop;
    Log log;
    lab::Future<int> future(loop);
    std::vector<lab::CallbackToken> tokens;
    for (int i = 0; i < 5; ++i)
        tokens.push_back(future.add_done_callback([&log, i] { log.push_back(std::to_string(i)); }));
    CHECK(future.remove_done_callback(tokens[2]) == 1);
    CHECK(future.remove_done_callback(tokens[0]) == 1);
    future.set_result(0);
    run_one_iteration(loop);
    CHECK(log == Log{"1", "3", "4"});
}

TEST_CASE("a token of another future removes nothing", "[03][step3][callbacks][hidden]") {
    aio::VirtualTimeLoop loop;
    Log log;
    lab::Future<int> a(loop);
    lab::Future<int> b(loop);
    lab::CallbackToken token = a.add_done_callback([&log] { log.push_back("a"); });
    CHECK(b.remove_done_callback(token) == 0);
    CHECK(b.remove_done_callback(lab::CallbackToken{}) == 0);
    a.set_result(1);
    run_one_iteration(loop);
    CHECK(log == Log{"a"});
}

TEST_CASE("a callback added by a done callback runs in a later iteration", "[03][step3][callbacks][hidden]") {
    aio::VirtualTimeLoop loop;
    Log log;
    lab::Future<int> future(loop);
    future.add_done_callback([&] {
        log.push_back("outer");
        future.add_done_callback([&log] { log.push_back("inner"); });
    });
    future.set_result(1);
    run_one_iteration(loop);
    CHECK(log == Log{"outer"});
    run_one_iteration(loop);
    CHECK(log == Log{"outer", "inner"});
}

TEST_CASE("a chain of 100000 futures, each completed by the previous one's callback, does not recurse",
          "[03][step3][callbacks][stress][hidden]") {
    aio::VirtualTimeLoop loop;
    constexpr int length = 100000;
    std::vector<lab::Future<int>> chain;
    chain.reserve(length);
    for (int i = 0; i < length; ++i) chain.emplace_back(loop);
    // Each callback notes how deep the stack is: run by the loop, they all start at the same
    // depth; run inline by set_result, each would be nested in the previous one.
    std::uintptr_t lowest = std::numeric_limits<std::uintptr_t>::max();
    std::uintptr_t highest = 0;
    for (int i = 0; i + 1 < length; ++i) {
        lab::Future<int> next = chain[i + 1];
        chain[i].add_done_callback([next, &lowest, &highest](const lab::Future<int>& done) {
            const std::uintptr_t position = stack_position();
            lowest = std::min(lowest, position);
            highest = std::max(highest, position);
            next.set_result(done.result() + 1);
        });
    }
    chain[0].set_result(0);
    loop.run_until_done(chain.back().waitable());
    CHECK(chain.back().result() == length - 1);
    CHECK(highest - lowest < 4096);
}

TEST_CASE("a future dropped right after set_result still runs a callback that takes it",
          "[03][step3][callbacks][leak][hidden]") {
    aio::VirtualTimeLoop loop;
    Log log;
    {
        lab::Future<int> future(loop);
        future.add_done_callback([&log](const lab::Future<int>& done) { log.push_back(std::to_string(done.result())); });
        future.set_result(11);
    }
    run_one_iteration(loop);
    CHECK(log == Log{"11"});
}

TEST_CASE("completing a future whose loop is closed releases its callbacks without running them",
          "[03][step3][callbacks][leak][hidden]") {
    aio::VirtualTimeLoop loop;
    auto sentinel = std::make_shared<int>(0);
    bool ran = false;
    lab::Future<int> future(loop);
    future.add_done_callback([sentinel, &ran] { ran = true; });
    loop.close();
    CHECK_NOTHROW(future.set_result(1));
    CHECK(future.result() == 1);
    CHECK(sentinel.use_count() == 1);
    CHECK_FALSE(ran);
}

TEST_CASE("every scheduled callback is released once after it runs", "[03][step3][callbacks][leak][hidden]") {
    aio::VirtualTimeLoop loop;
    auto sentinel = std::make_shared<int>(0);
    {
        lab::Future<int> future(loop);
        for (int i = 0; i < 10; ++i) future.add_done_callback([sentinel] {});
        future.set_result(1);
        run_one_iteration(loop);
    }
    CHECK(sentinel.use_count() == 1);
}

// --- awaiting from aio tasks --------------------------------------------------------------

TEST_CASE("an aio task awaits a void lab future and sees the exception one finished with",
          "[03][step4][await][hidden]") {
    aio::VirtualTimeLoop loop;
    lab::Future<void> future(loop);
    loop.call_later(2.0, [future] { future.set_result(); });
    loop.run_until_complete(await_void(future));
    CHECK(aio::to_seconds(loop.time()) == Approx(2.0));
    lab::Future<void> failing(loop);
    loop.call_later(1.0, [failing] { failing.set_exception(std::make_exception_ptr(std::runtime_error("void failed"))); });
    CHECK(loop.run_until_complete(await_void_error(failing)) == "void failed");
    CHECK(aio::to_seconds(loop.time()) == Approx(3.0));
}

TEST_CASE("an aio task sees the message of a lab future cancelled under it", "[03][step4][await][cancel][hidden]") {
    aio::VirtualTimeLoop loop;
    lab::Future<int> future(loop);
    loop.call_later(1.0, [future] { future.cancel("deadline"); });
    CHECK(loop.run_until_complete(await_cancel_message(future)) == "cancelled: deadline");
}

TEST_CASE("a copyable value stays in the future after an aio task awaited it", "[03][step4][await][hidden]") {
    aio::VirtualTimeLoop loop;
    lab::Future<std::string> future(loop);
    loop.call_later(1.0, [future] { future.set_result("kept"); });
    auto main = [](lab::Future<std::string> pending) -> aio::Coro<std::string> {
        std::string value = co_await pending;
        co_return value;
    };
    CHECK(loop.run_until_complete(main(future)) == "kept");
    CHECK(future.result() == "kept");
}

TEST_CASE("1000 aio tasks await one lab future and all wake, in order", "[03][step4][await][stress][hidden]") {
    aio::VirtualTimeLoop loop;
    lab::Future<int> future(loop);
    std::vector<int> order;
    auto waiter = [](lab::Future<int> pending, std::vector<int>* into, int index) -> aio::Coro<void> {
        int value = co_await pending;
        into->push_back(index + value);
    };
    std::vector<aio::Task<void>> tasks;
    for (int i = 0; i < 1000; ++i) tasks.push_back(aio::create_task(loop, waiter(future, &order, i)));
    loop.call_later(1.0, [future] { future.set_result(0); });
    for (auto& task : tasks) loop.run_until_complete(task);
    REQUIRE(order.size() == 1000);
    for (int i = 0; i < 1000; ++i) CHECK(order[static_cast<std::size_t>(i)] == i);
}

