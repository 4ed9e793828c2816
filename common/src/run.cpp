#include "aio/run.hpp"

#include "aio/debug.hpp"

namespace aio::detail {

std::unique_ptr<EventLoop> make_run_loop(const RunOptions& options) {
    std::unique_ptr<EventLoop> loop =
        options.loop_factory ? options.loop_factory() : std::make_unique<DefaultEventLoop>();
    if (!loop) throw RuntimeError("aio::run(): the loop_factory returned no loop");
    // AIO_DEBUG is read here too: a loop_factory may build a loop with debug mode off.
    loop->set_debug(options.debug || debug_mode_from_environment());
    return loop;
}

namespace {
/// Stops the loop when the last of `remaining` futures is done.
class StopWhenAllDone final : public DoneCallback {
public:
    StopWhenAllDone(EventLoop& loop, std::size_t remaining) : loop_(loop), remaining_(remaining) {}
    void on_done(Waitable&) override {
        if (--remaining_ == 0) loop_.stop();
    }

private:
    EventLoop& loop_;
    std::size_t remaining_;
};

/// One node per task: a DoneCallback can be registered with one future at a time.
class CountDone final : public DoneCallback {
public:
    explicit CountDone(StopWhenAllDone& all) : all_(&all) {}
    void on_done(Waitable& future) override { all_->on_done(future); }

private:
    StopWhenAllDone* all_;
};
}  // namespace

void shut_down_run_loop(EventLoop& loop) noexcept {
    try {
        std::vector<TaskBase*> pending = loop.pending_tasks();
        if (!pending.empty()) {
            // Hold every task so it can be inspected after it finishes.
            std::vector<Ref<TaskBase>> tasks(pending.begin(), pending.end());
            StopWhenAllDone all(loop, tasks.size());
            std::vector<CountDone> counters(tasks.size(), CountDone(all));
            for (std::size_t i = 0; i < tasks.size(); ++i) {
                tasks[i]->cancel();
                tasks[i]->add_done_callback(counters[i]);
            }
            try {
                loop.run_forever();
            } catch (...) {
                loop.call_exception_handler({"error while cancelling the remaining tasks in aio::run()",
                                             std::current_exception(), {}});
            }
            for (std::size_t i = 0; i < tasks.size(); ++i) {
                tasks[i]->remove_done_callback(counters[i]);
                if (!tasks[i]->done() || tasks[i]->cancelled()) continue;
                if (std::exception_ptr error = tasks[i]->exception())
                    loop.call_exception_handler({"unhandled exception during aio::run() shutdown",
                                                 error, tasks[i]->describe()});
            }
        }
        // asyncio.run: then shut the default executor down, waiting for its threads (the
        // loop runs meanwhile). Skipped if none was made: no extra task, no extra iteration.
        if (loop.has_default_executor()) {
            try {
                loop.run_until_complete(loop.shutdown_default_executor());
            } catch (...) {
                loop.call_exception_handler({"error while shutting down the default executor in aio::run()",
                                             std::current_exception(), {}});
            }
        }
        loop.close();
    } catch (...) {
        EventLoop::default_exception_handler(
            {"error while shutting down the loop in aio::run()", std::current_exception(), {}});
    }
}

}  // namespace aio::detail
