// aio::Generator<T>: the synchronous generator (Python's generator), usable in range-for.
#include <catch2/catch.hpp>

#include <iterator>
#include <memory>
#include <ranges>
#include <stdexcept>
#include <string>
#include <vector>

#include "aio/generator.hpp"
#include "test_support.hpp"

namespace {

using aio_test::Events;
using aio_test::FrameLeakCheck;

static_assert(std::input_iterator<aio::Generator<int>::iterator>);
static_assert(std::ranges::input_range<aio::Generator<int>>);
static_assert(std::ranges::input_range<aio::Generator<const std::string&>>);
static_assert(!std::is_copy_constructible_v<aio::Generator<int>>);
static_assert(std::is_nothrow_move_constructible_v<aio::Generator<int>>);

aio::Generator<int> count_to(int n, Events* events) {
    for (int i = 1; i <= n; ++i) {
        if (events) events->record("yield ", i);
        co_yield i;
    }
    if (events) events->record("body returns");
}

/// Records its destruction: an RAII guard in a generator body shows when cleanup runs.
struct Guard {
    Events* events;
    std::string name;
    ~Guard() { events->record(name, " destroyed"); }
};

aio::Generator<int> guarded_count(Events* events) {
    Guard guard{events, "guard"};
    for (int i = 1;; ++i) co_yield i;
}

aio::Generator<int> fail_after(int yields, Events* events) {
    for (int i = 1; i <= yields; ++i) co_yield i;
    events->record("body throws");
    throw std::runtime_error("boom");
}

/// Counts copies, to show which yields copy and which do not.
struct Tracked {
    int* copies;
    Tracked(int* counter) : copies(counter) {}
    Tracked(const Tracked& other) : copies(other.copies) { ++*copies; }
    Tracked& operator=(const Tracked&) = default;
};

}  // namespace

TEST_CASE("a generator yields its values in order, running its body only on demand", "[generator]") {
    Events events;
    auto numbers = count_to(3, &events);
    events.record("created");
    for (int value : numbers) events.record("got ", value);
    events.record("loop done");
    REQUIRE(events.log == std::vector<std::string>{"created", "yield 1", "got 1", "yield 2", "got 2",
                                                   "yield 3", "got 3", "body returns", "loop done"});
}

TEST_CASE("a generator that yields nothing is an empty range", "[generator]") {
    Events events;
    auto empty = count_to(0, &events);
    REQUIRE(empty.begin() == empty.end());
    REQUIRE(events.log == std::vector<std::string>{"body returns"});
}

TEST_CASE("a default-made generator is an empty range", "[generator]") {
    aio::Generator<int> none;
    REQUIRE_FALSE(none);
    REQUIRE(none.begin() == none.end());
}

TEST_CASE("a generator that is never iterated never runs its body and frees its frame", "[generator][frames]") {
    FrameLeakCheck frames;
    Events events;
    {
        auto numbers = count_to(3, &events);
        // No assertion that the frame is counted here: clang may elide the allocation
        // of a frame that never escapes this scope (HALO).
        (void)numbers;
    }
    REQUIRE(events.log.empty());
    REQUIRE(frames.leaked() == 0);
}

TEST_CASE("an exception thrown before the first yield comes out of begin()", "[generator][exception]") {
    Events events;
    auto failing = fail_after(0, &events);
    REQUIRE_THROWS_WITH(failing.begin(), "boom");
    REQUIRE(events.log == std::vector<std::string>{"body throws"});
    // The body is finished: iterating again is an empty range, not a second throw.
    REQUIRE(failing.begin() == failing.end());
}

TEST_CASE("an exception thrown after some yields comes out of the increment and ends the range",
          "[generator][exception]") {
    Events events;
    auto failing = fail_after(2, &events);
    auto it = failing.begin();
    events.record("got ", *it);
    ++it;
    events.record("got ", *it);
    REQUIRE_THROWS_WITH(++it, "boom");
    REQUIRE(it == failing.end());
    REQUIRE(events.log == std::vector<std::string>{"got 1", "got 2", "body throws"});
}

TEST_CASE("leaving a range-for early runs the body's destructors and frees the frame", "[generator][frames]") {
    FrameLeakCheck frames;
    Events events;
    {
        auto numbers = guarded_count(&events);
        for (int value : numbers) {
            events.record("got ", value);
            if (value == 2) break;
        }
        events.record("after break");
    }
    events.record("generator gone");
    REQUIRE(events.log ==
            std::vector<std::string>{"got 1", "got 2", "after break", "guard destroyed", "generator gone"});
    REQUIRE(frames.leaked() == 0);
}

TEST_CASE("a range-for over a temporary generator cleans up when the loop is left", "[generator][frames]") {
    FrameLeakCheck frames;
    Events events;
    for (int value : guarded_count(&events)) {
        events.record("got ", value);
        if (value == 1) break;
    }
    events.record("after loop");
    REQUIRE(events.log == std::vector<std::string>{"got 1", "guard destroyed", "after loop"});
    REQUIRE(frames.leaked() == 0);
}

TEST_CASE("a moved generator continues where the original left off", "[generator][move]") {
    auto original = count_to(4, nullptr);
    auto it = original.begin();
    REQUIRE(*it == 1);
    aio::Generator<int> moved = std::move(original);
    REQUIRE_FALSE(original);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
    REQUIRE(original.begin() == original.end());
    std::vector<int> rest;
    for (int value : moved) rest.push_back(value);  // begin() again: the current position
    REQUIRE(rest == std::vector<int>{1, 2, 3, 4});
}

TEST_CASE("move-assigning a generator destroys the frame it replaces", "[generator][move][frames]") {
    FrameLeakCheck frames;
    Events events;
    {
        auto target = guarded_count(&events);
        REQUIRE(*target.begin() == 1);
        target = count_to(1, nullptr);
        events.record("assigned");
        for (int value : target) events.record("new generator got ", value);
    }
    REQUIRE(events.log == std::vector<std::string>{"guard destroyed", "assigned", "new generator got 1"});
    REQUIRE(frames.leaked() == 0);
}

TEST_CASE("a yielded lvalue is handed out by reference, not copied", "[generator][values]") {
    int copies = 0;
    std::vector<const Tracked*> yielded;
    auto make = [](int* counter, std::vector<const Tracked*>* addresses) -> aio::Generator<Tracked> {
        Tracked local(counter);
        addresses->push_back(&local);
        co_yield local;
    };
    auto one = make(&copies, &yielded);
    for (Tracked& value : one) REQUIRE(&value == yielded.at(0));
    REQUIRE(copies == 0);
}

TEST_CASE("a yielded const lvalue is copied once, so *it never modifies a const object", "[generator][values]") {
    int copies = 0;
    auto make = [](int* counter) -> aio::Generator<Tracked> {
        const Tracked local(counter);
        co_yield local;
    };
    auto one = make(&copies);
    for (Tracked& value : one) (void)value;
    REQUIRE(copies == 1);
}

TEST_CASE("a generator of move-only values lets the consumer move each one out", "[generator][values]") {
    auto make = []() -> aio::Generator<std::unique_ptr<int>> {
        for (int i = 1; i <= 3; ++i) co_yield std::make_unique<int>(i);
    };
    std::vector<std::unique_ptr<int>> taken;
    for (auto& value : make()) taken.push_back(std::move(value));
    REQUIRE(taken.size() == 3);
    REQUIRE(*taken[2] == 3);
}

TEST_CASE("a generator of references yields the referred objects themselves", "[generator][values]") {
    std::vector<std::string> words{"a", "b"};
    auto make = [](std::vector<std::string>* source) -> aio::Generator<std::string&> {
        for (auto& word : *source) co_yield word;
    };
    for (std::string& word : make(&words)) word += "!";
    REQUIRE(words == std::vector<std::string>{"a!", "b!"});
}

TEST_CASE("a generator's iterator supports operator-> and post-increment", "[generator][values]") {
    auto make = []() -> aio::Generator<std::string> {
        co_yield "one";
        co_yield "three";
    };
    auto words = make();
    auto it = words.begin();
    REQUIRE(it->size() == 3);
    it++;
    REQUIRE(it->size() == 5);
    it++;
    REQUIRE(it == words.end());
}
