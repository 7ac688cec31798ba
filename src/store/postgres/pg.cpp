// The libpq layer of the PostgreSQL backend (pg.hpp).
//
// Errors: a statement the server refuses is a pg::SqlError (SQLSTATE and
// text) for the repositories to explain or the store to turn into
// StorageError. Whatever means "the server is not there" — a connection
// that cannot be made, one that broke, a server shutting down or not yet
// accepting connections, too many clients — is an UnavailableError at once:
// retrying later may succeed. Refused credentials and an unknown database or
// role are a StorageError naming the cause: retrying does not help.

#include "store/postgres/pg.hpp"

#include <fmt/format.h>
#include <poll.h>

#include <charconv>
#include <cstring>
#include <cstdlib>
#include <gymdash/error.hpp>

namespace gymdash::pg {
namespace {

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// libpq's text, trimmed of its trailing newline and of the "FATAL:  " prefix a
// server adds to the reason it refuses a connection.
std::string tidy(const char* raw) {
  std::string text = raw ? raw : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (std::size_t at; (at = text.find("FATAL:  ")) != std::string::npos;) text.erase(at, 8);
  for (std::size_t at; (at = text.find('\n')) != std::string::npos;) text[at] = ' ';
  return text;
}

// SQLSTATE classes that mean the server went away or is not serving now.
bool unavailable_state(std::string_view state) {
  return state.starts_with("08") ||  // connection exception
         state == "57P01" ||         // admin_shutdown
         state == "57P02" ||         // crash_shutdown
         state == "57P03" ||         // cannot_connect_now (starting up, recovery)
         state == "53300";           // too_many_connections
}

}  // namespace

std::string redact_uri(std::string_view uri) {
  std::string out(uri);
  // postgresql://user:secret@host → postgresql://user:***@host
  if (auto scheme = out.find("://"); scheme != std::string::npos) {
    const auto start = scheme + 3;
    const auto at = out.find('@', start);
    const auto slash = out.find('/', start);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      const auto colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // …?password=secret&… → …?password=***&…
  for (std::size_t from = 0;;) {
    auto p = out.find("password=", from);
    if (p == std::string::npos) break;
    const auto value = p + 9;
    auto end = out.find_first_of("& ", value);
    if (end == std::string::npos) end = out.size();
    out.replace(value, end - value, "***");
    from = value + 3;
  }
  return out;
}

namespace {

constexpr std::string_view kEscaped = "\x1bgymdash-hex:";

// Whether PostgreSQL takes `text` into a UTF-8 text column as it is: valid
// UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF), no NUL.
bool storable(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    // Eight ASCII bytes, none of them NUL, at a time.
    while (end - p >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      constexpr std::uint64_t kLow = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
      if (((w | ((w - kLow) & ~w)) & kHigh) != 0) break;  // a byte ≥ 0x80, or a zero byte
      p += 8;
    }
    if (p == end) break;
    const unsigned char c = *p;
    if (c == 0) return false;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n = 0;
    std::uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    p += n + 1;
  }
  return true;
}

}  // namespace

std::string store_text(std::string_view text) {
  if (storable(text) && !text.starts_with(kEscaped)) return std::string(text);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(kEscaped);
  out.reserve(kEscaped.size() + 2 * text.size());
  for (unsigned char c : text) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string load_text(std::string_view stored) {
  if (!stored.starts_with(kEscaped)) return std::string(stored);
  auto digit = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out;
  const auto hex = stored.substr(kEscaped.size());
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>((digit(hex[i]) << 4) | digit(hex[i + 1])));
  return out;
}

std::string describe_uri(const std::string& uri) {
  PQconninfoOption* options = PQconninfoParse(uri.c_str(), nullptr);
  if (!options) return redact_uri(uri);
  std::string host, port, dbname, user;
  for (auto* o = options; o->keyword; ++o) {
    if (!o->val) continue;
    const std::string_view keyword = o->keyword;
    if (keyword == "host" || (keyword == "hostaddr" && host.empty())) host = o->val;
    if (keyword == "port") port = o->val;
    if (keyword == "dbname") dbname = o->val;
    if (keyword == "user") user = o->val;
  }
  PQconninfoFree(options);
  std::string out = host.empty() ? "(default host)" : host;
  if (!port.empty()) out += ":" + port;
  out += "/" + (dbname.empty() ? std::string("(default database)") : dbname);
  if (!user.empty()) out += " (user " + user + ")";
  return out;
}

Params& Params::real(double v) {
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);  // shortest text that reads back exactly
  return raw(std::string(buffer, static_cast<std::size_t>(end - buffer)));
}

Params& Params::text_array(std::span<const std::string> values) {
  std::string literal = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) literal.push_back(',');
    literal.push_back('"');
    for (char c : store_text(values[i])) {
      if (c == '"' || c == '\\') literal.push_back('\\');
      literal.push_back(c);
    }
    literal.push_back('"');
  }
  literal.push_back('}');
  return raw(std::move(literal));
}

Params& Params::array(std::span<const std::optional<std::string>> values, bool as_text) {
  std::string literal = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) literal.push_back(',');
    if (!values[i]) {
      literal += "NULL";
      continue;
    }
    literal.push_back('"');
    for (char c : as_text ? store_text(*values[i]) : *values[i]) {
      if (c == '"' || c == '\\') literal.push_back('\\');
      literal.push_back(c);
    }
    literal.push_back('"');
  }
  literal.push_back('}');
  return raw(std::move(literal));
}

Params& Params::integer_array(std::span<const std::int64_t> values) {
  std::string literal = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) literal.push_back(',');
    literal += std::to_string(values[i]);
  }
  literal.push_back('}');
  return raw(std::move(literal));
}

std::vector<const char*> Params::pointers() const {
  std::vector<const char*> out(values_.size());
  for (std::size_t i = 0; i < values_.size(); ++i) out[i] = nulls_[i] ? nullptr : values_[i].c_str();
  return out;
}

std::int64_t Result::integer(int row, int col) const {
  const char* text = PQgetvalue(r_.get(), row, col);
  const auto length = static_cast<std::size_t>(PQgetlength(r_.get(), row, col));
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text, text + length, value);
  if (ec != std::errc() || end != text + length)
    throw StorageError(fmt::format("postgres: column {}: \"{}\" is not an integer", PQfname(r_.get(), col),
                                   std::string_view(text, length)));
  return value;
}

double Result::real(int row, int col) const {
  const char* text = PQgetvalue(r_.get(), row, col);
  const auto length = static_cast<std::size_t>(PQgetlength(r_.get(), row, col));
  double value = 0;
  auto [end, ec] = std::from_chars(text, text + length, value);
  if (ec != std::errc() || end != text + length)
    throw StorageError(fmt::format("postgres: column {}: \"{}\" is not a number", PQfname(r_.get(), col),
                                   std::string_view(text, length)));
  return value;
}

std::int64_t Result::affected() const {
  const char* text = PQcmdTuples(r_.get());
  if (!text || !*text) return 0;
  return std::strtoll(text, nullptr, 10);
}

Connection::Connection(const std::string& uri, const std::string& schema) : where_(describe_uri(uri)) {
  {
    char* error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(uri.c_str(), &error);
    if (!parsed) {
      std::string reason = tidy(error ? error : "out of memory");
      if (error) PQfreemem(error);
      // libpq quotes the URI back: with its password masked here too.
      const std::string masked = redact_uri(uri);
      if (masked != uri)
        for (std::size_t at = 0; (at = reason.find(uri, at)) != std::string::npos; at += masked.size())
          reason.replace(at, uri.size(), masked);
      throw InvalidArgumentError(
          fmt::format("uri: \"{}\" is not a valid PostgreSQL URI: {}", redact_uri(uri), reason), "uri");
    }
    PQconninfoFree(parsed);
  }
  // Defaults first: what the URI says overrides them.
  const char* keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"10", "gymdash", uri.c_str(), nullptr};
  conn_.reset(PQconnectdbParams(keywords, values, 1));
  if (!conn_) throw UnavailableError(fmt::format("postgres {}: cannot connect: out of memory", where_), "uri");
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    const std::string reason = tidy(PQerrorMessage(conn_.get()));
    // libpq gives no SQLSTATE for a refused connection: the cause is read
    // from the server's text (its FATAL message), which is in English unless
    // the server's lc_messages says otherwise; anything not recognised is
    // treated as "cannot reach the server".
    if (contains(reason, "password authentication failed") || contains(reason, "authentication failed") ||
        contains(reason, "no password supplied") || contains(reason, "no pg_hba.conf entry"))
      throw StorageError(fmt::format("postgres {}: the server refused the credentials: {}", where_, reason), "uri");
    if (contains(reason, "database \"") && contains(reason, "does not exist"))
      throw StorageError(fmt::format("postgres {}: unknown database: {}", where_, reason), "uri");
    if (contains(reason, "role \"") && contains(reason, "does not exist"))
      throw StorageError(fmt::format("postgres {}: unknown user: {}", where_, reason), "uri");
    throw UnavailableError(fmt::format("postgres {}: cannot connect to the server: {}", where_, reason), "uri");
  }
  // Notices (such as "schema exists, skipping") are not errors; libpq would print them on stderr.
  PQsetNoticeProcessor(conn_.get(), [](void*, const char*) {}, nullptr);
  // Integers and text only cross the wire: no server setting changes how they read.
  script("SET client_encoding = 'UTF8'; SET standard_conforming_strings = on; SET TIME ZONE 'UTC'");
  if (!schema.empty()) {
    Params p;
    p.raw(quote_identifier(schema));
    exec("SELECT set_config('search_path', $1, false)", p);
  }
}

Result Connection::check(PGresult* raw, std::string_view sql) {
  Result result(raw);
  const auto status = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_COPY_IN) return result;
  const char* state_raw = raw ? PQresultErrorField(raw, PG_DIAG_SQLSTATE) : nullptr;
  const std::string state = state_raw ? state_raw : "";
  const std::string message = tidy(raw ? PQresultErrorMessage(raw) : PQerrorMessage(conn_.get()));
  if (!ok() || unavailable_state(state))
    throw UnavailableError(fmt::format("postgres {}: connection lost: {}", where_, message));
  (void)sql;
  throw SqlError(state, message);
}

Result Connection::prepared(std::string_view sql, const Params& params) {
  auto it = prepared_.find(std::string(sql));
  if (it == prepared_.end()) {
    std::string name = "gymdash_" + std::to_string(prepared_.size() + 1);
    check(PQprepare(conn_.get(), name.c_str(), std::string(sql).c_str(), 0, nullptr), sql);
    it = prepared_.emplace(std::string(sql), std::move(name)).first;
  }
  const auto values = params.pointers();
  return check(PQexecPrepared(conn_.get(), it->second.c_str(), params.size(), values.data(), nullptr, nullptr, 0),
               sql);
}

Result Connection::exec(std::string_view sql, const Params& params) {
  const auto values = params.pointers();
  return check(PQexecParams(conn_.get(), std::string(sql).c_str(), params.size(), nullptr, values.data(), nullptr,
                            nullptr, 0),
               sql);
}

void Connection::script(std::string_view sql) { check(PQexec(conn_.get(), std::string(sql).c_str()), sql); }

bool Connection::alive() noexcept {
  if (PQstatus(conn_.get()) != CONNECTION_OK || PQtransactionStatus(conn_.get()) != PQTRANS_IDLE) return false;
  // An idle connection is sent nothing (gymdash does not LISTEN): anything
  // to read is the server's farewell (a shutdown, an ended backend) or the
  // end of the stream.
  pollfd p{};
  p.fd = PQsocket(conn_.get());
  p.events = POLLIN;
  return p.fd >= 0 && ::poll(&p, 1, 0) == 0;
}

bool Connection::try_script(std::string_view sql) noexcept {
  PGresult* r = PQexec(conn_.get(), std::string(sql).c_str());
  const bool done = r && PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  return done;
}

std::int64_t Connection::copy_in(std::string_view copy_sql, std::string_view data) {
  bool sent = false;
  return copy_in(copy_sql, [&](CopyRows&) {
    if (!sent && !data.empty() && PQputCopyData(conn_.get(), data.data(), static_cast<int>(data.size())) != 1)
      throw_copy_lost();
    sent = true;
    return false;
  });
}

void Connection::throw_copy_lost() const {
  throw UnavailableError(
      fmt::format("postgres {}: connection lost during COPY: {}", where_, tidy(PQerrorMessage(conn_.get()))));
}

std::int64_t Connection::copy_in(std::string_view copy_sql, const std::function<bool(CopyRows&)>& fill) {
  check(PQexec(conn_.get(), std::string(copy_sql).c_str()), copy_sql);
  CopyRows rows;
  bool more = true;
  while (more) {
    rows.clear();
    try {
      more = fill(rows);
    } catch (...) {
      // Ends the COPY as failed (the server undoes it) and reads its answer,
      // so that the connection is usable again.
      if (PQputCopyEnd(conn_.get(), "gymdash: the rows could not be made") == 1)
        while (PGresult* r = PQgetResult(conn_.get())) PQclear(r);
      throw;
    }
    const auto data = rows.data();
    if (!data.empty() && PQputCopyData(conn_.get(), data.data(), static_cast<int>(data.size())) != 1)
      throw_copy_lost();
  }
  if (PQputCopyEnd(conn_.get(), nullptr) != 1) throw_copy_lost();
  Result last;
  while (PGresult* r = PQgetResult(conn_.get())) last = check(r, copy_sql);
  return last.affected();
}

namespace {

// Appends `s` in COPY's text format: a backslash, tab, newline or carriage
// return escaped, every other byte as it is (runs between them appended whole).
void append_copy_text(std::string& out, std::string_view s) {
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c != '\\' && c != '\t' && c != '\n' && c != '\r') continue;
    out.append(s.data() + run, i - run);
    out.push_back('\\');
    out.push_back(c == '\\' ? '\\' : c == '\t' ? 't' : c == '\n' ? 'n' : 'r');
    run = i + 1;
  }
  out.append(s.data() + run, s.size() - run);
}

}  // namespace

CopyRows& CopyRows::text(std::string_view v) {
  separate();
  // The common case, text PostgreSQL takes as it is, without a copy.
  if (storable(v) && !v.starts_with(kEscaped))
    append_copy_text(data_, v);
  else
    append_copy_text(data_, store_text(v));
  return *this;
}

CopyRows& CopyRows::integer(std::int64_t v) {
  separate();
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  data_.append(buf, end);
  return *this;
}

CopyRows& CopyRows::real(double v) {
  separate();
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  data_.append(buf, end);
  return *this;
}

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// ---- pool ----------------------------------------------------------------------

Pool::Pool(std::string uri, std::string schema, int max_size, std::chrono::milliseconds wait)
    : uri_(std::move(uri)),
      schema_(std::move(schema)),
      where_(describe_uri(uri_)),
      max_size_(std::max(max_size, 1)),
      wait_(wait) {}

Pool::Lease& Pool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    give_back();
    pool_ = other.pool_;
    c_ = std::move(other.c_);
  }
  return *this;
}

void Pool::Lease::give_back() noexcept {
  if (!pool_) return;
  pool_->put_back(std::move(c_));
  pool_ = nullptr;
}

void Pool::put_back(std::unique_ptr<Connection> c) noexcept {
  {
    std::lock_guard lock(mutex_);
    if (c && c->ok())
      idle_.push_back(std::move(c));
    else
      --open_;  // broken or discarded: the next acquire connects again
  }
  freed_.notify_one();
}

Pool::Lease Pool::acquire() {
  std::unique_lock lock(mutex_);
  const bool ready = freed_.wait_for(lock, wait_, [&] { return !idle_.empty() || open_ < max_size_; });
  if (!ready)
    throw UnavailableError(fmt::format("postgres {}: all {} connections stayed busy for {} ms", where_, max_size_,
                                       wait_.count()));
  while (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    if (c->alive()) return Lease(this, std::move(c));
    --open_;  // closed by the server while idle: a new one is made below
  }
  ++open_;
  lock.unlock();
  try {
    return Lease(this, std::make_unique<Connection>(uri_, schema_));
  } catch (...) {
    lock.lock();
    --open_;
    lock.unlock();
    freed_.notify_one();
    throw;
  }
}

}  // namespace gymdash::pg
