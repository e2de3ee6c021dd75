/* test_host.c: the host's allocator cap, limit hook, luv callback errors and shutdown. */
#include "test.h"
#include "host.h"

#include <stdlib.h>
#include <unistd.h>
#include <lauxlib.h>

static Host host;

static const char *run(const char *code) {
    lua_State *L = host.L;
    lua_settop(L, 0);
    if (luaL_loadstring(L, code) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
        fprintf(stderr, "lua error: %s\n", lua_tostring(L, -1));
        return "ERROR";
    }
    return lua_tostring(L, -1) ? lua_tostring(L, -1) : "nil";
}

static void test_memory_cap(void) {
    CHECK_STR(run(
        "local h = require 'core.host'\n"
        "local used = h.memory()\n"
        "h.set_memory_limit(used + 8 * 1048576)\n"
        "local ok, e = pcall(function() local t = {} for i = 1, 1e6 do t[i] = string.rep('x', 4096) .. i end end)\n"
        "h.set_memory_limit(0)\n"
        "collectgarbage()\n"
        "return tostring(ok) .. ' ' .. tostring(e)"), "false not enough memory");
    CHECK(host.mem_peak > host.mem_used);
}

static void test_instruction_limit(void) {
    CHECK_STR(run(
        "local h = require 'core.host'\n"
        "local lim = h.limit_new{instructions = 100000, name = 'test loop'}\n"
        "local co = coroutine.create(function() while true do pcall(function() while true do end end) end end)\n"
        "h.limit_attach(co, lim)\n"
        "h.limit_activate(lim)\n"
        "local ok = coroutine.resume(co)\n"
        "h.limit_activate(nil)\n"
        "local tripped, msg = h.limit_status(lim)\n"
        "local status = coroutine.status(co)\n"
        "coroutine.close(co)\n"
        "return tostring(ok) .. ' ' .. status .. ' ' .. tostring(tripped) .. ' ' .. msg:gsub('^%[string .-%]:%d+: ', '')"),
        /* the hook yielded out through the pcall: the thread is suspended, not looping */
        "true suspended true test loop stopped: exceeded its instruction limit of 100000 instructions (runaway loop?)");
    /* Where it cannot yield (the main thread), the stop is raised as an error. */
    CHECK_STR(run(
        "local h = require 'core.host'\n"
        "local lim = h.limit_new{instructions = 100000, name = 'main loop'}\n"
        "h.limit_attach(coroutine.running(), lim)\n"
        "h.limit_activate(lim)\n"
        "local ok, e = pcall(function() while true do end end)\n"
        "h.limit_activate(nil)\n"
        "debug.sethook()\n"
        "return e:gsub('^.-: ', '')"),
        "main loop stopped: exceeded its instruction limit of 100000 instructions (runaway loop?)");
}

static void test_luv_callback_error_keeps_running(void) {
    CHECK_STR(run(
        "local uv = require 'luv'\n"
        "local t = uv.new_timer()\n"
        "t:start(1, 0, function() t:close() error('cb failure') end)\n"
        "uv.run()\n"
        "return tostring(require('core.host').callback_errors())"), "1");
}

static void test_now_format(void) {
    const char *s = run("return require('core.host').now()");
    CHECK(strlen(s) == 24 && s[10] == 'T' && s[19] == '.' && s[23] == 'Z');
}

int main(void) {
    char cwd[4096], err[512];
    /* The tests run from the source tree: its lua/ is the built-in root. */
    if (!getcwd(cwd, sizeof cwd)) return 1;
    setenv("CANDOR_HOME", cwd, 1);
    if (host_init(&host, err, sizeof err) != 0) {
        fprintf(stderr, "host_init: %s\n", err);
        return 1;
    }
    RUN(test_memory_cap);
    RUN(test_instruction_limit);
    RUN(test_luv_callback_error_keeps_running);
    RUN(test_now_format);
    host_close(&host);
    return TEST_SUMMARY("host");
}
