// Unix signals: loop.add_signal_handler's contract (asyncio's unix_events), and aio::run's
// graceful shutdown (RunOptions::shutdown_signals).
//
// Signals are process-wide: each test restores what it changed. SIGUSR1 and SIGUSR2 have
// their default disposition in this program; SIGINT and SIGTERM have Catch2's handlers,
// which aio must put back.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "aio/signals.hpp"
#include "test_support.hpp"

using aio_test::Events;

namespace {

/// The handler function `sig` has right now (SIG_DFL, SIG_IGN or a function).
void (*current_handler(int sig))(int) {
    struct sigaction now {};
    ::sigaction(sig, nullptr, &now);
    return now.sa_handler;
}

double now() { return aio::to_seconds(aio::get_running_loop().time()); }

/// Raises `sig` in this process, synchronously: the handler has run when raise() returns.
aio::Coro<void> raise_after(double delay, int sig) {
    co_await aio::sleep(delay);
    ::raise(sig);
}

/// Waits until `done` is finished (set by a signal callback).
aio::Coro<void> wait_for(aio::Future<void> done) { co_await done; }

}  // namespace

// --- add_signal_handler / remove_signal_handler -------------------------------------------

TEST_CASE("a signal raised by a task runs the callback later in the loop, not in the handler", "[signals]") {
    aio::VirtualTimeLoop loop;
    static Events events;
    events.log.clear();
    aio::Future<void> called(loop);
    const std::thread::id loop_thread = std::this_thread::get_id();
    loop.add_signal_handler(SIGUSR1, [called, loop_thread] {
        events.record("callback in loop thread: ", std::this_thread::get_id() == loop_thread,
                      ", running loop: ", aio::try_get_running_loop() != nullptr);
        called.set_result();
    });
    auto main = [](aio::Future<void> done) -> aio::Coro<void> {
        events.record("raise");
        ::raise(SIGUSR1);  // the handler runs before raise() returns ...
        events.record("raised");  // ... and the callback has not
        co_await done;
        events.record("main resumed");
    };
    loop.run_until_complete(main(called));
    REQUIRE(events.log ==
            std::vector<std::string>{"raise", "raised", "callback in loop thread: 1, running loop: 1", "main resumed"});
    REQUIRE(loop.remove_signal_handler(SIGUSR1));
}

TEST_CASE("a signal sent from another thread wakes the waiting loop", "[signals][thread]") {
    aio::SelectorEventLoop loop;
    std::atomic<bool> ran_on_loop_thread{false};
    aio::Future<void> called(loop);
    const std::thread::id loop_thread = std::this_thread::get_id();
    loop.add_signal_handler(SIGUSR1, [&ran_on_loop_thread, called, loop_thread] {
        ran_on_loop_thread = std::this_thread::get_id() == loop_thread;
        called.set_result();
    });
    // The loop sleeps in epoll_wait with nothing else to do: only the signal can wake it.
    std::thread sender([] { ::kill(::getpid(), SIGUSR1); });
    loop.run_until_complete(wait_for(called));
    sender.join();
    REQUIRE(ran_on_loop_thread);
    loop.close();
    REQUIRE(current_handler(SIGUSR1) == SIG_DFL);
}

TEST_CASE("a loop running on another thread handles a signal sent by the main thread", "[signals][thread]") {
    std::promise<void> ready;
    std::atomic<bool> called_on_loop_thread{false};
    std::thread loop_thread([&] {
        aio::SelectorEventLoop loop;
        const std::thread::id self = std::this_thread::get_id();
        loop.add_signal_handler(SIGUSR2, [&loop, &called_on_loop_thread, self] {
            called_on_loop_thread = std::this_thread::get_id() == self;
            loop.stop();
        });
        loop.call_soon([&ready] { ready.set_value(); });  // the handler is in place
        loop.run_forever();
        loop.close();
    });
    ready.get_future().wait();
    ::kill(::getpid(), SIGUSR2);
    loop_thread.join();
    REQUIRE(called_on_loop_thread);
    REQUIRE(current_handler(SIGUSR2) == SIG_DFL);
}

TEST_CASE("a second handler for a signal replaces the first, even one already queued", "[signals]") {
    aio::VirtualTimeLoop loop;
    Events events;
    loop.add_signal_handler(SIGUSR1, [&] { events.record("first"); });
    ::raise(SIGUSR1);
    loop.run_once();  // reads the pipe and queues the first callback for the next iteration
    loop.add_signal_handler(SIGUSR1, [&] { events.record("second"); });
    loop.run_once();
    REQUIRE(events.log.empty());  // the queued call of the replaced callback did not run

    ::raise(SIGUSR1);
    loop.run_once();
    loop.run_once();
    REQUIRE(events.log == std::vector<std::string>{"second"});
    loop.close();
}

namespace {
std::atomic<int> previous_handler_calls{0};
void previous_handler(int) { previous_handler_calls.fetch_add(1); }
}  // namespace

TEST_CASE("a removed handler no longer runs and the previous disposition is back", "[signals]") {
    aio::VirtualTimeLoop loop;
    Events events;

    SECTION("the default disposition") {
        REQUIRE(current_handler(SIGUSR1) == SIG_DFL);
        loop.add_signal_handler(SIGUSR1, [&] { events.record("called"); });
        REQUIRE(current_handler(SIGUSR1) != SIG_DFL);
        REQUIRE(loop.has_signal_handler(SIGUSR1));
        REQUIRE(loop.registered_fd_count() == 1);  // the loop's signal pipe

        ::raise(SIGUSR1);
        loop.run_once();  // queues the callback ...
        REQUIRE(loop.remove_signal_handler(SIGUSR1));
        loop.run_once();  // ... which does not run once removed
        REQUIRE(events.log.empty());
        REQUIRE(current_handler(SIGUSR1) == SIG_DFL);
        REQUIRE_FALSE(loop.has_signal_handler(SIGUSR1));
        REQUIRE(loop.registered_fd_count() == 0);  // nothing left to wait for
        REQUIRE_FALSE(loop.remove_signal_handler(SIGUSR1));
    }

    SECTION("a handler installed before the loop's") {
        struct sigaction mine {};
        mine.sa_handler = &previous_handler;
        sigemptyset(&mine.sa_mask);
        struct sigaction saved {};
        REQUIRE(::sigaction(SIGUSR2, &mine, &saved) == 0);
        previous_handler_calls = 0;

        loop.add_signal_handler(SIGUSR2, [&] { events.record("called"); });
        ::raise(SIGUSR2);
        loop.run_once();
        loop.run_once();
        REQUIRE(events.log == std::vector<std::string>{"called"});
        REQUIRE(previous_handler_calls == 0);

        REQUIRE(loop.remove_signal_handler(SIGUSR2));
        REQUIRE(current_handler(SIGUSR2) == &previous_handler);
        ::raise(SIGUSR2);  // the restored handler runs inside raise()
        REQUIRE(previous_handler_calls == 1);
        REQUIRE(events.log == std::vector<std::string>{"called"});
        ::sigaction(SIGUSR2, &saved, nullptr);
    }
    loop.close();
}

TEST_CASE("closing the loop removes every handler and restores the dispositions", "[signals]") {
    aio::VirtualTimeLoop loop;
    loop.add_signal_handler(SIGUSR1, [] {});
    loop.add_signal_handler(SIGUSR2, [] {});
    REQUIRE(current_handler(SIGUSR1) != SIG_DFL);
    REQUIRE(current_handler(SIGUSR2) != SIG_DFL);
    loop.close();
    REQUIRE(current_handler(SIGUSR1) == SIG_DFL);
    REQUIRE(current_handler(SIGUSR2) == SIG_DFL);
    REQUIRE_FALSE(loop.has_signal_handler(SIGUSR1));
    REQUIRE_FALSE(loop.remove_signal_handler(SIGUSR1));
    REQUIRE_THROWS_WITH(loop.add_signal_handler(SIGUSR1, [] {}), "Event loop is closed");
}

TEST_CASE("signals arriving before the callback runs coalesce, and the last one is never lost", "[signals]") {
    aio::VirtualTimeLoop loop;
    int calls = 0;
    loop.add_signal_handler(SIGUSR1, [&] { ++calls; });
    auto main = [](int* count) -> aio::Coro<void> {
        for (int i = 0; i < 100; ++i) ::raise(SIGUSR1);
        co_await aio::sleep(0.1);
        REQUIRE(*count == 1);  // a hundred deliveries, one call
        ::raise(SIGUSR1);      // after the call: a new one
        co_await aio::sleep(0.1);
        REQUIRE(*count == 2);
    };
    loop.run_until_complete(main(&calls));
    REQUIRE(calls == 2);
    loop.close();
}

TEST_CASE("a burst of signals from another thread ends with a call that sees the last one", "[signals][thread]") {
    constexpr int burst = 1000;
    aio::SelectorEventLoop loop;
    std::atomic<int> sent{0};
    int calls = 0;
    int last_seen = 0;
    aio::Future<void> all_seen(loop);
    loop.add_signal_handler(SIGUSR1, [&, all_seen] {
        ++calls;
        last_seen = sent.load();  // every signal counted here was sent before this call began
        if (last_seen == burst && !all_seen.done()) all_seen.set_result();
    });
    // A watchdog, not a timing: if the last signal were lost the loop would wait forever.
    aio::TimerHandle watchdog = loop.call_later(60.0, [&loop] { loop.stop(); });
    std::thread sender([&sent] {
        for (int i = 0; i < burst; ++i) {
            sent.fetch_add(1);
            ::kill(::getpid(), SIGUSR1);
        }
    });
    loop.run_until_complete(wait_for(all_seen));
    sender.join();
    watchdog.cancel();
    REQUIRE(last_seen == burst);
    REQUIRE(calls >= 1);
    REQUIRE(calls <= burst);
    loop.close();
}

TEST_CASE("invalid and uncatchable signals are refused with a clear error", "[signals][errors]") {
    aio::VirtualTimeLoop loop;
    REQUIRE_THROWS_AS(loop.add_signal_handler(0, [] {}), aio::ValueError);
    REQUIRE_THROWS_WITH(loop.add_signal_handler(NSIG, [] {}),
                        "add_signal_handler: sig " + std::to_string(NSIG) + " out of range(1, " +
                            std::to_string(NSIG) + ")");
    REQUIRE_THROWS_AS(loop.remove_signal_handler(-1), aio::ValueError);
    REQUIRE_THROWS_WITH(loop.add_signal_handler(SIGKILL, [] {}),
                        "add_signal_handler: sig 9 (SIGKILL) cannot be caught");
    REQUIRE_THROWS_AS(loop.add_signal_handler(SIGSTOP, [] {}), aio::RuntimeError);
    // A failed add leaves nothing behind.
    REQUIRE_FALSE(loop.has_signal_handler(SIGKILL));
    REQUIRE(loop.registered_fd_count() == 0);
    REQUIRE_FALSE(loop.remove_signal_handler(SIGKILL));
}

TEST_CASE("a signal has one loop at a time: another loop cannot take it over", "[signals][errors]") {
    aio::VirtualTimeLoop first;
    aio::VirtualTimeLoop second;
    first.add_signal_handler(SIGUSR1, [] {});
    REQUIRE_THROWS_WITH(second.add_signal_handler(SIGUSR1, [] {}),
                        "add_signal_handler: SIGUSR1 already has a handler on another event loop "
                        "(remove it there first)");
    REQUIRE_FALSE(second.remove_signal_handler(SIGUSR1));  // does not touch the first's
    REQUIRE(current_handler(SIGUSR1) != SIG_DFL);
    first.close();
    second.add_signal_handler(SIGUSR1, [] {});
    REQUIRE(second.has_signal_handler(SIGUSR1));
    second.close();
    REQUIRE(current_handler(SIGUSR1) == SIG_DFL);
}

TEST_CASE("a throwing signal callback goes to the exception handler", "[signals][errors]") {
    aio::VirtualTimeLoop loop;
    std::vector<std::string> reported;
    loop.set_exception_handler([&](aio::EventLoop&, const aio::ExceptionContext& context) {
        reported.push_back(context.message + " | " + context.source + " | " + aio::describe_exception(context.exception));
    });
    loop.add_signal_handler(SIGUSR1, [] { throw std::runtime_error("boom"); });
    ::raise(SIGUSR1);
    loop.run_once();
    loop.run_once();
    REQUIRE(reported.size() == 1);
    REQUIRE_THAT(reported[0], Catch::Contains("<Handle (signal SIGUSR1)>") && Catch::Contains("boom"));
    loop.close();
}

// --- graceful shutdown: aio::run with shutdown_signals --------------------------------------

namespace {

aio::RunOptions shutdown_on(std::vector<int> signals, double grace) {
    aio::RunOptions options;
    options.loop_factory = [] { return std::make_unique<aio::VirtualTimeLoop>(); };
    options.shutdown_signals = std::move(signals);
    options.shutdown_grace = aio::seconds(grace);
    return options;
}

Events shutdown_events;

/// Records something when its frame is destroyed (to see a cut-off task unwind).
struct RecordOnDestroy {
    std::string text;
    ~RecordOnDestroy() { shutdown_events.record(text); }
};

/// A connection handler a server started: runs until cancelled.
aio::Coro<void> worker() {
    try {
        co_await aio::sleep(1000.0);
    } catch (const aio::CancelledError&) {
        shutdown_events.record("worker cancelled at t=", now());
        throw;
    }
}

/// A server-like main: serves until cancelled, then spends `cleanup` seconds closing down,
/// then returns 7 (or lets the cancellation through if `rethrow`).
aio::Coro<int> server(int sig, double cleanup, bool rethrow) {
    aio::create_task(worker());
    aio::create_task(raise_after(0.5, sig));
    bool cancelled = false;
    try {
        co_await aio::sleep(1000.0);
    } catch (const aio::CancelledError& error) {
        shutdown_events.record("main cancelled at t=", now(), ": ", error.what());
        cancelled = true;
    }
    if (cancelled) {  // no co_await in a catch block (GCC 12): clean up after it
        co_await aio::sleep(cleanup);
        shutdown_events.record("main cleaned up at t=", now());
        if (rethrow) throw aio::CancelledError();
    }
    co_return 7;
}

}  // namespace

TEST_CASE("the first shutdown signal cancels main, which cleans up within the grace period", "[signals][shutdown]") {
    shutdown_events.log.clear();
    const int sig = GENERATE(SIGINT, SIGTERM);
    void (*catch_handler)(int) = current_handler(sig);
    aio_test::FrameLeakCheck frames;

    const int result = aio::run(server(sig, 1.0, false), shutdown_on({SIGINT, SIGTERM}, 5.0));

    REQUIRE(result == 7);  // main finished: its value comes back
    const std::string name = aio::signal_name(sig);
    REQUIRE(shutdown_events.log == std::vector<std::string>{
                                       "main cancelled at t=0.5: shutdown: " + name + " received",
                                       "main cleaned up at t=1.5",
                                       "worker cancelled at t=1.5",  // what main left, after main
                                   });
    REQUIRE(current_handler(sig) == catch_handler);  // Catch2's handler is back
    REQUIRE(frames.leaked() == 0);
}

TEST_CASE("a main that lets the cancellation through makes aio::run throw Interrupted", "[signals][shutdown]") {
    shutdown_events.log.clear();
    try {
        aio::run(server(SIGTERM, 1.0, true), shutdown_on({SIGINT, SIGTERM}, 5.0));
        FAIL("aio::run returned");
    } catch (const aio::Interrupted& interrupted) {
        REQUIRE(interrupted.signal() == SIGTERM);
        REQUIRE_FALSE(interrupted.forced());
        REQUIRE(std::string(interrupted.what()) == "interrupted by SIGTERM");
    }
    REQUIRE(shutdown_events.log == std::vector<std::string>{
                                       "main cancelled at t=0.5: shutdown: SIGTERM received",
                                       "main cleaned up at t=1.5",
                                       "worker cancelled at t=1.5",
                                   });
}

namespace {

/// A main that swallows every cancellation: only the end of the grace period stops it.
aio::Coro<int> stubborn_main() {
    RecordOnDestroy unwound{"main's frame destroyed"};
    aio::create_task(raise_after(0.5, SIGINT));
    while (true) {
        bool cancelled = false;
        try {
            co_await aio::sleep(1.0);
            shutdown_events.record("tick at t=", now());
        } catch (const aio::CancelledError&) {
            cancelled = true;
        }
        if (cancelled) shutdown_events.record("cancellation ignored at t=", now());
    }
}

/// Main catches the cancellation, then a cleanup longer than the grace period.
aio::Coro<int> slow_cleanup_main(bool second_signal) {
    RecordOnDestroy unwound{"main's frame destroyed"};
    aio::create_task(raise_after(0.5, SIGINT));
    if (second_signal) aio::create_task(raise_after(1.0, SIGTERM));
    bool cancelled = false;
    try {
        co_await aio::sleep(1000.0);
    } catch (const aio::CancelledError&) {
        cancelled = true;
    }
    if (cancelled) {
        shutdown_events.record("cleaning up from t=", now());
        co_await aio::sleep(100.0);
        shutdown_events.record("cleanup finished");
    }
    co_return 0;
}

}  // namespace

TEST_CASE("a main that ignores cancellation is cut off when the grace period ends", "[signals][shutdown]") {
    shutdown_events.log.clear();
    aio_test::FrameLeakCheck frames;
    aio_test::StderrCapture err;
    bool forced = false;
    try {
        aio::run(stubborn_main(), shutdown_on({SIGINT}, 2.25));
    } catch (const aio::Interrupted& interrupted) {
        forced = interrupted.forced();
        REQUIRE(std::string(interrupted.what()) == "interrupted by SIGINT (tasks cut off)");
    }
    const std::string report = err.text();
    REQUIRE(forced);
    REQUIRE(shutdown_events.log == std::vector<std::string>{
                                       "cancellation ignored at t=0.5",
                                       "tick at t=1.5",
                                       "tick at t=2.5",  // the grace period ends at t=2.75
                                       "main's frame destroyed",
                                   });
    REQUIRE(aio_test::count_occurrences(report, "Task was destroyed but it is pending!") == 1);
    REQUIRE(frames.leaked() == 0);
}

TEST_CASE("a second shutdown signal cuts the cleanup short at once", "[signals][shutdown]") {
    shutdown_events.log.clear();
    aio_test::FrameLeakCheck frames;
    aio_test::StderrCapture err;
    const bool second_signal = GENERATE(false, true);
    bool forced = false;
    try {
        aio::run(slow_cleanup_main(second_signal), shutdown_on({SIGINT, SIGTERM}, 30.0));
    } catch (const aio::Interrupted& interrupted) {
        REQUIRE(interrupted.signal() == SIGINT);  // the one that started the shutdown
        forced = interrupted.forced();
    }
    err.text();
    REQUIRE(forced);
    // Either way main is unwound without finishing its cleanup; a second signal (t=1.0)
    // does it long before the grace period (t=30.5) would.
    REQUIRE(shutdown_events.log == std::vector<std::string>{
                                       "cleaning up from t=0.5",
                                       "main's frame destroyed",
                                   });
    REQUIRE(frames.leaked() == 0);
}

namespace {

aio::Coro<void> stubborn_leftover() {
    RecordOnDestroy unwound{"leftover's frame destroyed"};
    while (true) {
        bool cancelled = false;
        try {
            co_await aio::sleep(10.0);
        } catch (const aio::CancelledError&) {
            cancelled = true;
        }
        if (cancelled) shutdown_events.record("leftover ignored a cancellation at t=", now());
    }
}

aio::Coro<int> main_leaving_a_stubborn_task() {
    aio::create_task(stubborn_leftover());
    // A timer, not a task: aio::run cancels the tasks main leaves, not the timers.
    aio::get_running_loop().call_later(1.0, [] { ::raise(SIGINT); });
    co_return 3;
}

}  // namespace

TEST_CASE("the grace period also bounds the tasks main leaves behind", "[signals][shutdown]") {
    shutdown_events.log.clear();
    aio_test::FrameLeakCheck frames;
    aio_test::StderrCapture err;
    // Without a shutdown signal aio::run would wait for the leftover forever, as asyncio.run.
    const int result = aio::run(main_leaving_a_stubborn_task(), shutdown_on({SIGINT}, 2.0));
    err.text();
    REQUIRE(result == 3);  // main returned before the signal
    REQUIRE(shutdown_events.log == std::vector<std::string>{
                                       "leftover ignored a cancellation at t=0",
                                       "leftover's frame destroyed",  // at t=3: cut off
                                   });
    REQUIRE(frames.leaked() == 0);
}

namespace {
void (*handler_during_run)(int) = nullptr;
}  // namespace

TEST_CASE("without shutdown signals aio::run leaves every disposition alone", "[signals][shutdown]") {
    void (*before)(int) = current_handler(SIGINT);
    auto main = []() -> aio::Coro<void> {
        co_await aio::sleep(0);
        handler_during_run = current_handler(SIGINT);
    };
    aio::run(main());
    REQUIRE(handler_during_run == before);
    REQUIRE(current_handler(SIGINT) == before);
}

TEST_CASE("Interrupted names the signal; signal_name knows the usual ones", "[signals]") {
    REQUIRE(aio::signal_name(SIGINT) == "SIGINT");
    REQUIRE(aio::signal_name(SIGTERM) == "SIGTERM");
    REQUIRE(aio::signal_name(SIGUSR1) == "SIGUSR1");
    REQUIRE(std::string(aio::Interrupted(SIGTERM, true).what()) == "interrupted by SIGTERM (tasks cut off)");
    // Not an aio::Error: `catch (const aio::Error&)` lets a Ctrl-C through.
    REQUIRE_FALSE(std::is_base_of_v<aio::Error, aio::Interrupted>);
}
