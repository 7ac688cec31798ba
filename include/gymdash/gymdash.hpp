/**
 * @file gymdash.hpp
 * @brief Umbrella header: everything of the synchronous C++ API.
 * The asynchronous wrappers live in <gymdash/async.hpp>, the voice providers in
 * <gymdash/voice.hpp> (both need Boost.Asio).
 */
#pragma once

#include <gymdash/clock.hpp>
#include <gymdash/error.hpp>
#include <gymdash/model.hpp>
#include <gymdash/phone.hpp>
#include <gymdash/runtime.hpp>
#include <gymdash/services/analytics.hpp>
#include <gymdash/services/call.hpp>
#include <gymdash/services/gym.hpp>
#include <gymdash/services/lead.hpp>
#include <gymdash/services/routing.hpp>
#include <gymdash/store.hpp>
#include <gymdash/version.hpp>
#include <gymdash/webhook.hpp>
