// A small RAII layer over libpq for the PostgreSQL backend: a connection with
// its prepared statements, a result, text parameters ($1, $2 …), the mapping
// of libpq's failures to gymdash errors, and a pool of connections.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <gymdash/model.hpp>

namespace gymdash::pg {

/**
 * A statement the server refused (a constraint, a syntax error, a
 * serialization failure): the SQLSTATE with the server's message. Repositories
 * catch the ones they can explain; the store turns the rest into
 * StorageError at its boundary. Connection failures are never a SqlError:
 * they are thrown as UnavailableError right away.
 */
class SqlError : public std::runtime_error {
 public:
  SqlError(std::string sqlstate, const std::string& message)
      : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
  const std::string& sqlstate() const noexcept { return sqlstate_; }

 private:
  std::string sqlstate_;
};

/**
 * What messages call the database: "host:port/database (user name)", from
 * the URI's parts; never the password.
 */
std::string describe_uri(const std::string& uri);

/** The URI with its password (in the user-info part or a `password=` parameter) masked, for messages. */
std::string redact_uri(std::string_view uri);

/**
 * Text as stored: unchanged when it is valid UTF-8 without NUL bytes (what a
 * PostgreSQL text column accepts), else — and when it starts with the escape
 * marker itself — the marker ("\x1b" "gymdash-hex:") followed by its bytes in
 * hex. So every string a caller stores comes back byte for byte, as on
 * SQLite; an escaped one is only found by equality, not by a search.
 */
std::string store_text(std::string_view text);
/** The inverse of store_text. */
std::string load_text(std::string_view stored);

/** Positional text parameters of one statement ($1 is the first pushed). */
class Params {
 public:
  /** A text value, through store_text. */
  Params& text(std::string_view v) {
    values_.push_back(store_text(v));
    nulls_.push_back(false);
    return *this;
  }
  Params& integer(std::int64_t v) { return raw(std::to_string(v)); }
  Params& real(double v);
  /**
   * A `text[]` value (`$n::text[]`, e.g. `= ANY($n::text[])`): each element
   * through store_text, written as an array literal.
   */
  Params& text_array(std::span<const std::string> values);
  /** A `bigint[]` value. */
  Params& integer_array(std::span<const std::int64_t> values);
  /**
   * An array value of any element type (`$n::T[]`): elements already in
   * their text form (numbers) or, with `as_text`, text through store_text;
   * nullopt is NULL.
   */
  Params& array(std::span<const std::optional<std::string>> values, bool as_text);
  Params& time(Timestamp t) { return integer(t.time_since_epoch().count()); }
  Params& time(const std::optional<Timestamp>& t) { return t ? time(*t) : null(); }
  Params& null() {
    values_.emplace_back();
    nulls_.push_back(true);
    return *this;
  }
  int size() const noexcept { return static_cast<int>(values_.size()); }
  /** A value passed as is (numbers). */
  Params& raw(std::string v) {
    values_.push_back(std::move(v));
    nulls_.push_back(false);
    return *this;
  }
  /** The C array libpq takes; valid until the next push. */
  std::vector<const char*> pointers() const;

 private:
  std::vector<std::string> values_;
  std::vector<bool> nulls_;
};

/** About how much a piece of a streamed COPY holds (Connection::copy_in with a fill function). */
inline constexpr std::size_t kCopyPieceBytes = 64 * 1024;

/**
 * Rows for COPY … FROM STDIN in PostgreSQL's text format, built in memory:
 * fields are pushed in the table's column order (text through store_text,
 * then escaped for COPY), end_row() closes each row.
 * Ownership: owns its buffer. Thread safety: one thread at a time.
 */
class CopyRows {
 public:
  CopyRows& text(std::string_view v);
  CopyRows& integer(std::int64_t v);
  /** A float8, in the shortest text that reads back exactly. */
  CopyRows& real(double v);
  CopyRows& time(Timestamp t) { return integer(t.time_since_epoch().count()); }
  CopyRows& time(const std::optional<Timestamp>& t) { return t ? time(*t) : null(); }
  CopyRows& null() {
    separate();
    data_ += "\\N";
    return *this;
  }
  void end_row() {
    data_.push_back('\n');
    fresh_row_ = true;
    ++rows_;
  }
  std::size_t rows() const noexcept { return rows_; }
  std::string_view data() const noexcept { return data_; }
  void clear() noexcept {
    data_.clear();
    rows_ = 0;
    fresh_row_ = true;
  }

 private:
  void separate() {
    if (!fresh_row_) data_.push_back('\t');
    fresh_row_ = false;
  }
  std::string data_;
  std::size_t rows_ = 0;
  bool fresh_row_ = true;
};

/** A statement's result (rows of text). Ownership: owns its PGresult. Not thread-safe. */
class Result {
 public:
  Result() = default;
  explicit Result(PGresult* r) : r_(r, &PQclear) {}
  int rows() const noexcept { return r_ ? PQntuples(r_.get()) : 0; }
  bool null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  /** A text column, through load_text. */
  std::string text(int row, int col) const {
    return load_text(std::string_view(PQgetvalue(r_.get(), row, col),
                                      static_cast<std::size_t>(PQgetlength(r_.get(), row, col))));
  }
  std::int64_t integer(int row, int col) const;
  double real(int row, int col) const;
  Timestamp time(int row, int col) const { return Timestamp{std::chrono::milliseconds{integer(row, col)}}; }
  std::optional<Timestamp> optional_time(int row, int col) const {
    if (null(row, col)) return std::nullopt;
    return time(row, col);
  }
  /** Rows an INSERT, UPDATE or DELETE touched. */
  std::int64_t affected() const;

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> r_{nullptr, &PQclear};
};

/**
 * One server connection and the statements prepared on it.
 * Ownership: owns its PGconn. Thread safety: one thread at a time (the pool
 * lends it to one).
 */
class Connection {
 public:
  /**
   * Connects. Throws InvalidArgumentError for a malformed URI,
   * StorageError for refused credentials or an unknown database (retrying
   * does not help), UnavailableError when the server cannot be reached.
   */
  Connection(const std::string& uri, const std::string& schema);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /** Runs a statement with parameters, prepared once on this connection under a name of its own. */
  Result prepared(std::string_view sql, const Params& params = {});
  /** Runs a statement with parameters, planned each time (dynamic SQL). */
  Result exec(std::string_view sql, const Params& params = {});
  /** Runs one or more statements without parameters (DDL, transaction control). */
  void script(std::string_view sql);
  /** exec() that never throws (ROLLBACK after a failure); false if it failed. */
  bool try_script(std::string_view sql) noexcept;
  /** Whether the connection is still usable (the server has not gone away). */
  bool ok() const noexcept { return PQstatus(conn_.get()) == CONNECTION_OK; }
  /**
   * Whether an idle connection may be lent: open, no transaction left on it,
   * and nothing sent by the server meanwhile (without waiting: a server that
   * restarted or ended the backend has written its farewell and closed the
   * socket).
   */
  bool alive() noexcept;
  PGconn* native() noexcept { return conn_.get(); }

  /** COPY … FROM STDIN: starts, sends `data` (COPY text format), ends. Returns the rows copied. */
  std::int64_t copy_in(std::string_view copy_sql, std::string_view data);
  /**
   * COPY … FROM STDIN fed in pieces: `fill` puts the next rows (about
   * kCopyPieceBytes) into the (emptied) CopyRows it is given and says
   * whether more follow; each piece is sent before the next is made, so the
   * server stores one while the client writes the next. Returns the rows
   * copied. An exception from `fill` ends the COPY as failed (nothing of it
   * stays) and is rethrown.
   */
  std::int64_t copy_in(std::string_view copy_sql, const std::function<bool(CopyRows&)>& fill);

 private:
  Result check(PGresult* r, std::string_view sql);
  [[noreturn]] void throw_copy_lost() const;

  std::unique_ptr<PGconn, decltype(&PQfinish)> conn_{nullptr, &PQfinish};
  std::string where_;  // describe_uri(), for messages
  std::unordered_map<std::string, std::string> prepared_;  // SQL → statement name
};

/**
 * Connections to one database, made on demand up to `max_size`, reused, and
 * dropped when broken (the next lease connects again).
 * Ownership: owned by its store. Thread safety: safe concurrently.
 */
class Pool {
 public:
  Pool(std::string uri, std::string schema, int max_size, std::chrono::milliseconds wait);
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  /** A connection lent to one thread; given back (or dropped if broken) when the lease ends. */
  class Lease {
   public:
    Lease() = default;
    Lease(Pool* pool, std::unique_ptr<Connection> c) : pool_(pool), c_(std::move(c)) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&& other) noexcept;
    ~Lease() { give_back(); }
    Connection& operator*() const { return *c_; }
    Connection* operator->() const { return c_.get(); }
    explicit operator bool() const noexcept { return c_ != nullptr; }
    /** Drops the connection instead of giving it back (its state is unknown). */
    void discard() noexcept { c_.reset(); }

   private:
    void give_back() noexcept;
    Pool* pool_ = nullptr;
    std::unique_ptr<Connection> c_;
  };

  /**
   * A connection: an idle one still alive, a new one, or the next one given
   * back (UnavailableError after `wait`). Idle connections the server closed
   * (a restart) are dropped here, so the first call after a restart connects
   * anew instead of failing on a dead socket.
   */
  Lease acquire();
  /**
   * A connection of its own to the same database and schema, outside the
   * pool (not counted, never lent): for a session that must outlive the
   * calls that borrow connections (a bulk load's lock).
   */
  std::unique_ptr<Connection> connect_unpooled() const { return std::make_unique<Connection>(uri_, schema_); }
  /** describe_uri() of its URI (for messages). */
  const std::string& where() const noexcept { return where_; }

 private:
  void put_back(std::unique_ptr<Connection> c) noexcept;

  std::string uri_;
  std::string schema_;
  std::string where_;
  int max_size_;
  std::chrono::milliseconds wait_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;  // connections that exist (idle or lent); guarded by mutex_
};

/** `name` quoted as an SQL identifier ("a""b"). */
std::string quote_identifier(std::string_view name);

}  // namespace gymdash::pg
