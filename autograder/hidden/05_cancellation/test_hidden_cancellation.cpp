// Hidden tests, lab 05: edge cases of cancel points, cancel_and_wait, shield, wait_for and
// timeout scopes; their integration with each other and with aio; stress and leak checks.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <aio/aio.hpp>

#include "cancellation.hpp"
#include "shield.hpp"
#include "timeout.hpp"
#include "wait_for.hpp"

namespace {

using Log = std::vector<std::string>;

struct Events {
    Log log;
    template <class... Parts>
    void record(const Parts&... parts) {
        std::ostringstream entry;
        (entry << ... << parts);
        log.push_back(entry.str());
    }
};

double now() { return aio::to_seconds(aio::get_running_loop().time()); }
int cancelling() { return aio::current_task()->cancelling(); }

template <class T>
T run_virtual(aio::Coro<T> main) {
    aio::VirtualTimeLoop loop;
    return loop.run_until_complete(std::move(main));
}

/// Collects what the loop reports (instead of printing it to stderr).
struct Reports {
    std::vector<std::string> messages;
    void install(aio::EventLoop& loop) {
        loop.set_exception_handler(
            [this](aio::EventLoop&, const aio::ExceptionContext& context) { messages.push_back(context.message); });
    }
};

/// An error of the tests' own (never confused with aiolab::NotImplemented).
struct WorkFailed : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Records its destruction: shows when a frame unwinds.
struct Cleanup {
    Events* events;
    const char* who;
    ~Cleanup() { events->record(who, " cleanup @", now()); }
};

aio::Coro<int> sleep_then(double delay, int value) {
    co_await aio::sleep(delay);
    co_return value;
}

aio::Coro<void> nap(double delay) { co_await aio::sleep(delay); }

aio::Coro<int> slow_to_cancel(Events* events, double delay, double cleanup_time) {
    bool cancelled = false;
    try {
        co_await aio::sleep(delay);
    } catch (const aio::CancelledError&) {
        cancelled = true;
    }
    if (cancelled) {
        events->record("task cancelled @", now());
        co_await aio::sleep(cleanup_time);
        events->record("task cleanup done @", now());
        throw aio::CancelledError();
    }
    co_return 1;
}

aio::Coro<int> fail_when_cancelled(double delay) {
    bool cancelled = false;
    try {
        co_await aio::sleep(delay);
    } catch (const aio::CancelledError&) {
        cancelled = true;
    }
    if (cancelled) throw WorkFailed("failed while cancelled");
    co_return 0;
}

}  // namespace

// --- step 1: cancel points --------------------------------------------------------------

namespace {
aio::Coro<void> cancel_twice_then_checkpoint(Events* events) {
    aio::current_task()->cancel();
    aio::current_task()->cancel();
    try {
        co_await lab::checkpoint();
    } catch (const aio::CancelledError&) {
        events->record("one CancelledError, cancelling=", cancelling());
    }
    co_await lab::checkpoint();  // nothing left to deliver
    events->record("second checkpoint passed");
}
}  // namespace

TEST_CASE("two cancel requests before a checkpoint raise one CancelledError and count two",
          "[05][step1][checkpoint][hidden]") {
    Events events;
    run_virtual(cancel_twice_then_checkpoint(&events));
    CHECK(events.log == Log{"one CancelledError, cancelling=2", "second checkpoint passed"});
}

namespace {
aio::Coro<void> count_rounds(int rounds, std::vector<int>* order, int id, std::optional<aio::Task<void>>* victim,
                             int cancel_at) {
    for (int i = 0; i < rounds; ++i) {
        order->push_back(id);
        if (victim && i == cancel_at) (*victim)->cancel();  // the victim waits at its checkpoint
        co_await lab::checkpoint();
    }
}
aio::Coro<void> many_checkpoints(std::vector<int>* order, Events* events) {
    std::optional<aio::Task<void>> b;
    aio::Task<void> a = aio::create_task(count_rounds(100'000, order, 0, &b, 60'000));
    b.emplace(aio::create_task(count_rounds(100'000, order, 1, nullptr, 0)));
    co_await a;
    try {
        co_await *b;
    } catch (const aio::CancelledError&) {
        events->record("b cancelled");
    }
}
}  // namespace

TEST_CASE("two tasks checkpointing 100000 times each alternate strictly, and a cancel stops one at its next checkpoint",
          "[05][step1][checkpoint][stress][hidden]") {
    std::vector<int> order;
    Events events;
    run_virtual(many_checkpoints(&order, &events));
    CHECK(events.log == Log{"b cancelled"});
    // a and b alternate for 60000 rounds; a cancels b in its round 60000, before b's turn,
    // so b stops at the checkpoint it waits at, and a goes on alone.
    REQUIRE(order.size() == 160'000);
    bool as_expected = true;
    for (std::size_t i = 0; i < order.size(); ++i)
        as_expected = as_expected && order[i] == (i < 120'000 ? static_cast<int>(i % 2) : 0);
    CHECK(as_expected);
}

namespace {
aio::Coro<void> await_cancelled_future() {
    aio::Future<void> gone;
    gone.cancel();
    co_await gone;
}
aio::Coro<void> suppress_without_request(Events* events) {
    aio::Coro<bool> running = lab::suppress_cancel(await_cancelled_future());
    const bool finished = co_await std::move(running);
    events->record("finished=", finished, " cancelling=", cancelling());
    co_await aio::sleep(1);
    events->record("slept @", now());
}
}  // namespace

TEST_CASE("suppress_cancel of a body cancelled without a request leaves the count at zero",
          "[05][step1][suppress][hidden]") {
    Events events;
    run_virtual(suppress_without_request(&events));
    CHECK(events.log == Log{"finished=0 cancelling=0", "slept @1"});
}

TEST_CASE("is_cancelled_error never throws, whatever the exception holds", "[05][step1][errors][hidden]") {
    CHECK_FALSE(lab::is_cancelled_error(std::make_exception_ptr(42)));
    CHECK_FALSE(lab::is_cancelled_error(std::make_exception_ptr(std::string("text"))));
    CHECK(lab::is_cancelled_error(std::make_exception_ptr(aio::CancelledError())));
}

// --- step 2: cancel_and_wait ------------------------------------------------------------

namespace {
aio::Coro<void> stop_a_failing_task(Events* events) {
    aio::Task<int> task = aio::create_task(fail_when_cancelled(10));
    co_await aio::sleep(1);
    aio::Coro<void> stopping = lab::cancel_and_wait(aio::Future<int>(task));
    co_await std::move(stopping);
    try {
        task.result();
    } catch (const WorkFailed& error) {
        events->record("task failed: ", error.what(), " @", now());
    }
}
}  // namespace

TEST_CASE("cancel_and_wait returns normally when the task fails while cancelled; the failure stays in the task",
          "[05][step2][cancel_and_wait][hidden]") {
    Events events;
    run_virtual(stop_a_failing_task(&events));
    CHECK(events.log == Log{"task failed: failed while cancelled @1"});
}

namespace {
aio::Coro<void> wait_for_stop(Events* events, aio::Task<int> task, std::string who) {
    aio::Coro<void> stopping = lab::cancel_and_wait(aio::Future<int>(task));
    co_await std::move(stopping);
    events->record(who, " returned @", now());
}
aio::Coro<void> two_stoppers(Events* events) {
    aio::Task<int> task = aio::create_task(slow_to_cancel(events, 10, 3));
    co_await aio::sleep(1);
    aio::Task<void> first = aio::create_task(wait_for_stop(events, task, "first"));
    aio::Task<void> second = aio::create_task(wait_for_stop(events, task, "second"));
    co_await first;
    co_await second;
    events->record("task cancelling=", task.cancelling());
}
}  // namespace

TEST_CASE("two cancel_and_wait of one task both return after its clean-up", "[05][step2][cancel_and_wait][hidden]") {
    Events events;
    run_virtual(two_stoppers(&events));
    CHECK(events.log == Log{"task cancelled @1", "task cleanup done @4", "first returned @4", "second returned @4",
                            "task cancelling=2"});
}

namespace {
aio::Coro<int> stop_many(int count) {
    int cancelled = 0;
    for (int i = 0; i < count; ++i) {
        aio::Task<int> task = aio::create_task(sleep_then(5, i));
        co_await aio::sleep(0);
        aio::Coro<void> stopping = lab::cancel_and_wait(aio::Future<int>(task));
        co_await std::move(stopping);
        cancelled += task.cancelled() ? 1 : 0;
    }
    co_return cancelled;
}
}  // namespace

TEST_CASE("1000 cancel_and_wait calls leave no coroutine frame behind", "[05][step2][cancel_and_wait][leak][hidden]") {
    const auto before = aio::live_coroutine_frames();
    CHECK(run_virtual(stop_many(1000)) == 1000);
    CHECK(aio::live_coroutine_frames() == before);
}

// --- step 3: shield ---------------------------------------------------------------------

namespace {
aio::Coro<std::unique_ptr<int>> make_box() {
    co_await aio::sleep(1);
    co_return std::make_unique<int>(11);
}
aio::Coro<int> shield_a_box() {
    aio::Future<std::unique_ptr<int>> shielded = lab::shield(make_box());
    std::unique_ptr<int> box = co_await shielded;
    co_return *box;
}
aio::Coro<void> shield_void(Events* events) {
    aio::Task<void> task = aio::create_task(nap(2));
    aio::Future<void> shielded = lab::shield(aio::Future<void>(task));
    co_await shielded;
    events->record("void shield done @", now());
}
aio::Coro<std::vector<int>> make_list() {
    co_await aio::sleep(1);
    co_return std::vector<int>{1, 2, 3};
}
aio::Coro<void> shield_a_list(Events* events) {
    aio::Task<std::vector<int>> task = aio::create_task(make_list());
    aio::Future<std::vector<int>> shielded = lab::shield(aio::Future<std::vector<int>>(task));
    const std::vector<int> through = co_await shielded;
    // The shield is not the task's only reader: the value is copied, not moved out of it.
    events->record("through the shield: ", through.size(), " items, left in the task: ", task.result().size());
}
}  // namespace

TEST_CASE("a shield passes a move-only value and a void completion through, and leaves a copyable value in the inner task",
          "[05][step3][shield][hidden]") {
    CHECK(run_virtual(shield_a_box()) == 11);
    Events events;
    run_virtual(shield_void(&events));
    run_virtual(shield_a_list(&events));
    CHECK(events.log == Log{"void shield done @2", "through the shield: 3 items, left in the task: 3"});
}

namespace {
aio::Coro<void> await_outer(aio::Future<int> outer) { co_await outer; }
aio::Coro<void> cancel_only_the_outer(Events* events) {
    aio::Task<int> inner = aio::create_task(sleep_then(2, 0));
    aio::Future<int> outer = lab::shield(aio::Future<int>(inner));
    aio::Task<void> waiter = aio::create_task(await_outer(outer));
    co_await aio::sleep(1);
    waiter.cancel();
    co_await aio::sleep(5);
    events->record("inner done=", inner.done(), " cancelled=", inner.cancelled(), " cancelling=", inner.cancelling(),
                   ", outer cancelled=", outer.cancelled());
}
}  // namespace

TEST_CASE("cancelling the task awaiting a shield cancels the outer future only", "[05][step3][shield][cancel][hidden]") {
    Events events;
    run_virtual(cancel_only_the_outer(&events));
    CHECK(events.log == Log{"inner done=1 cancelled=0 cancelling=0, outer cancelled=1"});
}

namespace {
aio::Coro<int> fail_after(double delay) {
    co_await aio::sleep(delay);
    throw WorkFailed("inner failed");
}
aio::Coro<void> failure_after_the_shield_is_gone(Events* events) {
    aio::Task<int> task = aio::create_task(fail_after(2));
    aio::Future<int> outer = lab::shield(aio::Future<int>(task));
    aio::Task<void> waiter = aio::create_task(await_outer(outer));
    co_await aio::sleep(1);
    waiter.cancel();
    co_await aio::sleep(5);
    events->record("task done=", task.done());
}
}  // namespace

TEST_CASE("an inner task that fails after its shield was cancelled reports its exception as never retrieved",
          "[05][step3][shield][cancel][hidden]") {
    // The cancelled shield unhooks itself from the inner task, so nobody retrieves the later
    // failure, and the task reports it when it goes away (asyncio does the same).
    Events events;
    Reports reports;
    {
        aio::VirtualTimeLoop loop;
        reports.install(loop);
        loop.run_until_complete(failure_after_the_shield_is_gone(&events));
    }
    CHECK(events.log == Log{"task done=1"});
    CHECK(reports.messages == Log{"Task exception was never retrieved"});
}

// --- step 4: wait_for -------------------------------------------------------------------

namespace {
aio::Coro<std::unique_ptr<int>> boxed_later(double delay) {
    co_await aio::sleep(delay);
    co_return std::make_unique<int>(5);
}
aio::Coro<int> wait_for_a_box() {
    aio::Coro<std::unique_ptr<int>> limited = lab::wait_for(boxed_later(1), 2.0);
    std::unique_ptr<int> box = co_await std::move(limited);
    co_return *box;
}
aio::Coro<void> wait_for_void(Events* events) {
    aio::Coro<void> in_time = lab::wait_for(nap(1), 2.0);
    co_await std::move(in_time);
    events->record("void in time @", now());
    try {
        aio::Coro<void> too_slow = lab::wait_for(nap(5), 2.0);
        co_await std::move(too_slow);
    } catch (const aio::TimeoutError&) {
        events->record("void TimeoutError @", now());
    }
}
}  // namespace

TEST_CASE("wait_for passes a move-only value and works for void coroutines", "[05][step4][wait_for][hidden]") {
    CHECK(run_virtual(wait_for_a_box()) == 5);
    Events events;
    run_virtual(wait_for_void(&events));
    CHECK(events.log == Log{"void in time @1", "void TimeoutError @3"});
}

namespace {
aio::Coro<void> someone_else_cancels_the_future(Events* events) {
    aio::Future<int> future;
    aio::get_running_loop().call_later(1.0, [future]() mutable { future.cancel(); });
    try {
        aio::Coro<int> limited = lab::wait_for(future, 5.0);
        co_await std::move(limited);
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError");
    } catch (const aio::CancelledError&) {
        events->record("CancelledError @", now(), " cancelling=", cancelling());
    }
    co_await aio::sleep(10);  // the 5 s timer is gone
    events->record("slept on @", now());
}
}  // namespace

TEST_CASE("wait_for on a future that someone else cancels raises CancelledError, not TimeoutError",
          "[05][step4][wait_for][cancel][hidden]") {
    Events events;
    run_virtual(someone_else_cancels_the_future(&events));
    CHECK(events.log == Log{"CancelledError @1 cancelling=0", "slept on @11"});
}

namespace {
aio::Coro<int> alternate(int rounds) {
    int completed = 0;
    for (int i = 0; i < rounds; ++i) {
        const double limit = i % 2 == 0 ? 2.0 : 0.5;  // the last round times out
        try {
            aio::Coro<int> limited = lab::wait_for(sleep_then(1.0, 1), limit);
            completed += co_await std::move(limited);
        } catch (const aio::TimeoutError&) {
        }
    }
    // Right after the last round, which timed out: its task must be finished already.
    const std::size_t tasks_left = aio::all_tasks().size();  // only this one
    co_return tasks_left == 1 ? completed : -1;
}
}  // namespace

TEST_CASE("wait_for timing out and not, 200 times, leaves no task and no frame behind",
          "[05][step4][wait_for][leak][hidden]") {
    const auto before = aio::live_coroutine_frames();
    CHECK(run_virtual(alternate(200)) == 100);
    CHECK(aio::live_coroutine_frames() == before);
}

namespace {
aio::Coro<void> note(Events* events, std::string what) {
    events->record(what);
    co_return;
}
aio::Coro<void> already_done_task(Events* events) {
    aio::Task<int> task = aio::create_task(sleep_then(0, 8));
    co_await aio::sleep(1);
    aio::Task<void> other = aio::create_task(note(events, "other task ran"));  // runs in the next iteration
    aio::Coro<int> limited = lab::wait_for(task, 3.0);
    const int value = co_await std::move(limited);  // "at once": no suspension, the other task waits
    events->record("got ", value, " @", now());
    co_await other;
}
}  // namespace

TEST_CASE("wait_for of a task already done returns its value at once", "[05][step4][wait_for][hidden]") {
    Events events;
    run_virtual(already_done_task(&events));
    CHECK(events.log == Log{"got 8 @1", "other task ran"});
}

namespace {
aio::Coro<void> chrono_limit(Events* events) {
    try {
        const aio::Duration limit = std::chrono::milliseconds(1500);
        aio::Coro<int> limited = lab::wait_for(sleep_then(10, 1), std::optional<aio::Duration>(limit));
        co_await std::move(limited);
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now());
    }
    aio::Future<int> future;
    aio::get_running_loop().call_later(0.25, [future] { future.set_result(4); });
    aio::Coro<int> in_time = lab::wait_for(future, std::optional<aio::Duration>(std::chrono::seconds(1)));
    const int value = co_await std::move(in_time);
    events->record("got ", value, " @", now());
}
}  // namespace

TEST_CASE("wait_for takes its limit as a std::chrono duration too", "[05][step4][wait_for][hidden]") {
    Events events;
    run_virtual(chrono_limit(&events));
    CHECK(events.log == Log{"TimeoutError @1.5", "got 4 @1.75"});
}

// --- step 5: timeout --------------------------------------------------------------------

namespace {
aio::Coro<int> slow_task_body(Events* events) {
    try {
        co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
        events->record("task cancelled @", now());
        throw;
    }
    co_return 1;
}
aio::Coro<void> task_as_body(Events* events) {
    aio::Task<int> task = aio::create_task(slow_task_body(events));
    try {
        aio::Coro<int> guarded = lab::timeout(1.0, task);
        co_await std::move(guarded);
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now(), " task cancelled=", task.cancelled());
    }
}
}  // namespace

TEST_CASE("a timeout scope around a task cancels that task on expiry", "[05][step5][timeout][cancel][hidden]") {
    Events events;
    run_virtual(task_as_body(&events));
    CHECK(events.log == Log{"task cancelled @1", "TimeoutError @1 task cancelled=1"});
}

namespace {
aio::Coro<int> report_expired(lab::Timeout* scope, Events* events) {
    events->record("in the body: expired=", scope->expired());
    try {
        co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
        events->record("on CancelledError @", now(), ": expired=", scope->expired());
        throw;
    }
    co_return 0;
}
aio::Coro<void> expired_flag(Events* events) {
    lab::Timeout scope = lab::timeout(2.0);
    try {
        aio::Coro<int> guarded = scope.run(report_expired(&scope, events));
        co_await std::move(guarded);
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now(), " expired=", scope.expired());
    }
}
}  // namespace

TEST_CASE("expired() turns true when the deadline cancels the body, before the scope is left",
          "[05][step5][timeout][hidden]") {
    Events events;
    run_virtual(expired_flag(&events));
    CHECK(events.log == Log{"in the body: expired=0", "on CancelledError @2: expired=1", "TimeoutError @2 expired=1"});
}

namespace {
aio::Coro<int> move_deadline_to_the_past(lab::Timeout* scope, Events* events) {
    co_await aio::sleep(1);
    scope->reschedule(aio::get_running_loop().time() - aio::seconds(1));
    events->record("rescheduled to the past @", now(), " expired=", scope->expired());
    co_await aio::sleep(0);  // the expiry comes through the loop
    events->record("not reached");
    co_return 0;
}
aio::Coro<int> disable_deadline(lab::Timeout* scope, Events* events) {
    co_await aio::sleep(1);
    scope->reschedule(std::nullopt);
    co_await aio::sleep(10);
    events->record("body returns @", now(), " when=", scope->when() ? "set" : "none");
    co_return 1;
}
template <aio::Coro<int> (*body)(lab::Timeout*, Events*)>
aio::Coro<void> run_rescheduling_body(Events* events) {
    lab::Timeout scope = lab::timeout(2.0);
    try {
        aio::Coro<int> guarded = scope.run(body(&scope, events));
        const int value = co_await std::move(guarded);
        events->record("got ", value, " @", now());
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now());
    }
}
}  // namespace

TEST_CASE("reschedule to a deadline already past expires in the next iteration", "[05][step5][timeout][reschedule][hidden]") {
    Events events;
    run_virtual(run_rescheduling_body<move_deadline_to_the_past>(&events));
    CHECK(events.log == Log{"rescheduled to the past @1 expired=0", "TimeoutError @1"});
}

TEST_CASE("reschedule to no deadline disables the timeout", "[05][step5][timeout][reschedule][hidden]") {
    Events events;
    run_virtual(run_rescheduling_body<disable_deadline>(&events));
    CHECK(events.log == Log{"body returns @11 when=none", "got 1 @11"});
}

TEST_CASE("timeout(delay) needs a running loop, even without a deadline", "[05][step5][timeout][errors][hidden]") {
    CHECK_THROWS_AS(lab::timeout(1.0), aio::RuntimeError);
    CHECK_THROWS_AS(lab::timeout(std::nullopt), aio::RuntimeError);
}

namespace {
aio::Coro<void> other_error_after_expiry(Events* events) {
    lab::Timeout scope = lab::timeout(2.0);
    try {
        aio::Coro<int> guarded = scope.run(fail_when_cancelled(10));
        co_await std::move(guarded);
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError");
    } catch (const WorkFailed& error) {
        events->record("WorkFailed '", error.what(), "' @", now(), " expired=", scope.expired(),
                       " cancelling=", cancelling());
    }
}
}  // namespace

TEST_CASE("an error other than CancelledError from an expired body propagates unchanged",
          "[05][step5][timeout][cancel][hidden]") {
    Events events;
    run_virtual(other_error_after_expiry(&events));
    CHECK(events.log == Log{"WorkFailed 'failed while cancelled' @2 expired=1 cancelling=0"});
}

namespace {
aio::Coro<int> innermost(Events* events) {
    Cleanup cleanup{events, "innermost"};
    co_await aio::sleep(10);
    co_return 0;
}
aio::Coro<int> middle_layer(Events* events) {
    try {
        aio::Coro<int> guarded = lab::timeout(2.0, innermost(events));  // the middle deadline: 2 s
        co_await std::move(guarded);
    } catch (const aio::TimeoutError&) {
        events->record("middle TimeoutError @", now(), " cancelling=", cancelling());
    }
    co_await aio::sleep(1);
    co_return 7;
}
aio::Coro<int> outer_layer(Events* events) {
    aio::Coro<int> guarded = lab::timeout(4.0, middle_layer(events));  // wraps the middle scope
    const int value = co_await std::move(guarded);
    co_return value;
}
aio::Coro<void> three_levels(Events* events) {
    aio::Coro<int> guarded = lab::timeout(100.0, outer_layer(events));
    const int value = co_await std::move(guarded);
    events->record("got ", value, " @", now(), " cancelling=", cancelling());
}
}  // namespace

TEST_CASE("of three nested timeouts only the one that expires raises TimeoutError, and the others go on",
          "[05][step5][timeout][nested][hidden]") {
    Events events;
    run_virtual(three_levels(&events));
    CHECK(events.log == Log{"innermost cleanup @2", "middle TimeoutError @2 cancelling=0", "got 7 @3 cancelling=0"});
}

// --- integration -----------------------------------------------------------------------

namespace {
aio::Coro<int> wait_for_inside_scope(Events* events) {
    aio::Coro<int> limited = lab::wait_for(slow_to_cancel(events, 10, 2), 5.0);
    co_return co_await std::move(limited);
}
aio::Coro<void> scope_expires_around_wait_for(Events* events) {
    try {
        aio::Coro<int> guarded = lab::timeout(1.0, wait_for_inside_scope(events));
        co_await std::move(guarded);
    } catch (const aio::TimeoutError&) {
        events->record("scope TimeoutError @", now(), " cancelling=", cancelling(), " tasks=",
                       aio::all_tasks().size());
    }
}
}  // namespace

TEST_CASE("a timeout scope expiring around wait_for stops wait_for's work, then raises TimeoutError",
          "[05][step5][timeout][wait_for][integration][hidden]") {
    Events events;
    run_virtual(scope_expires_around_wait_for(&events));
    CHECK(events.log == Log{"task cancelled @1", "task cleanup done @3", "scope TimeoutError @3 cancelling=0 tasks=1"});
}

namespace {
aio::Coro<void> absorb_inside_lab_timeout(Events* events) {
    aio::Coro<bool> absorbing = lab::suppress_cancel(nap(10));
    const bool finished = co_await std::move(absorbing);
    events->record("absorbed @", now(), " finished=", finished);
    co_await aio::sleep(10);
}
aio::Coro<void> lab_scope(Events* events) {
    try {
        aio::Coro<void> guarded = lab::timeout(5.0, absorb_inside_lab_timeout(events));
        co_await std::move(guarded);
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now());
    } catch (const aio::CancelledError&) {
        events->record("CancelledError @", now());
    }
}
aio::Coro<void> cancel_lab_scope_once(Events* events) {
    aio::Task<void> task = aio::create_task(lab_scope(events));
    co_await aio::sleep(1);
    task.cancel();
    co_await task;
}
}  // namespace

TEST_CASE("a lab timeout around a suppressed outside cancel still raises TimeoutError when it expires",
          "[05][step5][timeout][suppress][integration][hidden]") {
    Events events;
    run_virtual(cancel_lab_scope_once(&events));
    CHECK(events.log == Log{"absorbed @1 finished=0", "TimeoutError @5"});
}

namespace {
aio::Coro<void> shield_under_lab_timeout(Events* events) {
    aio::Task<int> task = aio::create_task(sleep_then(3, 9));
    try {
        aio::Coro<int> guarded = lab::timeout(1.0, lab::shield(aio::Future<int>(task)));
        co_await std::move(guarded);
    } catch (const aio::TimeoutError&) {
        events->record("TimeoutError @", now());
    }
    const int value = co_await task;
    events->record("the shielded task still gave ", value, " @", now());
}
}  // namespace

TEST_CASE("a lab timeout over a lab shield expires without cancelling the shielded task",
          "[05][step5][timeout][shield][integration][hidden]") {
    Events events;
    run_virtual(shield_under_lab_timeout(&events));
    CHECK(events.log == Log{"TimeoutError @1", "the shielded task still gave 9 @3"});
}
