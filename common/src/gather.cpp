#include "aio/gather.hpp"

namespace aio::detail {

bool is_cancelled_error(const std::exception_ptr& error) noexcept {
    if (!error) return false;
    try {
        std::rethrow_exception(error);
    } catch (const CancelledError&) {
        return true;
    } catch (...) {
    }
    return false;
}

void require_same_loop(const Waitable& future, const EventLoop& loop) {
    if (&future.get_loop() != &loop)
        throw ValueError("The future belongs to a different loop than the one specified as the loop argument");
}

// --- FanIn -------------------------------------------------------------------------------------

void FanIn::watch(std::size_t index, Waitable& child) {
    ChildCallback& node = nodes_[index];
    node.fan_in_ = this;
    child.add_done_callback(node);  // throws only if the loop is closed: then nothing is registered
    if (registered_++ == 0) owner_->add_ref();  // keep-alive until the last node is released
}

void FanIn::unwatch(std::size_t index, Waitable& child) noexcept {
    ChildCallback& node = nodes_[index];
    // A node already scheduled is not in the child's list any more: it will run (and be
    // released) from the loop, and its owner stays alive until then.
    if (child.remove_done_callback(node)) node.release_from_loop();
}

// --- GatherCore --------------------------------------------------------------------------------

void GatherCore::start() {
    if (child_count_ == 0) {
        // asyncio: gather() with nothing to gather is a future already done.
        store_results();
        finish_with_value();
        return;
    }
    // Register every pending child first, then account for the done ones (asyncio 3.12's
    // done_futs): a done child seen before the count is complete must not finish the gather.
    bool any_done = false;
    for (std::size_t index = 0; index < child_count_; ++index) {
        FutureCore& one = child(index);
        if (one.done()) {
            any_done = true;
        } else {
            watch(index, one);
        }
    }
    if (!any_done) return;
    // Nothing ran in between, so the children done now are exactly those skipped above.
    // Each is accounted as its callback would be, even after the gather has finished early.
    for (std::size_t index = 0; index < child_count_; ++index) {
        FutureCore& one = child(index);
        if (one.done()) on_child_done(index, one);
    }
}

void GatherCore::on_child_done(std::size_t, Waitable& completed) {
    // Children are Future<T> and Task<T> handles: their Waitable is a FutureCore.
    FutureCore& one = static_cast<FutureCore&>(completed);
    ++finished_;
    if (done()) {
        // Already failed (or, with return_exceptions, impossible): the error was reported
        // through the first failure; mark this one retrieved so it is not logged.
        if (!one.cancelled()) static_cast<void>(one.exception());
        return;
    }
    if (!return_exceptions_) {
        if (one.cancelled()) {
            // A cancelled child fails the gather with CancelledError; the gather itself is
            // not cancelled (so one cancelled child does not cancel its siblings).
            FutureCore::set_exception(std::make_exception_ptr(CancelledError(one.cancel_message())));
            return;
        }
        if (std::exception_ptr error = one.exception()) {
            FutureCore::set_exception(std::move(error));  // the siblings keep running
            return;
        }
    }
    if (finished_ == child_count_) finish_gathering();
}

void GatherCore::finish_gathering() noexcept {
    if (cancel_requested_) {
        // The gather was cancelled and a child swallowed it: propagate the cancellation
        // anyway, whatever return_exceptions says (asyncio issue 32684). asyncio takes the
        // message from the last child.
        std::string message;
        try {
            message = child(child_count_ - 1).cancel_message();
        } catch (...) {
        }
        FutureCore::set_exception(std::make_exception_ptr(CancelledError(std::move(message))));
        return;
    }
    try {
        store_results();
    } catch (...) {
        FutureCore::set_exception(std::current_exception());  // a copy or an allocation failed
        return;
    }
    finish_with_value();
}

bool GatherCore::cancel(std::string message) {
    if (done()) return false;
    bool any_cancelled = false;
    for (std::size_t index = 0; index < child_count_; ++index) {
        // Virtual: a Task child gets Task.cancel (delivered at its await point).
        if (child(index).cancel(message)) any_cancelled = true;
    }
    if (any_cancelled) cancel_requested_ = true;
    return any_cancelled;
}

}  // namespace aio::detail
