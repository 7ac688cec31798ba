// Authenticity of provider webhooks: Retell's signed timestamp and HMAC,
// Vapi's shared secret or HMAC, Twilio's HMAC-SHA1 over URL and parameters.
// Every failure is InvalidArgumentError on `signature`; the messages say what
// was wrong, never what was expected.
#include <gymdash/error.hpp>
#include <gymdash/webhook.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>

#include "webhook/webhook_text.hpp"

namespace gymdash {
namespace {

using webhook::header;

std::string hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
           data.size(), out, &len) == nullptr)
    throw InternalError("webhook: HMAC computation failed in libcrypto");
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string to_base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Constant time for equal lengths; a length is not secret.
bool same(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::int64_t> digits(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

// A replay check: `signed_at` must be within the tolerance of `now`, either way.
void check_fresh(Timestamp signed_at, Timestamp now, const WebhookOptions& options, std::string_view what) {
  const auto diff = signed_at > now ? signed_at - now : now - signed_at;
  if (diff > options.tolerance) {
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(diff).count();
    throw_invalid("signature", fmt::format("{} {} is {} s {} now, more than the {} s allowed (a replay?)", what,
                                           format_timestamp(signed_at), secs, signed_at > now ? "after" : "before",
                                           options.tolerance.count()));
  }
}

// Retell: `x-retell-signature: v=<unix ms>,d=<hex HMAC-SHA256(key, body + ms)>`.
void verify_retell(const WebhookRequest& r, const WebhookOptions& o, Timestamp now) {
  const std::string* sig = header(r, "x-retell-signature");
  if (sig == nullptr) throw_invalid("signature", "missing x-retell-signature header");
  const std::string_view text = trim(*sig);
  const std::size_t comma = text.find(',');
  if (!text.starts_with("v=") || comma == std::string_view::npos || text.substr(comma + 1, 2) != "d=")
    throw_invalid("signature", "x-retell-signature is not of the form v=<timestamp>,d=<digest>");
  const std::string_view stamp = text.substr(2, comma - 2);
  const auto ms = digits(stamp);
  if (!ms) throw_invalid("signature", "x-retell-signature: v= is not a timestamp in milliseconds");
  const std::string digest = lower(text.substr(comma + 3));
  std::string signed_text = r.body;
  signed_text += stamp;
  bool ok = false;
  for (const auto& key : o.secrets) ok |= same(to_hex(hmac(EVP_sha256(), key, signed_text)), digest);
  if (!ok) throw_invalid("signature", "x-retell-signature does not match the body (wrong key, or the body was changed)");
  check_fresh(Timestamp{std::chrono::milliseconds{*ms}}, now, o, "x-retell-signature timestamp");
}

// Vapi: the server secret in `x-vapi-secret`, or an HMAC credential
// (`x-signature` / `x-vapi-signature`, hex HMAC-SHA256 of `{timestamp}.{body}`
// with `x-timestamp`, or of the body alone without one).
void verify_vapi(const WebhookRequest& r, const WebhookOptions& o, Timestamp now) {
  if (const std::string* secret = header(r, "x-vapi-secret")) {
    bool ok = false;
    for (const auto& key : o.secrets) ok |= same(*secret, key);
    if (!ok) throw_invalid("signature", "x-vapi-secret does not match the configured secret");
    return;
  }
  const char* sig_name = "x-signature";
  const std::string* sig = header(r, sig_name);
  if (sig == nullptr) sig = header(r, sig_name = "x-vapi-signature");
  if (sig == nullptr) throw_invalid("signature", "missing x-vapi-secret (or x-signature) header");
  std::string_view value = trim(*sig);
  if (value.starts_with("sha256=")) value.remove_prefix(7);
  const std::string digest = lower(value);
  const std::string* stamp = header(r, "x-timestamp");
  if (stamp == nullptr) stamp = header(r, "x-vapi-timestamp");
  std::string signed_text;
  std::optional<Timestamp> signed_at;
  if (stamp != nullptr) {
    const auto n = digits(trim(*stamp));
    if (!n) throw_invalid("signature", "x-timestamp is not a Unix time");
    // Seconds or milliseconds, told apart by size (1e11 s is in the year 5138).
    signed_at = *n >= 100'000'000'000 ? Timestamp{std::chrono::milliseconds{*n}}
                                      : Timestamp{std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::seconds{*n})};
    signed_text = std::string(trim(*stamp)) + "." + r.body;
  } else {
    signed_text = r.body;
  }
  bool ok = false;
  for (const auto& key : o.secrets) {
    ok |= same(to_hex(hmac(EVP_sha256(), key, signed_text)), digest);
    // Vapi's older "secret token" setting sends the secret itself in x-vapi-signature.
    if (stamp == nullptr && std::string_view(sig_name) == "x-vapi-signature") ok |= same(*sig, key);
  }
  if (!ok) throw_invalid("signature", fmt::format("{} does not match the body (wrong secret, or the body was changed)", sig_name));
  if (signed_at) check_fresh(*signed_at, now, o, "x-timestamp");
}

// The URLs Twilio may have signed: as given, and with the default port added
// or removed (Twilio's own validators try both).
std::vector<std::string> twilio_urls(const std::string& url) {
  std::vector<std::string> out{url};
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return out;
  const std::string scheme = lower(url.substr(0, scheme_end));
  const char* port = scheme == "https" ? ":443" : scheme == "http" ? ":80" : nullptr;
  if (port == nullptr) return out;
  const std::size_t host_start = scheme_end + 3;
  std::size_t host_end = url.find_first_of("/?#", host_start);
  if (host_end == std::string::npos) host_end = url.size();
  const std::string host = url.substr(host_start, host_end - host_start);
  const std::string rest = url.substr(host_end);
  const std::string p(port);
  if (host.size() > p.size() && host.ends_with(p))
    out.push_back(url.substr(0, host_start) + host.substr(0, host.size() - p.size()) + rest);
  else if (host.find(':') == std::string::npos)
    out.push_back(url.substr(0, host_start) + host + p + rest);
  return out;
}

// Twilio: `X-Twilio-Signature` = base64(HMAC-SHA1(auth token, URL + each POST
// parameter's name and value, sorted by name)).
void verify_twilio(const WebhookRequest& r, const WebhookOptions& o, Timestamp now) {
  const std::string* sig = header(r, "x-twilio-signature");
  if (sig == nullptr) throw_invalid("signature", "missing X-Twilio-Signature header");
  if (r.url.empty()) throw_invalid("url", "is required for twilio: the signature covers the full URL");
  auto params = webhook::parse_form(r.body, "body");
  std::sort(params.begin(), params.end());
  std::string tail;
  for (const auto& [k, v] : params) {
    tail += k;
    tail += v;
  }
  const std::string given(trim(*sig));
  bool ok = false;
  for (const auto& url : twilio_urls(r.url))
    for (const auto& key : o.secrets) ok |= same(to_base64(hmac(EVP_sha1(), key, url + tail)), given);
  if (!ok)
    throw_invalid("signature",
                  "X-Twilio-Signature does not match the URL and parameters (wrong auth token, another URL, or a "
                  "changed body)");
  // Status callbacks carry the time they were sent, covered by the signature.
  if (const std::string* stamp = webhook::param(params, "Timestamp")) {
    if (const auto at = webhook::parse_rfc2822(*stamp)) check_fresh(*at, now, o, "Timestamp");
  }
}

}  // namespace

void verify_webhook(const WebhookRequest& request, const WebhookOptions& options, Timestamp now) {
  const std::string& p = request.provider;
  if (p != "retell" && p != "vapi" && p != "twilio")
    throw_invalid("provider", fmt::format("\"{}\" is not a webhook provider (retell, vapi, twilio)", p.substr(0, 32)));
  bool any = false;
  for (const auto& s : options.secrets) any |= !s.empty();
  if (!any)
    throw_invalid("secret", fmt::format("no webhook secret configured for {}: set the voice provider's "
                                        "webhook_secret_env{} in the configuration, or pass one",
                                        p, p == "vapi" ? "" : " or api_key_env"));
  WebhookOptions o = options;
  std::erase_if(o.secrets, [](const std::string& s) { return s.empty(); });
  if (p == "retell") verify_retell(request, o, now);
  else if (p == "vapi") verify_vapi(request, o, now);
  else verify_twilio(request, o, now);
}

void sign_webhook(WebhookRequest& request, std::string_view secret, Timestamp at) {
  const std::string& p = request.provider;
  if (p == "retell") {
    const std::string stamp = std::to_string(at.time_since_epoch().count());
    request.headers["x-retell-signature"] = "v=" + stamp + ",d=" + to_hex(hmac(EVP_sha256(), secret, request.body + stamp));
  } else if (p == "vapi") {
    request.headers["x-vapi-secret"] = std::string(secret);
  } else if (p == "twilio") {
    auto params = webhook::parse_form(request.body, "body");
    std::sort(params.begin(), params.end());
    std::string data = request.url;
    for (const auto& [k, v] : params) data += k + v;
    request.headers["X-Twilio-Signature"] = to_base64(hmac(EVP_sha1(), secret, data));
  } else {
    throw_invalid("provider", fmt::format("\"{}\" is not a webhook provider (retell, vapi, twilio)", p.substr(0, 32)));
  }
}

std::vector<std::string> webhook_secrets(const Config& config, std::string_view provider) {
  std::vector<std::string> out;
  auto add = [&](const std::string& s) {
    if (!s.empty() && std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  };
  for (const auto& [name, p] : config.voice_providers) {
    if (p.kind != provider) continue;
    add(p.webhook_secret);
    if (provider == "retell" || provider == "twilio") add(p.api_key);
  }
  return out;
}

}  // namespace gymdash
