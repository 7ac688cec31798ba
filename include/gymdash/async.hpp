/**
 * @file async.hpp
 * @brief Asio completion-token wrappers around the synchronous services.
 *
 * Each `async_x(runtime, args..., token)` runs the blocking operation `x` on
 * the runtime's thread pool and completes with any Asio completion token:
 * `asio::use_future`, `asio::use_awaitable`, `asio::deferred` (the default) or
 * a callback. This header pulls in Boost.Asio; the rest of the public API does
 * not, so include it only where you use it.
 *
 * Handler signature: `void(std::exception_ptr, T)` — the exception is the same
 * gymdash::Error the synchronous call would have thrown (use_future and
 * use_awaitable rethrow it). Operations returning nothing complete with
 * `void(std::exception_ptr)`.
 *
 * Object lifetimes: the arguments are copied before the operation starts; the
 * Runtime must outlive every operation started on it.
 *
 * Thread safety: the operation runs on one of the runtime's threads; the
 * handler is invoked on its associated executor (by default the runtime's).
 */
#pragma once

#include <gymdash/runtime.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>

#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace gymdash {

/** The executor of the runtime's thread pool. */
boost::asio::any_io_executor executor(Runtime& runtime);

namespace detail {

template <class R>
using AsyncHandler = boost::asio::any_completion_handler<void(std::exception_ptr, R)>;
using AsyncVoidHandler = boost::asio::any_completion_handler<void(std::exception_ptr)>;

// Compiled in the library for each result type used below: posts `op` to `ex`,
// runs it, and completes `handler` on its associated executor.
template <class R>
void run_async(boost::asio::any_io_executor ex, std::function<R()> op, AsyncHandler<R> handler);
void run_async_void(boost::asio::any_io_executor ex, std::function<void()> op, AsyncVoidHandler handler);

extern template void run_async<Gym>(boost::asio::any_io_executor, std::function<Gym()>, AsyncHandler<Gym>);
extern template void run_async<std::vector<Gym>>(boost::asio::any_io_executor, std::function<std::vector<Gym>()>,
                                                 AsyncHandler<std::vector<Gym>>);
extern template void run_async<Lead>(boost::asio::any_io_executor, std::function<Lead()>, AsyncHandler<Lead>);
extern template void run_async<CreateLeadResult>(boost::asio::any_io_executor, std::function<CreateLeadResult()>,
                                                 AsyncHandler<CreateLeadResult>);
extern template void run_async<LeadPage>(boost::asio::any_io_executor, std::function<LeadPage()>,
                                         AsyncHandler<LeadPage>);
extern template void run_async<LeadEvent>(boost::asio::any_io_executor, std::function<LeadEvent()>,
                                          AsyncHandler<LeadEvent>);
extern template void run_async<std::vector<LeadEvent>>(boost::asio::any_io_executor,
                                                       std::function<std::vector<LeadEvent>()>,
                                                       AsyncHandler<std::vector<LeadEvent>>);
extern template void run_async<Dashboard>(boost::asio::any_io_executor, std::function<Dashboard()>,
                                          AsyncHandler<Dashboard>);
extern template void run_async<RebuildReport>(boost::asio::any_io_executor, std::function<RebuildReport()>,
                                              AsyncHandler<RebuildReport>);
extern template void run_async<Campaign>(boost::asio::any_io_executor, std::function<Campaign()>,
                                         AsyncHandler<Campaign>);
extern template void run_async<CampaignPage>(boost::asio::any_io_executor, std::function<CampaignPage()>,
                                             AsyncHandler<CampaignPage>);
extern template void run_async<EnrolReport>(boost::asio::any_io_executor, std::function<EnrolReport()>,
                                            AsyncHandler<EnrolReport>);
extern template void run_async<std::int64_t>(boost::asio::any_io_executor, std::function<std::int64_t()>,
                                             AsyncHandler<std::int64_t>);
extern template void run_async<std::optional<CampaignLead>>(boost::asio::any_io_executor,
                                                            std::function<std::optional<CampaignLead>()>,
                                                            AsyncHandler<std::optional<CampaignLead>>);
extern template void run_async<CampaignPerformance>(boost::asio::any_io_executor,
                                                    std::function<CampaignPerformance()>,
                                                    AsyncHandler<CampaignPerformance>);

template <class R, class Token>
auto async_call(Runtime& rt, std::function<R()> op, Token&& token) {
  return boost::asio::async_initiate<Token, void(std::exception_ptr, R)>(
      [](auto handler, boost::asio::any_io_executor ex, std::function<R()> op) {
        run_async<R>(std::move(ex), std::move(op), AsyncHandler<R>(std::move(handler)));
      },
      token, executor(rt), std::move(op));
}

template <class Token>
auto async_call_void(Runtime& rt, std::function<void()> op, Token&& token) {
  return boost::asio::async_initiate<Token, void(std::exception_ptr)>(
      [](auto handler, boost::asio::any_io_executor ex, std::function<void()> op) {
        run_async_void(std::move(ex), std::move(op), AsyncVoidHandler(std::move(handler)));
      },
      token, executor(rt), std::move(op));
}

}  // namespace detail

// ---- gyms -----------------------------------------------------------------

template <class Token = boost::asio::deferred_t>
auto async_create_gym(Runtime& rt, Gym gym, Token&& token = {}) {
  return detail::async_call<Gym>(rt, [&rt, gym = std::move(gym)] { return rt.gyms().create_gym(gym); },
                                 std::forward<Token>(token));
}

template <class Token = boost::asio::deferred_t>
auto async_get_gym(Runtime& rt, std::string gym_id, Token&& token = {}) {
  return detail::async_call<Gym>(rt, [&rt, gym_id = std::move(gym_id)] { return rt.gyms().get_gym(gym_id); },
                                 std::forward<Token>(token));
}

template <class Token = boost::asio::deferred_t>
auto async_list_gyms(Runtime& rt, Token&& token = {}) {
  return detail::async_call<std::vector<Gym>>(rt, [&rt] { return rt.gyms().list_gyms(); },
                                              std::forward<Token>(token));
}

template <class Token = boost::asio::deferred_t>
auto async_update_gym(Runtime& rt, Gym gym, Token&& token = {}) {
  return detail::async_call<Gym>(rt, [&rt, gym = std::move(gym)] { return rt.gyms().update_gym(gym); },
                                 std::forward<Token>(token));
}

// ---- leads ----------------------------------------------------------------

template <class Token = boost::asio::deferred_t>
auto async_create_lead(Runtime& rt, std::string gym_id, LeadInput input, Token&& token = {}) {
  return detail::async_call<CreateLeadResult>(
      rt, [&rt, gym_id = std::move(gym_id), input = std::move(input)] { return rt.leads().create_lead(gym_id, input); },
      std::forward<Token>(token));
}

template <class Token = boost::asio::deferred_t>
auto async_get_lead(Runtime& rt, std::string gym_id, std::string lead_id, Token&& token = {}) {
  return detail::async_call<Lead>(
      rt, [&rt, gym_id = std::move(gym_id), lead_id = std::move(lead_id)] { return rt.leads().get_lead(gym_id, lead_id); },
      std::forward<Token>(token));
}

template <class Token = boost::asio::deferred_t>
auto async_update_lead(Runtime& rt, std::string gym_id, std::string lead_id, LeadPatch patch, Token&& token = {}) {
  return detail::async_call<Lead>(
      rt,
      [&rt, gym_id = std::move(gym_id), lead_id = std::move(lead_id), patch = std::move(patch)] {
        return rt.leads().update_lead(gym_id, lead_id, patch);
      },
      std::forward<Token>(token));
}

template <class Token = boost::asio::deferred_t>
auto async_delete_lead(Runtime& rt, std::string gym_id, std::string lead_id, Token&& token = {}) {
  return detail::async_call_void(
      rt, [&rt, gym_id = std::move(gym_id), lead_id = std::move(lead_id)] { rt.leads().delete_lead(gym_id, lead_id); },
      std::forward<Token>(token));
}

template <class Token = boost::asio::deferred_t>
auto async_list_leads(Runtime& rt, std::string gym_id, LeadFilter filter, Token&& token = {}) {
  return detail::async_call<LeadPage>(
      rt, [&rt, gym_id = std::move(gym_id), filter = std::move(filter)] { return rt.leads().list_leads(gym_id, filter); },
      std::forward<Token>(token));
}

template <class Token = boost::asio::deferred_t>
auto async_add_tags(Runtime& rt, std::string gym_id, std::string lead_id, std::vector<std::string> tags,
                    Token&& token = {}) {
  return detail::async_call<Lead>(
      rt,
      [&rt, gym_id = std::move(gym_id), lead_id = std::move(lead_id), tags = std::move(tags)] {
        return rt.leads().add_tags(gym_id, lead_id, tags);
      },
      std::forward<Token>(token));
}

template <class Token = boost::asio::deferred_t>
auto async_remove_tags(Runtime& rt, std::string gym_id, std::string lead_id, std::vector<std::string> tags,
                       Token&& token = {}) {
  return detail::async_call<Lead>(
      rt,
      [&rt, gym_id = std::move(gym_id), lead_id = std::move(lead_id), tags = std::move(tags)] {
        return rt.leads().remove_tags(gym_id, lead_id, tags);
      },
      std::forward<Token>(token));
}

template <class Token = boost::asio::deferred_t>
auto async_add_note(Runtime& rt, std::string gym_id, std::string lead_id, std::string text, Token&& token = {}) {
  return detail::async_call<LeadEvent>(
      rt,
      [&rt, gym_id = std::move(gym_id), lead_id = std::move(lead_id), text = std::move(text)] {
        return rt.leads().add_note(gym_id, lead_id, text);
      },
      std::forward<Token>(token));
}

template <class Token = boost::asio::deferred_t>
auto async_change_status(Runtime& rt, std::string gym_id, std::string lead_id, StatusChange change,
                         Token&& token = {}) {
  return detail::async_call<Lead>(
      rt,
      [&rt, gym_id = std::move(gym_id), lead_id = std::move(lead_id), change = std::move(change)] {
        return rt.leads().change_status(gym_id, lead_id, change);
      },
      std::forward<Token>(token));
}

template <class Token = boost::asio::deferred_t>
auto async_get_history(Runtime& rt, std::string gym_id, std::string lead_id, Token&& token = {}) {
  return detail::async_call<std::vector<LeadEvent>>(
      rt, [&rt, gym_id = std::move(gym_id), lead_id = std::move(lead_id)] { return rt.leads().get_history(gym_id, lead_id); },
      std::forward<Token>(token));
}

// ---- analytics (AnalyticsService; docs/analytics.md) -------------------------

/** The dashboard of a gym, a campaign or every gym over a period; completes with a Dashboard. */
template <class Token = boost::asio::deferred_t>
auto async_dashboard(Runtime& rt, AnalyticsQuery query, Token&& token = {}) {
  return detail::async_call<Dashboard>(rt, [&rt, query = std::move(query)] { return rt.analytics().dashboard(query); },
                                       std::forward<Token>(token));
}

/** Rebuilds the analytics rollups of a gym (every gym when empty); completes with a RebuildReport. */
template <class Token = boost::asio::deferred_t>
auto async_rebuild_analytics(Runtime& rt, std::string gym_id, Token&& token = {}) {
  return detail::async_call<RebuildReport>(
      rt, [&rt, gym_id = std::move(gym_id)] { return rt.analytics().rebuild(gym_id); }, std::forward<Token>(token));
}

// ---- campaigns (CampaignService; docs/campaigns.md) ----------------------------

template <class Token = boost::asio::deferred_t>
auto async_create_campaign(Runtime& rt, std::string gym_id, CampaignInput input, Token&& token = {}) {
  return detail::async_call<Campaign>(
      rt,
      [&rt, gym_id = std::move(gym_id), input = std::move(input)] {
        return rt.campaigns().create_campaign(gym_id, input);
      },
      std::forward<Token>(token));
}

template <class Token = boost::asio::deferred_t>
auto async_get_campaign(Runtime& rt, std::string gym_id, std::string campaign_id, Token&& token = {}) {
  return detail::async_call<Campaign>(
      rt,
      [&rt, gym_id = std::move(gym_id), campaign_id = std::move(campaign_id)] {
        return rt.campaigns().get_campaign(gym_id, campaign_id);
      },
      std::forward<Token>(token));
}

template <class Token = boost::asio::deferred_t>
auto async_list_campaigns(Runtime& rt, std::string gym_id, CampaignFilter filter, Token&& token = {}) {
  return detail::async_call<CampaignPage>(
      rt,
      [&rt, gym_id = std::move(gym_id), filter = std::move(filter)] {
        return rt.campaigns().list_campaigns(gym_id, filter);
      },
      std::forward<Token>(token));
}

template <class Token = boost::asio::deferred_t>
auto async_update_campaign(Runtime& rt, std::string gym_id, std::string campaign_id, CampaignPatch patch,
                           Token&& token = {}) {
  return detail::async_call<Campaign>(
      rt,
      [&rt, gym_id = std::move(gym_id), campaign_id = std::move(campaign_id), patch = std::move(patch)] {
        return rt.campaigns().update_campaign(gym_id, campaign_id, patch);
      },
      std::forward<Token>(token));
}

template <class Token = boost::asio::deferred_t>
auto async_delete_campaign(Runtime& rt, std::string gym_id, std::string campaign_id, Token&& token = {}) {
  return detail::async_call_void(
      rt,
      [&rt, gym_id = std::move(gym_id), campaign_id = std::move(campaign_id)] {
        rt.campaigns().delete_campaign(gym_id, campaign_id);
      },
      std::forward<Token>(token));
}

/** Moves a campaign through its lifecycle (CampaignService::set_state); completes with the campaign. */
template <class Token = boost::asio::deferred_t>
auto async_set_campaign_state(Runtime& rt, std::string gym_id, std::string campaign_id, CampaignState to,
                              Token&& token = {}) {
  return detail::async_call<Campaign>(
      rt,
      [&rt, gym_id = std::move(gym_id), campaign_id = std::move(campaign_id), to] {
        return rt.campaigns().set_state(gym_id, campaign_id, to);
      },
      std::forward<Token>(token));
}

/** Enrols the leads matching `filter` (the campaign's own target when empty); completes with an EnrolReport. */
template <class Token = boost::asio::deferred_t>
auto async_enrol_by_filter(Runtime& rt, std::string gym_id, std::string campaign_id,
                           std::optional<CampaignTarget> filter, Token&& token = {}) {
  return detail::async_call<EnrolReport>(
      rt,
      [&rt, gym_id = std::move(gym_id), campaign_id = std::move(campaign_id), filter = std::move(filter)] {
        return rt.campaigns().enrol_by_filter(gym_id, campaign_id, filter);
      },
      std::forward<Token>(token));
}

template <class Token = boost::asio::deferred_t>
auto async_enrol_leads(Runtime& rt, std::string gym_id, std::string campaign_id, std::vector<std::string> lead_ids,
                       Token&& token = {}) {
  return detail::async_call<EnrolReport>(
      rt,
      [&rt, gym_id = std::move(gym_id), campaign_id = std::move(campaign_id), lead_ids = std::move(lead_ids)] {
        return rt.campaigns().enrol_leads(gym_id, campaign_id, lead_ids);
      },
      std::forward<Token>(token));
}

/** Takes leads out of a campaign; completes with how many were enrolled. */
template <class Token = boost::asio::deferred_t>
auto async_remove_campaign_leads(Runtime& rt, std::string gym_id, std::string campaign_id,
                                 std::vector<std::string> lead_ids, Token&& token = {}) {
  return detail::async_call<std::int64_t>(
      rt,
      [&rt, gym_id = std::move(gym_id), campaign_id = std::move(campaign_id), lead_ids = std::move(lead_ids)] {
        return rt.campaigns().remove_leads(gym_id, campaign_id, lead_ids);
      },
      std::forward<Token>(token));
}

/** One lead's enrolment; completes with an empty optional when it is not enrolled. */
template <class Token = boost::asio::deferred_t>
auto async_get_enrolment(Runtime& rt, std::string gym_id, std::string campaign_id, std::string lead_id,
                         Token&& token = {}) {
  return detail::async_call<std::optional<CampaignLead>>(
      rt,
      [&rt, gym_id = std::move(gym_id), campaign_id = std::move(campaign_id), lead_id = std::move(lead_id)] {
        return rt.campaigns().enrolment(gym_id, campaign_id, lead_id);
      },
      std::forward<Token>(token));
}

template <class Token = boost::asio::deferred_t>
auto async_campaign_performance(Runtime& rt, std::string gym_id, std::string campaign_id, Token&& token = {}) {
  return detail::async_call<CampaignPerformance>(
      rt,
      [&rt, gym_id = std::move(gym_id), campaign_id = std::move(campaign_id)] {
        return rt.campaigns().performance(gym_id, campaign_id);
      },
      std::forward<Token>(token));
}

}  // namespace gymdash
