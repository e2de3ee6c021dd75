/* test_db.c: core.db through the Lua C API, so ASan/UBSan see every path in db.c. */
#include "test.h"
#include "db.h"

#include <lauxlib.h>
#include <lualib.h>

static lua_State *L;

/* Runs a chunk with `db` preloaded as core.db; returns its first result as a string. */
static const char *run(const char *code) {
    lua_settop(L, 0);
    if (luaL_loadstring(L, code) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
        fprintf(stderr, "lua error: %s\n", lua_tostring(L, -1));
        return "ERROR";
    }
    return lua_tostring(L, -1) ? lua_tostring(L, -1) : "nil";
}

static void test_roundtrip(void) {
    CHECK_STR(run(
        "local d = core.open(':memory:')\n"
        "d:exec('CREATE TABLE t (a INTEGER, b REAL, c TEXT, d BLOB)')\n"
        "d:run('INSERT INTO t VALUES (?, ?, ?, ?)', 7, 2.5, 'x', 'a\\0b')\n"
        "local r = d:first('SELECT * FROM t')\n"
        "return string.format('%s %s %s %d', math.type(r.a), r.b, r.c, #r.d)"),
        "integer 2.5 x 3");
}

static void test_named_and_null(void) {
    CHECK_STR(run(
        "local d = core.open(':memory:')\n"
        "d:exec('CREATE TABLE t (a TEXT, b TEXT)')\n"
        "d:run('INSERT INTO t VALUES (:a, :b)', {a = 'x'})\n"
        "d:run('INSERT INTO t VALUES (?, ?)', 'y', core.null)\n"
        "return tostring(d:value('SELECT count(*) FROM t WHERE b IS NULL'))"), "2");
}

static void test_errors_carry_sql(void) {
    CHECK_STR(run(
        "local d = core.open(':memory:')\n"
        "local ok, e = pcall(d.query, d, 'SELEC 1')\n"
        "return e"), "near \"SELEC\": syntax error\n  in: SELEC 1");
    CHECK_STR(run(
        "local d = core.open(':memory:')\n"
        "local ok, e = pcall(d.run, d, 'SELECT ?', {})\n"
        "ok, e = pcall(d.run, d, 'SELECT :x', {x = {}})\n"
        "return e"), "cannot bind a table to parameter :x (encode tables as JSON first)\n  in: SELECT :x");
}

static void test_open_failure_returns_nil(void) {
    CHECK_STR(run(
        "local d, msg, code = core.open('/nonexistent-dir/x.db')\n"
        "return tostring(d) .. '|' .. msg .. '|' .. code"),
        "nil|cannot open database /nonexistent-dir/x.db: unable to open database file|14");
}

static void test_close_twice_and_gc(void) {
    CHECK_STR(run(
        "local d = core.open(':memory:')\n"
        "d:query('SELECT 1') d:close() d:close()\n"
        "local ok, e = pcall(d.query, d, 'SELECT 1')\n"
        "for i = 1, 50 do local x = core.open(':memory:') x:query('SELECT ?', i) end\n"
        "collectgarbage()\n"
        "return e"), "database is closed");
}

static void test_rows_iterator_and_cache_flush(void) {
    CHECK_STR(run(
        "local d = core.open(':memory:')\n"
        "d:exec('CREATE TABLE t (n INTEGER)')\n"
        "for i = 1, 300 do d:run('INSERT INTO t VALUES (' .. i .. ')') end\n"
        "local s = 0 for r in d:rows('SELECT n FROM t WHERE n > ?', 290) do s = s + r.n end\n"
        "for r in d:rows('SELECT n FROM t') do break end\n"
        "collectgarbage()\n"
        "return tostring(s)"), "2955");
}

int main(void) {
    L = luaL_newstate();
    luaL_openlibs(L);
    luaL_requiref(L, "core", luaopen_core_db, 1);
    lua_pop(L, 1);
    RUN(test_roundtrip);
    RUN(test_named_and_null);
    RUN(test_errors_carry_sql);
    RUN(test_open_failure_returns_nil);
    RUN(test_close_twice_and_gc);
    RUN(test_rows_iterator_and_cache_flush);
    lua_close(L);
    return TEST_SUMMARY("db");
}
