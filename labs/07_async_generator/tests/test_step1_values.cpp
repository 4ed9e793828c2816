// Step 1: values on demand. The consumer pulls with `co_await gen.next()`; the body runs only
// then, up to its next co_yield, and std::nullopt says it has ended.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "aio/aio.hpp"
#include "async_generator.hpp"
#include "lab07_support.hpp"

using lab_test::Events;
using lab_test::Log;

namespace {

lab::AsyncGenerator<int> one_two_three(Events* events) {
    events->record("body starts");
    for (int i = 1; i <= 3; ++i) {
        events->record("yield ", i);
        co_yield i;
        events->record("resumed after ", i);
    }
    events->record("body returns");
}

aio::Coro<void> consume(Events* events) {
    auto gen = one_two_three(events);
    events->record("created");
    while (auto value = co_await gen.next()) events->record("got ", *value);
    events->record("exhausted");
}

}  // namespace

TEST_CASE("an async generator yields its values in order, running its body only on demand",
          "[07][step1][values]") {
    Events events;
    lab_test::run_virtual(consume(&events));
    CHECK(events.log == Log{"created", "body starts", "yield 1", "got 1", "resumed after 1", "yield 2", "got 2",
                            "resumed after 2", "yield 3", "got 3", "resumed after 3", "body returns", "exhausted"});
}

TEST_CASE("an async generator that yields nothing ends at the first next()", "[07][step1][values]") {
    Events events;
    aio::Coro<void> consumer = lab_test::consume_all(lab_test::count_to(0, &events), &events);
    lab_test::run_virtual(std::move(consumer));
    CHECK(events.log == Log{"body returns", "exhausted"});
}

namespace {
aio::Coro<void> ask_four_times(Events* events) {
    auto gen = lab_test::count_to(1, nullptr);
    for (int i = 0; i < 4; ++i) {
        auto value = co_await gen.next();
        events->record(value ? std::to_string(*value) : "nothing");
    }
}
}  // namespace

TEST_CASE("next() on an exhausted async generator keeps returning nothing", "[07][step1][values]") {
    Events events;
    lab_test::run_virtual(ask_four_times(&events));
    CHECK(events.log == Log{"1", "nothing", "nothing", "nothing"});
}

namespace {

struct Tracked {
    int* copies;
    explicit Tracked(int* counter) : copies(counter) {}
    Tracked(const Tracked& other) : copies(other.copies) { ++*copies; }
    Tracked(Tracked&&) noexcept = default;
};

lab::AsyncGenerator<Tracked> lvalue_then_rvalue(int* copies) {
    Tracked kept(copies);
    co_yield kept;             // copied: the body still owns `kept`
    co_yield Tracked(copies);  // moved: nobody else can see the temporary
    co_yield std::move(kept);  // moved: the body said so
}

aio::Coro<void> count_copies(int* copies, Events* events) {
    auto gen = lvalue_then_rvalue(copies);
    while (auto value = co_await gen.next()) events->record("copies so far: ", *copies);
}

}  // namespace

TEST_CASE("a yielded lvalue is copied to the consumer, a yielded rvalue is moved", "[07][step1][values]") {
    int copies = 0;
    Events events;
    lab_test::run_virtual(count_copies(&copies, &events));
    CHECK(events.log == Log{"copies so far: 1", "copies so far: 1", "copies so far: 1"});
}

namespace {

lab::AsyncGenerator<std::unique_ptr<int>> boxes() {
    for (int i = 1; i <= 3; ++i) co_yield std::make_unique<int>(i);
}

aio::Coro<int> sum_boxes() {
    auto gen = boxes();
    int sum = 0;
    while (auto value = co_await gen.next()) sum += **value;
    co_return sum;
}

lab::AsyncGenerator<std::string> words() {
    co_yield "async";
    std::string second = "generator";
    co_yield second;
}

aio::Coro<std::string> join_words() {
    auto gen = words();
    std::string joined;
    while (auto word = co_await gen.next()) joined += *word + ";";
    co_return joined;
}

}  // namespace

TEST_CASE("an async generator hands out move-only values and strings", "[07][step1][values]") {
    CHECK(lab_test::run_virtual(sum_boxes()) == 6);
    CHECK(lab_test::run_virtual(join_words()) == "async;generator;");
}

namespace {
aio::Coro<std::string> next_of_empty() {
    lab::AsyncGenerator<int> empty;
    try {
        auto never = empty.next();
        (void)never;
    } catch (const aio::RuntimeError&) {
        co_return "RuntimeError";
    }
    co_return "no error";
}
}  // namespace

TEST_CASE("next() of an empty generator throws RuntimeError", "[07][step1][values][errors]") {
    lab::AsyncGenerator<int> empty;
    CHECK_FALSE(empty);
    CHECK(lab_test::run_virtual(next_of_empty()) == "RuntimeError");
}
