// The compiled half of the asynchronous wrappers in <gymdash/async.hpp>.
#include <gymdash/async.hpp>

#include "runtime_impl.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

namespace gymdash {

namespace asio = boost::asio;

asio::any_io_executor executor(Runtime& runtime) { return runtime.impl().pool.get_executor(); }

namespace detail {

template <class R>
void run_async(asio::any_io_executor ex, std::function<R()> op, AsyncHandler<R> handler) {
  // Keep the handler's executor alive until it has been called.
  auto work = asio::make_work_guard(asio::get_associated_executor(handler, ex));
  asio::post(ex, [op = std::move(op), handler = std::move(handler), work = std::move(work)]() mutable {
    std::exception_ptr error;
    R result{};
    try {
      result = op();
    } catch (...) {
      error = std::current_exception();
    }
    auto handler_ex = work.get_executor();
    asio::dispatch(handler_ex, [handler = std::move(handler), error, result = std::move(result)]() mutable {
      std::move(handler)(error, std::move(result));
    });
    work.reset();
  });
}

void run_async_void(asio::any_io_executor ex, std::function<void()> op, AsyncVoidHandler handler) {
  auto work = asio::make_work_guard(asio::get_associated_executor(handler, ex));
  asio::post(ex, [op = std::move(op), handler = std::move(handler), work = std::move(work)]() mutable {
    std::exception_ptr error;
    try {
      op();
    } catch (...) {
      error = std::current_exception();
    }
    auto handler_ex = work.get_executor();
    asio::dispatch(handler_ex, [handler = std::move(handler), error]() mutable { std::move(handler)(error); });
    work.reset();
  });
}

template void run_async<Gym>(asio::any_io_executor, std::function<Gym()>, AsyncHandler<Gym>);
template void run_async<std::vector<Gym>>(asio::any_io_executor, std::function<std::vector<Gym>()>,
                                          AsyncHandler<std::vector<Gym>>);
template void run_async<Lead>(asio::any_io_executor, std::function<Lead()>, AsyncHandler<Lead>);
template void run_async<CreateLeadResult>(asio::any_io_executor, std::function<CreateLeadResult()>,
                                          AsyncHandler<CreateLeadResult>);
template void run_async<LeadPage>(asio::any_io_executor, std::function<LeadPage()>, AsyncHandler<LeadPage>);
template void run_async<LeadEvent>(asio::any_io_executor, std::function<LeadEvent()>, AsyncHandler<LeadEvent>);
template void run_async<std::vector<LeadEvent>>(asio::any_io_executor, std::function<std::vector<LeadEvent>()>,
                                                AsyncHandler<std::vector<LeadEvent>>);
template void run_async<Dashboard>(asio::any_io_executor, std::function<Dashboard()>, AsyncHandler<Dashboard>);
template void run_async<RebuildReport>(asio::any_io_executor, std::function<RebuildReport()>,
                                       AsyncHandler<RebuildReport>);
template void run_async<Campaign>(asio::any_io_executor, std::function<Campaign()>, AsyncHandler<Campaign>);
template void run_async<CampaignPage>(asio::any_io_executor, std::function<CampaignPage()>,
                                      AsyncHandler<CampaignPage>);
template void run_async<EnrolReport>(asio::any_io_executor, std::function<EnrolReport()>, AsyncHandler<EnrolReport>);
template void run_async<std::int64_t>(asio::any_io_executor, std::function<std::int64_t()>,
                                      AsyncHandler<std::int64_t>);
template void run_async<std::optional<CampaignLead>>(asio::any_io_executor,
                                                     std::function<std::optional<CampaignLead>()>,
                                                     AsyncHandler<std::optional<CampaignLead>>);
template void run_async<CampaignPerformance>(asio::any_io_executor, std::function<CampaignPerformance()>,
                                             AsyncHandler<CampaignPerformance>);

}  // namespace detail
}  // namespace gymdash
