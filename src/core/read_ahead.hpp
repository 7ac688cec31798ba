// Reading and checking input on a second thread, a batch or two ahead of the
// thread that writes it: the two halves of a bulk import or ingest cost about
// the same, and a machine has at least two cores.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace gymdash {

/**
 * Runs `produce` on its own thread. `produce(emit)` calls `emit(item)` for
 * each item it reads, in order; items are handed to the consumer in batches
 * of `batch_size`, at most `max_ahead` (default two) batches ahead (plus the
 * one the producer is filling). The consumer calls next() until
 * it returns false. An exception thrown by `produce` is rethrown by next()
 * once the batches before it are consumed. Destroying the reader stops the
 * producer (its next emit returns false) and joins the thread.
 *
 * The batch next() replaces in `out` is destroyed on the producer's thread
 * (at its next hand-over), which made the items: freeing them is work the
 * consumer, the bottleneck of an import, does not do.
 *
 * Thread safety: one producer thread (owned here), one consumer thread.
 */
template <class Item>
class ReadAhead {
 public:
  /** `emit` returns false when the consumer has stopped; the producer should return then. */
  using Emit = std::function<bool(Item&&)>;

  ReadAhead(std::size_t batch_size, std::function<void(const Emit&)> produce, std::size_t max_ahead = 2)
      : batch_size_(batch_size), max_ahead_(max_ahead < 1 ? 1 : max_ahead) {
    thread_ = std::thread([this, produce = std::move(produce)] {
      try {
        std::vector<Item> batch;
        batch.reserve(batch_size_);
        const Emit emit = [&](Item&& item) {
          batch.push_back(std::move(item));
          if (batch.size() < batch_size_) return true;
          return push(batch);
        };
        produce(emit);
        if (!batch.empty()) push(batch);
      } catch (...) {
        std::lock_guard lock(m_);
        error_ = std::current_exception();
      }
      std::lock_guard lock(m_);
      done_ = true;
      cv_.notify_all();
    });
  }

  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  ~ReadAhead() { stop(); }

  /** The next batch into `out`; false at the end. Rethrows the producer's error after its last good batch. */
  bool next(std::vector<Item>& out) {
    std::vector<Item> spent = std::move(out);
    out.clear();
    std::unique_lock lock(m_);
    if (!spent.empty() && !done_) spent_.push_back(std::move(spent));
    cv_.wait(lock, [&] { return !batches_.empty() || done_; });
    if (batches_.empty()) {
      if (error_) std::rethrow_exception(error_);
      return false;
    }
    out = std::move(batches_.front());
    batches_.pop_front();
    cv_.notify_all();
    return true;
  }

  /** Stops the producer and waits for its thread. Idempotent. */
  void stop() {
    {
      std::lock_guard lock(m_);
      stop_ = true;
      cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  bool push(std::vector<Item>& batch) {
    std::vector<std::vector<Item>> spent;  // destroyed here, after the lock is released
    {
      std::unique_lock lock(m_);
      cv_.wait(lock, [&] { return batches_.size() < max_ahead_ || stop_; });
      if (stop_) return false;
      batches_.push_back(std::move(batch));
      spent.swap(spent_);
      cv_.notify_all();
    }
    batch = {};
    batch.reserve(batch_size_);
    return true;
  }

  std::size_t batch_size_;
  std::size_t max_ahead_;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::vector<Item>> batches_;
  std::vector<std::vector<Item>> spent_;  // consumed batches, for the producer to destroy
  bool done_ = false;
  bool stop_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace gymdash
