#pragma once
// A per-thread cache of small memory blocks for the objects every task allocates: its task
// state, its coroutine frames and its timer handles.
#include <cstddef>
#include <new>

namespace aio::detail {

/// Keeps the small blocks that aio frees on a thread, by size (in steps of 16 bytes, up to
/// 512), and hands them out again before asking malloc.
///
/// Why: a task costs two or three allocations (task state, frame, and a timer for a sleep),
/// each freed when it ends. From malloc, with many tasks alive at once, each of these costs
/// hundreds of instructions, and freeing a burst of them lets malloc return the top of its
/// heap to the kernel, which must zero those pages again for the next burst. From a free list
/// each costs a few instructions, and the memory stays with the thread that uses it.
///
/// Limits: a thread keeps what it frees, so its cache grows to the most memory its aio
/// objects ever used at once (the high-water mark) and stays there until trim() or the
/// thread's exit; only past `capacity_bytes` (a safety valve) do blocks go back to malloc.
/// (A small cap was tried: caching only part of a burst interleaves cached blocks with
/// malloc's free chunks, and malloc then slows down more than the cache saves.) A block freed
/// on another thread joins that thread's cache (blocks of one size are interchangeable).
/// Sizes are rounded as glibc's malloc rounds them (16-byte steps including its 8-byte
/// header), so a cached block costs no more memory than the malloc'ed one would.
/// trim() gives everything back. Under AddressSanitizer the cache is
/// off, so that a use of a freed frame is still reported; compile with AIO_NO_BLOCK_CACHE
/// defined to turn it off for other tools (valgrind) or to compare.
class BlockCache {
public:
    static constexpr std::size_t granule = 16;
    static constexpr std::size_t largest_block = 512;
    static constexpr std::size_t capacity_bytes = std::size_t{1} << 30;

    static void* allocate(std::size_t size) {
        if (!enabled || size > largest_block) return ::operator new(size);
        const std::size_t size_class = class_of(size);
        Lists* lists = this_thread();
        if (lists) {
            if (FreeBlock* block = lists->heads[size_class]) {
                lists->heads[size_class] = block->next;
                lists->cached_bytes -= block_size(size_class);
                return block;
            }
        }
        return ::operator new(block_size(size_class));
    }

    static void deallocate(void* block, std::size_t size) noexcept {
        if (!enabled || size > largest_block) {
            ::operator delete(block);
            return;
        }
        const std::size_t size_class = class_of(size);
        Lists* lists = this_thread();
        if (!lists || lists->cached_bytes + block_size(size_class) > capacity_bytes) {
            ::operator delete(block);
            return;
        }
        lists->heads[size_class] = ::new (block) FreeBlock{lists->heads[size_class]};
        lists->cached_bytes += block_size(size_class);
    }

    /// Bytes kept by this thread's cache.
    static std::size_t cached_bytes() noexcept {
        Lists* lists = this_thread();
        return lists ? lists->cached_bytes : 0;
    }

    /// Gives this thread's cached blocks back to malloc.
    static void trim() noexcept {
        if (Lists* lists = this_thread()) lists->release_all();
    }

private:
#if defined(__SANITIZE_ADDRESS__) || defined(AIO_NO_BLOCK_CACHE)
    static constexpr bool enabled = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    static constexpr bool enabled = false;
#else
    static constexpr bool enabled = true;
#endif
#else
    static constexpr bool enabled = true;
#endif

    struct FreeBlock {
        FreeBlock* next;
    };

    struct Lists {
        FreeBlock* heads[largest_block / granule + 2] = {};
        std::size_t cached_bytes = 0;

        void release_all() noexcept {
            for (FreeBlock*& head : heads) {
                while (FreeBlock* block = head) {
                    head = block->next;
                    ::operator delete(static_cast<void*>(block));
                }
            }
            cached_bytes = 0;
        }
        ~Lists() {
            release_all();
            destroyed() = true;  // blocks freed later (thread-exit destructors) go to malloc
        }
    };

    // Class c holds blocks of 16c - 8 bytes: with malloc's 8-byte header, 16c in its heap.
    static constexpr std::size_t malloc_header = 8;
    static std::size_t class_of(std::size_t size) noexcept {
        return (size + malloc_header + granule - 1) / granule;
    }
    static std::size_t block_size(std::size_t size_class) noexcept {
        return size_class * granule - malloc_header;
    }

    /// The thread's lists, or nullptr once they are destroyed at thread exit.
    static Lists* this_thread() noexcept {
        if (destroyed()) return nullptr;
        thread_local Lists lists;
        return &lists;
    }
    static bool& destroyed() noexcept {
        thread_local bool flag = false;  // trivially destructible: usable to the very end
        return flag;
    }
};

}  // namespace aio::detail
