// What the webhook files share: form and query decoding, the header lookup,
// RFC 2822 dates (Twilio), and the JSON-lenient readers of provider bodies.
// Not installed.
#pragma once

#include <gymdash/model.hpp>
#include <gymdash/webhook.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gymdash::webhook {

/** Name/value pairs in order; duplicates kept. */
using Params = std::vector<std::pair<std::string, std::string>>;

/**
 * Decodes `application/x-www-form-urlencoded` text (`+` is a space, `%XX` a
 * byte). A bad escape is InvalidArgumentError naming `field`.
 */
Params parse_form(std::string_view text, std::string_view field);

/** The query of a URL (after `?`, before `#`), decoded; InvalidArgumentError `url` for a bad escape. */
Params url_query(std::string_view url);

/** The first value of `name`, or nullptr. */
const std::string* param(const Params& params, std::string_view name);

/** The header's value, or nullptr. */
const std::string* header(const WebhookRequest& request, std::string_view name);

/** `Mon, 16 Aug 2010 03:45:01 +0000` (RFC 2822, the form Twilio sends); nullopt if it is not one. */
std::optional<Timestamp> parse_rfc2822(std::string_view text);

}  // namespace gymdash::webhook
