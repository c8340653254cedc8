//===- Sqlite.h - Prepared statements and opening, for search/ -*- C++ -*-===//
//
// Private to search/: the few SQLite helpers the run store (Store.cpp) and
// the level-results cache (LevelCache.cpp) share. Errors are exceptions
// carrying SQLite's message, so a caller says where and adds what it knows.
//
//===----------------------------------------------------------------------===//
#ifndef NOS_SEARCH_SQLITE_H
#define NOS_SEARCH_SQLITE_H

#include <sqlite3.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace nos::search::sqlite {

/// A prepared statement that finalizes itself.
class Statement {
public:
  Statement(sqlite3 *db, const std::string &sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK)
      throw std::runtime_error(sqlite3_errmsg(db));
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement &bind(int i, const std::string &text) {
    sqlite3_bind_text(stmt_, i, text.data(), int(text.size()),
                      SQLITE_TRANSIENT);
    return *this;
  }
  Statement &blob(int i, const std::string &bytes) {
    sqlite3_bind_blob(stmt_, i, bytes.data(), int(bytes.size()),
                      SQLITE_TRANSIENT);
    return *this;
  }
  Statement &bind(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  Statement &bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  /// True while there is a row; throws on error.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW)
      return true;
    if (rc == SQLITE_DONE)
      return false;
    throw std::runtime_error(sqlite3_errmsg(db_));
  }
  std::string text(int col) const {
    const unsigned char *t = sqlite3_column_text(stmt_, col);
    return t ? reinterpret_cast<const char *>(t) : "";
  }
  std::string bytes(int col) const {
    const void *b = sqlite3_column_blob(stmt_, col);
    return b ? std::string(static_cast<const char *>(b),
                           size_t(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  bool isNull(int col) const {
    return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
  }
  int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }

private:
  sqlite3 *db_;
  sqlite3_stmt *stmt_ = nullptr;
};

inline void exec(sqlite3 *db, const char *sql) {
  char *message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string why = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    throw std::runtime_error(why);
  }
}

/// Opens `path` with `flags`, waiting up to 10 s for another process's
/// lock; throws std::runtime_error naming the path.
inline sqlite3 *openDatabase(const std::string &path, int flags) {
  sqlite3 *db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw std::runtime_error(path + ": " + why);
  }
  sqlite3_busy_timeout(db, 10000);
  return db;
}

} // namespace nos::search::sqlite

#endif // NOS_SEARCH_SQLITE_H
