#include "gather.hpp"

namespace lab::detail {

void GatherCore::start() {
    // TODO(step 1): gather() of nothing (child_count_ == 0) is done at once: store_results()
    // then finish_with_value(). Otherwise register a new ChildDone(*this, index) node on each
    // child with child(index).add_done_callback(node). If add_done_callback throws (the loop
    // is closed), the node can never run: release_from_loop() it, then let the error out.
    aiolab::todo("step 1: GatherCore::start");
}

void GatherCore::on_child_done(std::size_t index) {
    // TODO(step 1): count the child (finished_); when it is the last one, finish_gathering().
    // TODO(step 2): if the gather is already done (an earlier failure), only mark this
    // child's exception as retrieved (call exception() on a child that is not cancelled) and
    // return. Without return_exceptions_, a cancelled child fails the gather at once with
    // aio::CancelledError(its cancel message), a child with an exception fails it at once
    // with that exception. The siblings are left running.
    (void)index;
    aiolab::todo("step 1: GatherCore::on_child_done");
}

void GatherCore::finish_gathering(aio::FutureCore& last) {
    // TODO(step 1): store_results(), then finish_with_value(). If store_results() throws,
    // the gather fails with that exception instead (set_exception(std::current_exception())).
    // TODO(step 3): if cancel_requested_, fail with aio::CancelledError(last's cancel
    // message) instead, whatever return_exceptions_ says.
    (void)last;
    aiolab::todo("step 1: GatherCore::finish_gathering");
}

bool GatherCore::cancel(std::string message) {
    // TODO(step 3): false if this future is done. Otherwise cancel(message) every child (a
    // task child gets Task.cancel); if any of them accepted, remember it in cancel_requested_.
    // Return whether any accepted. Do not cancel this future itself.
    (void)message;
    aiolab::todo("step 3: GatherCore::cancel");
}

}  // namespace lab::detail
