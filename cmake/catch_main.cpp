// The one translation unit that compiles Catch2's main() for every aiolab test program.
//
// It also holds the autograder's result recorder. Run normally, a test program behaves as
// Catch2's own main. Run by the grader (AIOLAB_RESULT_FD and AIOLAB_RESULT_NONCE set), it
// additionally writes, to that private descriptor, one record when a test case starts and
// one AFTER it ends, so that the grader never has to believe anything the code under test
// prints: exiting mid-test leaves no end record, and a crash after the end record still
// shows in the exit status. With AIOLAB_MODE=list it writes the test cases (name, tags)
// instead of running them. Works with Catch2 2.13.8 (Ubuntu 22.04) and 2.13.10 (Debian 12).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "aiolab_result_channel.hpp"

namespace {

namespace channel = aiolab::result_channel;

/// The name Catch2 gives each kind of assertion outcome, for the grader's message.
const char* result_kind(Catch::ResultWas::OfType type) {
    switch (type) {
        case Catch::ResultWas::ExpressionFailed: return "expression failed";
        case Catch::ResultWas::ExplicitFailure: return "explicit failure";
        case Catch::ResultWas::ThrewException: return "unexpected exception";
        case Catch::ResultWas::DidntThrowException: return "no exception thrown";
        case Catch::ResultWas::FatalErrorCondition: return "fatal error";
        default: return "failure";
    }
}

/// Reports each test case to the grader. Only the first failed assertion is kept: it is the
/// one a student should fix first, and later ones are often its consequences.
class ResultRecorder : public Catch::TestEventListenerBase {
public:
    using TestEventListenerBase::TestEventListenerBase;

    void testCaseStarting(Catch::TestCaseInfo const& info) override {
        TestEventListenerBase::testCaseStarting(info);
        first_failure_.clear();
        if (!channel::active()) return;
        std::string record = channel::begin_record("test_case_started");
        record += ",\"name\":";
        channel::append_json_string(record, info.name);
        channel::send(std::move(record));
    }

    bool assertionEnded(Catch::AssertionStats const& stats) override {
        Catch::AssertionResult const& result = stats.assertionResult;
        if (first_failure_.empty() && !result.isOk()) {
            std::string failure = "{\"kind\":";
            channel::append_json_string(failure, result_kind(result.getResultType()));
            failure += ",\"file\":";
            channel::append_json_string(failure, result.getSourceInfo().file);
            failure += ",\"line\":" + std::to_string(result.getSourceInfo().line);
            if (result.hasExpression()) {
                failure += ",\"expression\":";
                channel::append_json_string(failure, result.getExpressionInMacro());
            }
            if (result.hasExpandedExpression()) {
                failure += ",\"expansion\":";
                channel::append_json_string(failure, result.getExpandedExpression());
            }
            if (result.hasMessage()) {
                failure += ",\"message\":";
                channel::append_json_string(failure, result.getMessage());
            }
            failure += ",\"info\":[";
            bool first = true;
            for (Catch::MessageInfo const& info : stats.infoMessages) {
                if (info.type != Catch::ResultWas::Info) continue;
                if (!first) failure += ',';
                first = false;
                channel::append_json_string(failure, info.message, 300);
            }
            failure += "]}";
            first_failure_ = std::move(failure);
        }
        return TestEventListenerBase::assertionEnded(stats);
    }

    // Called after the test body and every SECTION run have returned (or, on a fatal signal,
    // from Catch2's signal handler before it re-raises the signal).
    void testCaseEnded(Catch::TestCaseStats const& stats) override {
        TestEventListenerBase::testCaseEnded(stats);
        if (!channel::active()) return;
        bool passed = stats.totals.testCases.failed == 0 && stats.totals.assertions.failed == 0;
        std::string record = channel::begin_record("test_case_ended");
        record += ",\"name\":";
        channel::append_json_string(record, stats.testInfo.name);
        record += passed ? ",\"passed\":true" : ",\"passed\":false";
        record += ",\"assertions_passed\":" + std::to_string(stats.totals.assertions.passed);
        record += ",\"assertions_failed\":" + std::to_string(stats.totals.assertions.failed);
        if (!first_failure_.empty()) record += ",\"failure\":" + first_failure_;
        channel::send(std::move(record));
    }

private:
    std::string first_failure_;
};

/// AIOLAB_MODE=list: one record per test case the command line selects (all visible ones by
/// default), with its tags, so the grader knows every test before any of them runs.
int write_test_list(Catch::Session& session) {
    Catch::Config& config = session.config();
    std::vector<Catch::TestCase> tests =
        Catch::filterTests(Catch::getAllTestCasesSorted(config), config.testSpec(), config);
    for (Catch::TestCase const& test : tests) {
        Catch::TestCaseInfo const& info = test.getTestCaseInfo();
        std::string record = channel::begin_record("test_case");
        record += ",\"name\":";
        channel::append_json_string(record, info.name, 4000);
        record += ",\"tags\":[";
        bool first = true;
        for (std::string const& tag : info.tags) {
            if (!first) record += ',';
            first = false;
            channel::append_json_string(record, tag, 200);
        }
        record += "],\"file\":";
        channel::append_json_string(record, info.lineInfo.file);
        record += ",\"line\":" + std::to_string(info.lineInfo.line);
        channel::send(std::move(record));
    }
    channel::send(channel::begin_record("list_complete"));
    return 0;
}

}  // namespace

CATCH_REGISTER_LISTENER(ResultRecorder)

int main(int argc, char* argv[]) {
    Catch::Session session;
    if (channel::channel().list_mode) {
        int status = session.applyCommandLine(argc, argv);
        if (status != 0) return status;
        return write_test_list(session);
    }
    return session.run(argc, argv);
}
