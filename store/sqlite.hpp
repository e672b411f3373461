#pragma once
// A thin RAII layer over the SQLite C API for store/ (no ORM): a connection, prepared statements
// with positional binding, and a transaction guard. Errors are thrown as SqliteError and caught
// at the store's interface boundary, where they become values.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace tandem::store {

class SqliteError : public std::runtime_error {
 public:
  SqliteError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  [[nodiscard]] int code() const { return code_; }

 private:
  int code_;
};

class Statement;

// One connection. Not for two threads at once: it is opened with SQLITE_OPEN_NOMUTEX, since every
// user already serialises its calls (store::Database holds a mutex per connection), and SQLite's own
// per-call mutex cost a few percent of a group commit.
class Connection {
 public:
  // Opens (creating if needed) the file; ":memory:" for tests that need no durability.
  explicit Connection(const std::string& path);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void exec(std::string_view sql);
  [[nodiscard]] std::int64_t changes() const;
  [[nodiscard]] std::int64_t last_insert_rowid() const;
  [[nodiscard]] sqlite3* handle() const { return db_; }
  [[nodiscard]] std::string error_message() const;

 private:
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  Statement(Connection& db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // 1-based, as in SQLite.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const std::optional<std::string>& value);
  Statement& bind_null(int index);
  // Binds without copying: `value` must stay alive and unchanged until the next reset().
  Statement& bind_static(int index, std::string_view value);
  Statement& bind_static(int index, const std::optional<std::string>& value);
  Statement& bind_static(int index, const std::string& value) { return bind_static(index, std::string_view(value)); }
  // A BLOB, bound without copying like bind_static.
  Statement& bind_blob_static(int index, std::string_view bytes);
  // True while a row is available.
  bool step();
  void reset();  // also clears bindings
  // Ready to step again with the same bindings; for a caller that rebinds every parameter (a
  // 600-parameter insert spends measurable time clearing them).
  void rewind();

  [[nodiscard]] std::int64_t column_int(int index) const;
  [[nodiscard]] std::string column_text(int index) const;
  [[nodiscard]] bool column_is_null(int index) const;
  [[nodiscard]] bool column_is_blob(int index) const;
  // A BLOB column's bytes, valid until the next step() or reset().
  [[nodiscard]] std::string_view column_blob(int index) const;

 private:
  Connection& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit() ran.
class Transaction {
 public:
  explicit Transaction(Connection& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Connection& db_;
  bool done_ = false;
};

}  // namespace tandem::store
