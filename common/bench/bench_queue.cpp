// aio::Queue throughput: items through a queue per second.
//
//   queue_tasks/maxsize:  a producer task put()s, a consumer task get()s. maxsize 0
//                         (unbounded): the producer never waits, the consumer wakes when
//                         the queue was empty. A small bound (1, 16): the two hand over
//                         control every time the queue fills or empties, so most items
//                         cost a task switch through the loop.
//   queue_nowait:         put_nowait()/get_nowait() in one task, in batches of 64: the
//                         queue's own bookkeeping, with no waiting and no task switch.
//
// Rate reported: items_per_second = items through the queue per second.
#include <benchmark/benchmark.h>

#include "aio/queue.hpp"
#include "aio/selector_event_loop.hpp"
#include "aio/task.hpp"

namespace {

constexpr int items_per_iteration = 200'000;

aio::Coro<void> produce(aio::Queue<int>* queue, int count) {
    for (int i = 0; i < count; ++i) co_await queue->put(i);
}

aio::Coro<long long> consume(aio::Queue<int>* queue, int count) {
    long long sum = 0;
    for (int i = 0; i < count; ++i) sum += co_await queue->get();
    co_return sum;
}

aio::Coro<long long> producer_consumer(long maxsize, int count) {
    aio::Queue<int> queue(maxsize);
    aio::Task<long long> consumer = aio::create_task(consume(&queue, count));
    aio::Task<void> producer = aio::create_task(produce(&queue, count));
    long long sum = co_await consumer;
    co_await producer;
    co_return sum;
}

aio::Coro<long long> nowait_batches(int count) {
    aio::Queue<int> queue;
    long long sum = 0;
    constexpr int batch = 64;
    for (int done = 0; done < count; done += batch) {
        for (int i = 0; i < batch; ++i) queue.put_nowait(done + i);
        for (int i = 0; i < batch; ++i) sum += queue.get_nowait();
    }
    co_return sum;
}

constexpr long long expected_sum(long long count) { return count * (count - 1) / 2; }

void queue_tasks(benchmark::State& state) {
    const long maxsize = static_cast<long>(state.range(0));
    aio::SelectorEventLoop loop;
    for (auto _ : state) {
        long long sum = loop.run_until_complete(producer_consumer(maxsize, items_per_iteration));
        if (sum != expected_sum(items_per_iteration)) state.SkipWithError("items got lost");
    }
    loop.close();
    state.SetItemsProcessed(state.iterations() * items_per_iteration);
}

void queue_nowait(benchmark::State& state) {
    aio::SelectorEventLoop loop;
    for (auto _ : state) {
        long long sum = loop.run_until_complete(nowait_batches(items_per_iteration));
        if (sum != expected_sum(items_per_iteration)) state.SkipWithError("items got lost");
    }
    loop.close();
    state.SetItemsProcessed(state.iterations() * items_per_iteration);
}

}  // namespace

BENCHMARK(queue_tasks)->Arg(0)->Arg(1)->Arg(16)->Unit(benchmark::kMillisecond);
BENCHMARK(queue_nowait)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
