// main() for the grader's per-lab benchmarks (autograder/bench/NN_name/bench_*.cpp).
//
// The same program is built twice, against the submission (lab_NN_bench) and against the
// reference solution (solution_NN_bench); the grader runs them interleaved and compares
// medians. Timings go to the grader through the private result channel (see
// cmake/aiolab_result_channel.hpp), not through stdout, which the code under test shares.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "aiolab_result_channel.hpp"

namespace {

namespace channel = aiolab::result_channel;

// Google Benchmark 1.8 renamed Run::error_occurred to Run::skipped; accept both.
template <class Run>
bool run_failed(const Run& run) {
    if constexpr (requires { run.error_occurred; }) {
        return static_cast<bool>(run.error_occurred);
    } else {
        return static_cast<bool>(run.skipped);
    }
}

/// Prints the usual console table and sends each measured run to the grader.
class TrustedReporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const Run& run : runs) {
            if (run.run_type != Run::RT_Iteration) continue;
            std::string record = channel::begin_record("benchmark");
            record += ",\"name\":";
            channel::append_json_string(record, run.benchmark_name());
            record += run_failed(run) ? ",\"error\":true" : ",\"error\":false";
            double per_second = benchmark::GetTimeUnitMultiplier(run.time_unit);
            record += ",\"real_ns\":" + std::to_string(run.GetAdjustedRealTime() * 1e9 / per_second);
            record += ",\"cpu_ns\":" + std::to_string(run.GetAdjustedCPUTime() * 1e9 / per_second);
            record += ",\"iterations\":" + std::to_string(static_cast<long long>(run.iterations));
            channel::send(std::move(record));
        }
    }
};

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    TrustedReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    channel::send(channel::begin_record("benchmarks_complete"));
    return 0;
}
