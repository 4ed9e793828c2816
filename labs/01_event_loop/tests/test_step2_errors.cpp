// Step 2: a throwing callback is reported to the loop's exception handler and the loop
// goes on, as asyncio logs "Exception in callback ..." and keeps running.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include <aio/aio.hpp>

#include "event_loop.hpp"

namespace {

/// Collects what reaches the exception handler.
struct ReportedErrors {
    std::vector<aio::ExceptionContext> contexts;

    void install(aio::EventLoop& loop) {
        loop.set_exception_handler(
            [this](aio::EventLoop&, const aio::ExceptionContext& context) { contexts.push_back(context); });
    }
};

std::string what_of(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    }
}

class ThrowingNode final : public aio::Runnable {
public:
    void run() override { throw std::runtime_error("node failed"); }
    void release_from_loop() noexcept override { ++releases; }
    std::string describe() const override { return "<ThrowingNode>"; }
    int releases = 0;
};

}  // namespace

TEST_CASE("a throwing callback is reported to the exception handler", "[01][step2][errors]") {
    lab::EventLoop loop;
    ReportedErrors errors;
    errors.install(loop);
    loop.call_soon([] { throw std::runtime_error("boom"); });
    REQUIRE_NOTHROW(loop.run_once());

    REQUIRE(errors.contexts.size() == 1);
    const aio::ExceptionContext& context = errors.contexts[0];
    CHECK(context.message.rfind("Exception in callback", 0) == 0);
    CHECK(context.source == "<Handle>");
    REQUIRE(context.exception);
    CHECK(what_of(context.exception) == "boom");
}

TEST_CASE("a throwing callback does not stop the rest of the iteration", "[01][step2][errors]") {
    lab::EventLoop loop;
    ReportedErrors errors;
    errors.install(loop);
    std::vector<int> order;
    loop.call_soon([&order] { order.push_back(1); });
    loop.call_soon([] { throw std::logic_error("bad"); });
    loop.call_soon([&order] { order.push_back(3); });
    loop.run_once();
    REQUIRE(order == std::vector<int>{1, 3});
    REQUIRE(errors.contexts.size() == 1);
}

TEST_CASE("a node whose run() throws is still released, once", "[01][step2][errors]") {
    lab::EventLoop loop;
    ReportedErrors errors;
    errors.install(loop);
    ThrowingNode node;
    loop.call_soon(node);
    loop.run_once();
    REQUIRE(node.releases == 1);
    REQUIRE(errors.contexts.size() == 1);
    CHECK(errors.contexts[0].message == "Exception in callback <ThrowingNode>");
}
