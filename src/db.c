/* db.c: core.db, SQLite connections for Lua: prepared, cached statements and rows as tables. */
#include "db.h"

#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <lauxlib.h>
#include <uv.h>

#include "host.h"

#define DB_MT "candor.db"
#define DB_STMT_MT "candor.db.stmt"
#define DB_CACHE_MAX 256   /* cached statements per connection; the cache is flushed past this */

/* Checkpoints on a worker thread. In WAL mode, the commit that finds the log
 * past its auto-checkpoint size copies the log into the database itself:
 * milliseconds of writes and an fsync inside whatever task committed, with the
 * loop stopped. Instead the commit only looks at the log's size, and past the
 * threshold a checkpoint runs on libuv's pool with its own connection. A
 * PASSIVE checkpoint waits for no reader or writer, so commits go on meanwhile. */
typedef struct Checkpointer {
    uv_work_t work;
    uv_loop_t *loop;
    char *path;            /* the database file; owned */
    int pages;             /* start one once this many frames are not yet copied */
    int floor;             /* frames the last one copied (0 once the log restarts) */
    int running;           /* queued or running on the pool */
    int orphaned;          /* the connection closed meanwhile: the end frees this */
    int rc, log, done;     /* the last one's result, set on the worker */
    lua_Integer count;     /* checkpoints finished */
    lua_Integer inline_count; /* run by the commit because the pool refused the work */
} Checkpointer;

typedef struct Db {
    sqlite3 *db;
    int cached;            /* statements in the cache */
    Checkpointer *ck;      /* background checkpoints, when turned on */
} Db;

typedef struct DbStmt {
    sqlite3_stmt *st;
} DbStmt;

/* ---- handles ---- */

static Db *db_check(lua_State *L, int idx) {
    Db *d = luaL_checkudata(L, idx, DB_MT);
    if (!d->db) luaL_error(L, "database is closed");
    return d;
}

static int stmt_gc(lua_State *L) {
    DbStmt *s = luaL_checkudata(L, 1, DB_STMT_MT);
    if (s->st) { sqlite3_finalize(s->st); s->st = NULL; }
    return 0;
}

/* Finalizes every cached statement; the connection's uservalue 1 is the cache
 * {sql = stmt}, uservalue 2 maps each stmt to its column names. */
static void db_flush_cache(lua_State *L, int idx, Db *d) {
    idx = lua_absindex(L, idx);
    if (lua_getiuservalue(L, idx, 1) == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            DbStmt *s = lua_touserdata(L, -1);
            if (s && s->st) { sqlite3_finalize(s->st); s->st = NULL; }
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    lua_newtable(L);
    lua_setiuservalue(L, idx, 1);
    lua_newtable(L);
    lua_setiuservalue(L, idx, 2);
    d->cached = 0;
}

static void ck_free(Checkpointer *ck) {
    free(ck->path);
    free(ck);
}

/* Same function for __gc, __close and close(): closing twice is harmless. */
static int db_close(lua_State *L) {
    Db *d = luaL_checkudata(L, 1, DB_MT);
    if (d->ck) {
        if (d->db) sqlite3_wal_hook(d->db, NULL, NULL);
        if (d->ck->running) d->ck->orphaned = 1;   /* its end frees it */
        else ck_free(d->ck);
        d->ck = NULL;
    }
    if (d->db) {
        db_flush_cache(L, 1, d);
        sqlite3_close_v2(d->db);
        d->db = NULL;
    }
    return 0;
}

/* open(path [, {readonly = bool, busy_timeout = ms}]) -> db | nil, message, code */
static int db_open(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    int readonly = 0, timeout = 5000;
    if (lua_istable(L, 2)) {
        lua_getfield(L, 2, "readonly");
        readonly = lua_toboolean(L, -1);
        lua_getfield(L, 2, "busy_timeout");
        timeout = (int)luaL_optnumber(L, -1, 5000);
        lua_pop(L, 2);
    }
    Db *d = lua_newuserdatauv(L, sizeof *d, 2);   /* owner first, then the resource */
    d->db = NULL;
    d->cached = 0;
    d->ck = NULL;
    luaL_setmetatable(L, DB_MT);
    lua_newtable(L);
    lua_setiuservalue(L, -2, 1);
    lua_newtable(L);
    lua_setiuservalue(L, -2, 2);
    int flags = readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    int rc = sqlite3_open_v2(path, &d->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(d->db, 1);
        sqlite3_busy_timeout(d->db, timeout);
        /* Touch the file now so a directory, a non-database or a corrupt header fails here. */
        rc = sqlite3_exec(d->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        lua_pushnil(L);
        lua_pushfstring(L, "cannot open database %s: %s", path,
                        d->db ? sqlite3_errmsg(d->db) : sqlite3_errstr(rc));
        lua_pushinteger(L, rc);
        if (d->db) { sqlite3_close_v2(d->db); d->db = NULL; }
        return 3;
    }
    return 1;
}

static int db_error(lua_State *L, Db *d, const char *sql) {
    return luaL_error(L, "%s\n  in: %s", sqlite3_errmsg(d->db), sql);
}

/* exec(sql): runs a script of any number of statements, no results */
static int db_exec(lua_State *L) {
    Db *d = db_check(L, 1);
    const char *sql = luaL_checkstring(L, 2);
    char *msg = NULL;
    if (sqlite3_exec(d->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        lua_pushfstring(L, "%s\n  in: %s", msg ? msg : sqlite3_errmsg(d->db), sql);
        sqlite3_free(msg);
        return lua_error(L);
    }
    return 0;
}

/* Prepared statement for sql at index 2, from the cache or new. Pushes nothing. */
static sqlite3_stmt *db_prepare(lua_State *L, Db *d) {
    size_t len;
    const char *sql = luaL_checklstring(L, 2, &len);
    lua_getiuservalue(L, 1, 1);
    lua_pushvalue(L, 2);
    if (lua_rawget(L, -2) == LUA_TUSERDATA) {
        DbStmt *s = lua_touserdata(L, -1);
        lua_pop(L, 2);
        return s->st;
    }
    lua_pop(L, 1);
    if (d->cached >= DB_CACHE_MAX) {
        lua_pop(L, 1);
        db_flush_cache(L, 1, d);
        lua_getiuservalue(L, 1, 1);
    }
    DbStmt *s = lua_newuserdatauv(L, sizeof *s, 0);
    s->st = NULL;
    luaL_setmetatable(L, DB_STMT_MT);
    const char *tail = NULL;
    if (sqlite3_prepare_v3(d->db, sql, (int)len, SQLITE_PREPARE_PERSISTENT, &s->st, &tail) != SQLITE_OK)
        db_error(L, d, sql);
    if (!s->st) luaL_error(L, "empty SQL statement");
    while (tail && *tail && strchr(" \t\r\n;", *tail)) tail++;
    if (tail && *tail)
        luaL_error(L, "query takes one statement (use exec for scripts)\n  in: %s", sql);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, -4);            /* cache[sql] = stmt */
    d->cached++;
    /* Column names as Lua strings, made once per statement. */
    lua_getiuservalue(L, 1, 2);
    int ncol = sqlite3_column_count(s->st);
    lua_createtable(L, ncol, 0);
    for (int i = 0; i < ncol; i++) {
        lua_pushstring(L, sqlite3_column_name(s->st, i));
        lua_rawseti(L, -2, i + 1);
    }
    lua_rawsetp(L, -2, s->st);
    lua_pop(L, 3);
    return s->st;
}

static void db_bind_value(lua_State *L, Db *d, sqlite3_stmt *st, int i, int idx, const char *sql) {
    int rc;
    switch (lua_type(L, idx)) {
    case LUA_TNONE: case LUA_TNIL:
        rc = sqlite3_bind_null(st, i); break;
    case LUA_TBOOLEAN:
        rc = sqlite3_bind_int(st, i, lua_toboolean(L, idx)); break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) rc = sqlite3_bind_int64(st, i, lua_tointeger(L, idx));
        else rc = sqlite3_bind_double(st, i, lua_tonumber(L, idx));
        break;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        rc = sqlite3_bind_text64(st, i, s, len, SQLITE_TRANSIENT, SQLITE_UTF8);
        break;
    }
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == NULL) { rc = sqlite3_bind_null(st, i); break; }
        /* fallthrough */
    default: {
        const char *name = sqlite3_bind_parameter_name(st, i);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        luaL_error(L, "cannot bind a %s to parameter %s (encode tables as JSON first)\n  in: %s",
                   luaL_typename(L, idx), name ? name : lua_pushfstring(L, "%d", i), sql);
        return;
    }
    }
    if (rc != SQLITE_OK) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        db_error(L, d, sql);
    }
}

/* Binds arguments from index 3: one table (named :x/@x/$x keys, integer keys for ?)
 * or positional values. Absent values bind NULL, so rows read with NULLs round-trip. */
static void db_bind(lua_State *L, Db *d, sqlite3_stmt *st, int nargs) {
    const char *sql = lua_tostring(L, 2);
    int nparams = sqlite3_bind_parameter_count(st);
    if (nargs == 1 && lua_type(L, 3) == LUA_TTABLE) {
        for (int i = 1; i <= nparams; i++) {
            const char *name = sqlite3_bind_parameter_name(st, i);
            if (name && name[0] != '?') lua_getfield(L, 3, name + 1);
            else lua_rawgeti(L, 3, i);
            db_bind_value(L, d, st, i, -1, sql);
            lua_pop(L, 1);
        }
        return;
    }
    if (nargs > nparams) {
        sqlite3_reset(st);
        luaL_error(L, "%d values given for %d parameters\n  in: %s", nargs, nparams, sql);
    }
    for (int i = 1; i <= nparams; i++) {
        if (i <= nargs) db_bind_value(L, d, st, i, i + 2, sql);
        else sqlite3_bind_null(st, i);
    }
}

static void db_push_column(lua_State *L, sqlite3_stmt *st, int i) {
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER: lua_pushinteger(L, sqlite3_column_int64(st, i)); break;
    case SQLITE_FLOAT: lua_pushnumber(L, sqlite3_column_double(st, i)); break;
    case SQLITE_NULL: lua_pushnil(L); break;
    default: {
        const void *p = sqlite3_column_blob(st, i);
        lua_pushlstring(L, p ? p : "", (size_t)sqlite3_column_bytes(st, i));
    }
    }
}

/* Pushes the next row as a table keyed by column name (NULL columns absent), or
 * returns 0 at the end. names is the stack index of the column-name array. */
static int db_step_row(lua_State *L, Db *d, sqlite3_stmt *st, int names) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return 0;
    if (rc != SQLITE_ROW) {
        const char *sql = lua_tostring(L, 2);
        lua_pushfstring(L, "%s\n  in: %s", sqlite3_errmsg(d->db), sql);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        lua_error(L);
    }
    int ncol = sqlite3_column_count(st);
    lua_createtable(L, 0, ncol);
    for (int i = 0; i < ncol; i++) {
        if (sqlite3_column_type(st, i) == SQLITE_NULL) continue;
        lua_rawgeti(L, names, i + 1);
        db_push_column(L, st, i);
        lua_rawset(L, -3);
    }
    return 1;
}

static int db_names(lua_State *L, sqlite3_stmt *st) {
    lua_getiuservalue(L, 1, 2);
    lua_rawgetp(L, -1, st);
    lua_remove(L, -2);
    return lua_gettop(L);
}

static void db_finish(sqlite3_stmt *st) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* query(sql, ...) -> rows, column names */
static int db_query(lua_State *L) {
    Db *d = db_check(L, 1);
    sqlite3_stmt *st = db_prepare(L, d);
    db_bind(L, d, st, lua_gettop(L) - 2);
    int names = db_names(L, st);
    lua_newtable(L);
    int n = 0;
    while (db_step_row(L, d, st, names))
        lua_rawseti(L, -2, ++n);
    db_finish(st);
    /* the caller gets its own copy: the cached one names every later row */
    int ncol = (int)lua_rawlen(L, names);
    lua_createtable(L, ncol, 0);
    for (int i = 1; i <= ncol; i++) {
        lua_rawgeti(L, names, i);
        lua_rawseti(L, -2, i);
    }
    return 2;
}

/* first(sql, ...) -> first row or nil */
static int db_first(lua_State *L) {
    Db *d = db_check(L, 1);
    sqlite3_stmt *st = db_prepare(L, d);
    db_bind(L, d, st, lua_gettop(L) - 2);
    int names = db_names(L, st);
    if (!db_step_row(L, d, st, names)) lua_pushnil(L);
    db_finish(st);
    return 1;
}

/* value(sql, ...) -> first column of the first row, or nil */
static int db_value(lua_State *L) {
    Db *d = db_check(L, 1);
    sqlite3_stmt *st = db_prepare(L, d);
    db_bind(L, d, st, lua_gettop(L) - 2);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) db_push_column(L, st, 0);
    else if (rc == SQLITE_DONE) lua_pushnil(L);
    else { lua_pushfstring(L, "%s\n  in: %s", sqlite3_errmsg(d->db), lua_tostring(L, 2)); db_finish(st); return lua_error(L); }
    db_finish(st);
    return 1;
}

/* run(sql, ...) -> rows changed by this statement (0 for one that changes
 * nothing, not a leftover count), last insert rowid */
static int db_run(lua_State *L) {
    Db *d = db_check(L, 1);
    sqlite3_stmt *st = db_prepare(L, d);
    db_bind(L, d, st, lua_gettop(L) - 2);
    sqlite3_int64 before = sqlite3_total_changes64(d->db);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {}
    if (rc != SQLITE_DONE) {
        lua_pushfstring(L, "%s\n  in: %s", sqlite3_errmsg(d->db), lua_tostring(L, 2));
        db_finish(st);
        return lua_error(L);
    }
    db_finish(st);
    lua_pushinteger(L, sqlite3_total_changes64(d->db) - before);
    lua_pushinteger(L, sqlite3_last_insert_rowid(d->db));
    return 2;
}

/* rows(sql, ...) -> iterator over rows; the statement is released at the end */
static int db_rows_next(lua_State *L) {
    Db *d = db_check(L, lua_upvalueindex(1));
    DbStmt *s = lua_touserdata(L, lua_upvalueindex(3));
    if (!s->st) return 0;
    lua_settop(L, 0);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, lua_upvalueindex(2));   /* sql at index 2 for error messages */
    lua_pushvalue(L, lua_upvalueindex(4));
    if (db_step_row(L, d, s->st, 3)) return 1;
    sqlite3_finalize(s->st);
    s->st = NULL;
    return 0;
}

static int db_rows(lua_State *L) {
    Db *d = db_check(L, 1);
    const char *sql = luaL_checkstring(L, 2);
    int nargs = lua_gettop(L) - 2;
    DbStmt *s = lua_newuserdatauv(L, sizeof *s, 0);   /* own statement: not shared with the cache */
    s->st = NULL;
    luaL_setmetatable(L, DB_STMT_MT);
    const char *tail = NULL;
    if (sqlite3_prepare_v2(d->db, sql, -1, &s->st, &tail) != SQLITE_OK) return db_error(L, d, sql);
    if (!s->st) return luaL_error(L, "empty SQL statement");
    while (tail && *tail && strchr(" \t\r\n;", *tail)) tail++;
    if (tail && *tail) return luaL_error(L, "rows takes one statement (use exec for scripts)\n  in: %s", sql);
    db_bind(L, d, s->st, nargs);
    int ncol = sqlite3_column_count(s->st);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -3);
    lua_createtable(L, ncol, 0);
    for (int i = 0; i < ncol; i++) {
        lua_pushstring(L, sqlite3_column_name(s->st, i));
        lua_rawseti(L, -2, i + 1);
    }
    lua_pushcclosure(L, db_rows_next, 4);   /* upvalues: db, sql, stmt, names */
    return 1;
}

static int db_in_transaction(lua_State *L) {
    Db *d = db_check(L, 1);
    lua_pushboolean(L, !sqlite3_get_autocommit(d->db));
    return 1;
}

/* total_changes() -> rows changed on this connection since it opened */
static int db_total_changes(lua_State *L) {
    Db *d = db_check(L, 1);
    lua_pushinteger(L, sqlite3_total_changes64(d->db));
    return 1;
}

static int db_filename(lua_State *L) {
    Db *d = db_check(L, 1);
    const char *f = sqlite3_db_filename(d->db, "main");
    lua_pushstring(L, f ? f : "");
    return 1;
}

static int db_readonly(lua_State *L) {
    Db *d = db_check(L, 1);
    lua_pushboolean(L, sqlite3_db_readonly(d->db, "main") == 1);
    return 1;
}

static int db_is_open(lua_State *L) {
    Db *d = luaL_checkudata(L, 1, DB_MT);
    lua_pushboolean(L, d->db != NULL);
    return 1;
}

static int db_tostring(lua_State *L) {
    Db *d = luaL_checkudata(L, 1, DB_MT);
    if (d->db) lua_pushfstring(L, "database (%s)", sqlite3_db_filename(d->db, "main"));
    else lua_pushliteral(L, "database (closed)");
    return 1;
}

/* ---- background checkpoints ---- */

static void ck_work(uv_work_t *w) {
    Checkpointer *ck = w->data;
    sqlite3 *c = NULL;
    ck->log = ck->done = -1;
    ck->rc = sqlite3_open_v2(ck->path, &c, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    /* a first read opens the log: until then the connection is not in WAL mode */
    if (ck->rc == SQLITE_OK) ck->rc = sqlite3_exec(c, "SELECT 1 FROM sqlite_schema LIMIT 1", NULL, NULL, NULL);
    if (ck->rc == SQLITE_OK)
        ck->rc = sqlite3_wal_checkpoint_v2(c, NULL, SQLITE_CHECKPOINT_PASSIVE, &ck->log, &ck->done);
    sqlite3_close_v2(c);
}

static void ck_after(uv_work_t *w, int status) {
    Checkpointer *ck = w->data;
    ck->running = 0;
    if (ck->orphaned) { ck_free(ck); return; }
    if (status == 0) ck->count++;
    if (status == 0 && ck->rc == SQLITE_OK && ck->done > 0) ck->floor = ck->done;
}

/* After every commit, on the loop thread: pages = frames in the log. */
static int ck_on_commit(void *arg, sqlite3 *db, const char *name, int pages) {
    Checkpointer *ck = arg;
    if (strcmp(name, "main") != 0) return SQLITE_OK;
    if (pages < ck->floor) ck->floor = 0;   /* the log started again from its beginning */
    if (pages - ck->floor < ck->pages) return SQLITE_OK;
    if (ck->running) return SQLITE_OK;   /* the next commit after it ends looks again */
    ck->running = 1;
    if (uv_queue_work(ck->loop, &ck->work, ck_work, ck_after) == 0) return SQLITE_OK;
    /* the pool refused: copy the log here, as SQLite's own auto-checkpoint would */
    ck->running = 0;
    int log = 0, done = 0;
    if (sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done) == SQLITE_OK && done > 0)
        ck->floor = done;
    ck->inline_count++;
    return SQLITE_OK;
}

/* checkpoint_in_background(pages): from now on, a log of this many frames not
 * yet copied is checkpointed on a worker thread instead of by the commit. Only
 * for a file database in WAL mode; 0 turns it off (SQLite's own auto-checkpoint
 * of 1000 pages returns). */
static int db_checkpoint_in_background(lua_State *L) {
    Db *d = db_check(L, 1);
    lua_Integer pages = luaL_checkinteger(L, 2);
    luaL_argcheck(L, pages >= 0 && pages <= 1000000, 2, "pages must be between 0 and 1000000");
    if (pages == 0) {
        if (d->ck) {
            sqlite3_wal_autocheckpoint(d->db, 1000);   /* replaces our hook */
            if (d->ck->running) d->ck->orphaned = 1; else ck_free(d->ck);
            d->ck = NULL;
        }
        return 0;
    }
    const char *path = sqlite3_db_filename(d->db, "main");
    if (!path || !*path) return luaL_error(L, "background checkpoints need a database file, not an in-memory one");
    if (!d->ck) {
        Checkpointer *ck = calloc(1, sizeof *ck);
        char *copy = ck ? strdup(path) : NULL;
        if (!copy) { free(ck); return luaL_error(L, "out of memory"); }
        ck->path = copy;
        ck->loop = &host_of(L)->loop;
        ck->work.data = ck;
        d->ck = ck;
        sqlite3_wal_hook(d->db, ck_on_commit, ck);
    }
    d->ck->pages = (int)pages;
    return 0;
}

/* checkpoints() -> {background =, inline =, running =, last_log =, last_copied =,
 * last_error =} | nil when background checkpoints are off */
static int db_checkpoints(lua_State *L) {
    Db *d = db_check(L, 1);
    Checkpointer *ck = d->ck;
    if (!ck) { lua_pushnil(L); return 1; }
    lua_createtable(L, 0, 6);
    lua_pushinteger(L, ck->count);
    lua_setfield(L, -2, "background");
    lua_pushinteger(L, ck->inline_count);
    lua_setfield(L, -2, "inline");
    lua_pushboolean(L, ck->running);
    lua_setfield(L, -2, "running");
    if (!ck->running && ck->count > 0) {
        lua_pushinteger(L, ck->log);
        lua_setfield(L, -2, "last_log");
        lua_pushinteger(L, ck->done);
        lua_setfield(L, -2, "last_copied");
        if (ck->rc != SQLITE_OK) {
            lua_pushstring(L, sqlite3_errstr(ck->rc));
            lua_setfield(L, -2, "last_error");
        }
    }
    return 1;
}

static int db_sqlite_version(lua_State *L) {
    lua_pushstring(L, sqlite3_libversion());
    return 1;
}

static const luaL_Reg db_methods[] = {
    {"exec", db_exec},
    {"query", db_query},
    {"first", db_first},
    {"value", db_value},
    {"run", db_run},
    {"rows", db_rows},
    {"in_transaction", db_in_transaction},
    {"total_changes", db_total_changes},
    {"filename", db_filename},
    {"readonly", db_readonly},
    {"is_open", db_is_open},
    {"checkpoint_in_background", db_checkpoint_in_background},
    {"checkpoints", db_checkpoints},
    {"close", db_close},
    {NULL, NULL}
};

static const luaL_Reg db_funcs[] = {
    {"open", db_open},
    {"sqlite_version", db_sqlite_version},
    {NULL, NULL}
};

/* Before SQLite initializes: no global memory statistics (they take a mutex on
 * every allocation) and no per-connection mutexes; each connection belongs to
 * the one thread that opened it. */
static void db_configure_once(void) {
    static int done;
    if (done) return;
    done = 1;
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
}

int luaopen_core_db(lua_State *L) {
    db_configure_once();
    luaL_newmetatable(L, DB_STMT_MT);
    lua_pushcfunction(L, stmt_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);

    luaL_newmetatable(L, DB_MT);
    luaL_newlib(L, db_methods);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "__index");
    lua_pushcfunction(L, db_close);
    lua_setfield(L, -3, "__gc");
    lua_pushcfunction(L, db_close);
    lua_setfield(L, -3, "__close");
    lua_pushcfunction(L, db_tostring);
    lua_setfield(L, -3, "__tostring");

    luaL_newlib(L, db_funcs);
    lua_insert(L, -2);
    lua_setfield(L, -2, "methods");   /* Lua adds policy methods (transaction) here */
    lua_pushlightuserdata(L, NULL);
    lua_setfield(L, -2, "null");      /* equals cjson.null; binds as SQL NULL */
    lua_remove(L, -2);
    return 1;
}
