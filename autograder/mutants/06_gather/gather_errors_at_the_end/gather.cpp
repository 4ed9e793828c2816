#include "gather.hpp"

namespace lab::detail {

void GatherCore::start() {
    if (child_count_ == 0) {
        // asyncio: gather() of nothing is a future that is already done.
        store_results();
        finish_with_value();
        return;
    }
    for (std::size_t index = 0; index < child_count_; ++index) {
        auto* node = new ChildDone(*this, index);
        try {
            // A child already done schedules the node at once (still through call_soon):
            // its result is counted one loop iteration later, like any other.
            child(index).add_done_callback(*node);
        } catch (...) {
            node->release_from_loop();  // the loop is closed: the node can never run
            throw;
        }
    }
}

void GatherCore::on_child_done(std::size_t index) {
    aio::FutureCore& one = child(index);
    ++finished_;
    if (done()) {
        // The gather already failed with an earlier error. Mark this child's exception as
        // retrieved, so that it is not reported as "never retrieved": gather consumed it.
        if (!one.cancelled()) static_cast<void>(one.exception());
        return;
    }
    if (false && !return_exceptions_) {  // MUTANT: errors wait for the last child (store_results rethrows)
        // The first failure is the gather's, at once; the siblings are not cancelled.
        if (one.cancelled()) {
            // A cancelled child fails the gather with CancelledError, without cancelling
            // the gather itself (so its siblings are not cancelled either).
            set_exception(std::make_exception_ptr(aio::CancelledError(one.cancel_message())));
            return;
        }
        if (std::exception_ptr error = one.exception()) {
            set_exception(std::move(error));
            return;
        }
    }
    if (finished_ == child_count_) finish_gathering(one);
}

void GatherCore::finish_gathering(aio::FutureCore& last) {
    if (cancel_requested_) {
        // The gather was cancelled but a child swallowed the cancellation (or, with
        // return_exceptions, the cancelled children were collected): the gather must still
        // end with CancelledError, or its awaiter would miss its own cancellation.
        set_exception(std::make_exception_ptr(aio::CancelledError(last.cancel_message())));
        return;
    }
    try {
        store_results();
    } catch (...) {
        set_exception(std::current_exception());  // a copy failed
        return;
    }
    finish_with_value();
}

bool GatherCore::cancel(std::string message) {
    if (done()) return false;
    bool any_cancelled = false;
    for (std::size_t index = 0; index < child_count_; ++index) {
        // Virtual: a task child gets Task.cancel, delivered at its current await.
        if (child(index).cancel(message)) any_cancelled = true;
    }
    if (any_cancelled) cancel_requested_ = true;
    return any_cancelled;
}

}  // namespace lab::detail
