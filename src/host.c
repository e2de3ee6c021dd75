/* host.c: the Lua state, its allocator and limits, the search path, and luv on our loop. */
#include "host.h"
#include "db.h"
#include "crypto.h"
#include "edit.h"
#include "score.h"
#include "http.h"
#include "coretime.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <lauxlib.h>
#include <lualib.h>
#include <luv/luv.h>
#include <lua-cjson.h>

#define HOST_HOOK_EVERY 1000   /* instructions between two limit checks */
#define HOST_LIMIT_MT "candor.limit"

struct HostLimit {
    uint64_t max_instructions;   /* 0 = none */
    uint64_t count;
    uint64_t deadline_ns;        /* uv_hrtime() deadline; 0 = none */
    uint64_t timeout_ms;         /* for the message */
    int tripped;
    char *message;               /* set when tripped, owned */
    char *name;                  /* what is limited, e.g. "workflow 'x'"; owned */
};

Host *host_of(lua_State *L) {
    return *(Host **)lua_getextraspace(L);
}

/* ---- allocator: counts every byte and enforces the memory cap ---- */

static void *host_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    Host *h = ud;
    size_t old = ptr ? osize : 0;   /* with ptr NULL, osize is a type tag */
    if (nsize == 0) {
        free(ptr);
        h->mem_used -= old;
        return NULL;
    }
    if (nsize > old && h->mem_limit && h->mem_used - old + nsize > h->mem_limit)
        return NULL;                /* Lua turns this into LUA_ERRMEM */
    void *p = realloc(ptr, nsize);
    if (!p) return NULL;
    h->mem_used = h->mem_used - old + nsize;
    if (h->mem_used > h->mem_peak) h->mem_peak = h->mem_used;
    return p;
}

/* ---- errors ---- */

int host_traceback(lua_State *L) {
    if (lua_type(L, 1) == LUA_TTABLE) return 1;          /* structured errors pass as they are */
    const char *msg = lua_tostring(L, 1);
    if (!msg) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* luv calls Lua callbacks through this: an error is reported and the host keeps running
 * (luv's own runner would exit the process). Returns results on success, -status on error. */
static int host_luv_pcall(lua_State *L, int nargs, int nresults, int flags) {
    (void)flags;
    Host *h = host_of(L);
    int fn = lua_gettop(L) - nargs;
    int top = fn - 1;
    lua_pushcfunction(L, host_traceback);
    lua_insert(L, fn);
    int status = lua_pcall(L, nargs, nresults, fn);
    lua_remove(L, fn);
    if (status == LUA_OK)
        return nresults == LUA_MULTRET ? lua_gettop(L) - top : nresults;
    h->callback_errors++;
    /* Lua may route the report (async marks the task); stderr otherwise. */
    if (lua_getfield(L, LUA_REGISTRYINDEX, "candor.callback_error") == LUA_TFUNCTION) {
        lua_pushvalue(L, -2);
        if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
            fprintf(stderr, "candor: error in callback reporter: %s\n", lua_tostring(L, -1));
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    } else {
        lua_pop(L, 1);
        const char *msg = lua_tostring(L, -1);
        fprintf(stderr, "candor: error in callback: %s\n", msg ? msg : "(non-string error)");
    }
    lua_pop(L, 1);
    return -status;
}

/* ---- limits: an instruction budget and a deadline per task ---- */

static void host_hook(lua_State *L, lua_Debug *ar) {
    HostLimit *lim = host_of(L)->active_limit;
    if (!lim) return;
    lim->count += HOST_HOOK_EVERY;
    if (!lim->tripped) {
        const char *why = NULL;
        if (lim->max_instructions && lim->count > lim->max_instructions)
            why = "instruction limit";
        else if (lim->deadline_ns && uv_hrtime() > lim->deadline_ns)
            why = "time limit";
        if (!why) return;
        lim->tripped = 1;
        char detail[96];
        if (why[0] == 'i')
            snprintf(detail, sizeof detail, "exceeded its instruction limit of %llu instructions (runaway loop?)",
                     (unsigned long long)lim->max_instructions);
        else
            snprintf(detail, sizeof detail, "exceeded its time limit of %gs", (double)lim->timeout_ms / 1000.0);
        /* Where it was when it tripped: the line a user should look at. */
        char where[LUA_IDSIZE + 32] = "";
        if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0)
            snprintf(where, sizeof where, "%s:%d: ", ar->short_src, ar->currentline);
        const char *name = lim->name ? lim->name : "script";
        size_t n = strlen(where) + strlen(name) + strlen(detail) + 16;
        lim->message = malloc(n);
        if (lim->message) snprintf(lim->message, n, "%s%s stopped: %s", where, name, detail);
    }
    /* A yield passes through any pcall in the script and hands the task back to the
     * scheduler, which ends it. Where yielding is impossible (a C boundary, the main
     * thread) raise instead; the check repeats, so a pcall cannot swallow it for good. */
    if (lua_isyieldable(L)) {
        lua_yield(L, 0);
        return;
    }
    lua_pushstring(L, lim->message ? lim->message : "limit exceeded");
    lua_error(L);
}

static HostLimit *limit_check(lua_State *L, int idx) {
    return luaL_checkudata(L, idx, HOST_LIMIT_MT);
}

static int limit_gc(lua_State *L) {
    HostLimit *lim = limit_check(L, 1);
    Host *h = host_of(L);
    if (h->active_limit == lim) h->active_limit = NULL;
    free(lim->message); lim->message = NULL;
    free(lim->name); lim->name = NULL;
    return 0;
}

/* limit_new{instructions = N, timeout_ms = N, name = "workflow 'x'"} */
static int host_limit_new(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    HostLimit *lim = lua_newuserdatauv(L, sizeof *lim, 0);
    memset(lim, 0, sizeof *lim);
    luaL_setmetatable(L, HOST_LIMIT_MT);
    lua_getfield(L, 1, "instructions");
    lua_Integer n = luaL_optinteger(L, -1, 0);
    if (n < 0) return luaL_error(L, "limit: instructions must be >= 0");
    lim->max_instructions = (uint64_t)n;
    lua_getfield(L, 1, "timeout_ms");
    lua_Integer ms = luaL_optinteger(L, -1, 0);
    if (ms < 0) return luaL_error(L, "limit: timeout_ms must be >= 0");
    if (ms) lim->deadline_ns = uv_hrtime() + (uint64_t)ms * 1000000u;
    lim->timeout_ms = (uint64_t)ms;
    lua_getfield(L, 1, "name");
    const char *name = luaL_optstring(L, -1, "script");
    lim->name = strdup(name);
    if (!lim->name) return luaL_error(L, "limit: out of memory");
    lua_pop(L, 3);
    return 1;
}

/* limit_attach(thread, limit): counts the thread's instructions against the limit. */
static int host_limit_attach(lua_State *L) {
    lua_State *co = lua_tothread(L, 1);
    luaL_argcheck(L, co != NULL, 1, "coroutine expected");
    limit_check(L, 2);
    lua_sethook(co, host_hook, LUA_MASKCOUNT, HOST_HOOK_EVERY);
    return 0;
}

/* limit_activate(limit|nil): the scheduler calls this around each resume. */
static int host_limit_activate(lua_State *L) {
    Host *h = host_of(L);
    h->active_limit = lua_isnoneornil(L, 1) ? NULL : limit_check(L, 1);
    return 0;
}

/* limit_status(limit) -> tripped, message, instructions counted */
static int host_limit_status(lua_State *L) {
    HostLimit *lim = limit_check(L, 1);
    lua_pushboolean(L, lim->tripped);
    if (lim->message) lua_pushstring(L, lim->message); else lua_pushnil(L);
    lua_pushinteger(L, (lua_Integer)lim->count);
    return 3;
}

/* tripped() -> true when the limit of the running task has fired */
static int host_limit_tripped(lua_State *L) {
    HostLimit *lim = host_of(L)->active_limit;
    lua_pushboolean(L, lim && lim->tripped);
    if (lim && lim->message) { lua_pushstring(L, lim->message); return 2; }
    return 1;
}

/* ---- small system primitives ---- */

static int host_memory(lua_State *L) {
    Host *h = host_of(L);
    lua_pushinteger(L, (lua_Integer)h->mem_used);
    lua_pushinteger(L, (lua_Integer)h->mem_peak);
    lua_pushinteger(L, (lua_Integer)h->mem_limit);
    return 3;
}

/* set_memory_limit(bytes|nil): 0 or nil lifts the cap */
static int host_set_memory_limit(lua_State *L) {
    Host *h = host_of(L);
    lua_Integer n = luaL_optinteger(L, 1, 0);
    luaL_argcheck(L, n >= 0, 1, "memory limit must be >= 0");
    h->mem_limit = (size_t)n;
    return 0;
}

/* now() -> "2026-11-25T12:00:00.123Z". Every row written gets one, so the
 * date and time are formatted once per second and only the milliseconds after. */
static int host_now(lua_State *L) {
    static time_t cached_sec = -1;
    static char buf[64];   /* "YYYY-MM-DDTHH:MM:SS.mmmZ"; roomy for any year gmtime gives */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != cached_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.000Z",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        cached_sec = ts.tv_sec;
    }
    int ms = (int)(ts.tv_nsec / 1000000);
    buf[20] = (char)('0' + ms / 100);
    buf[21] = (char)('0' + ms / 10 % 10);
    buf[22] = (char)('0' + ms % 10);
    lua_pushlstring(L, buf, 24);
    return 1;
}

/* clock() -> monotonic seconds, float */
static int host_clock(lua_State *L) {
    lua_pushnumber(L, (lua_Number)uv_hrtime() / 1e9);
    return 1;
}

static int host_isatty(lua_State *L) {
    lua_Integer fd = luaL_checkinteger(L, 1);
    lua_pushboolean(L, isatty((int)fd));
    return 1;
}

static int host_callback_errors(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)host_of(L)->callback_errors);
    return 1;
}

/* exit(code): leaves at once without unwinding (used after output is flushed) */
static int host_exit(lua_State *L) {
    int code = (int)luaL_optinteger(L, 1, 0);
    fflush(stdout);
    fflush(stderr);
    _exit(code);
}

static const luaL_Reg host_funcs[] = {
    {"limit_new", host_limit_new},
    {"limit_attach", host_limit_attach},
    {"limit_activate", host_limit_activate},
    {"limit_status", host_limit_status},
    {"limit_tripped", host_limit_tripped},
    {"memory", host_memory},
    {"set_memory_limit", host_set_memory_limit},
    {"now", host_now},
    {"clock", host_clock},
    {"isatty", host_isatty},
    {"callback_errors", host_callback_errors},
    {"exit", host_exit},
    {NULL, NULL}
};

int luaopen_core_host(lua_State *L) {
    Host *h = host_of(L);
    luaL_newmetatable(L, HOST_LIMIT_MT);
    lua_pushcfunction(L, limit_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newlib(L, host_funcs);
    lua_pushstring(L, h->root);
    lua_setfield(L, -2, "root");
    lua_pushstring(L, LUA_VERSION_MAJOR "." LUA_VERSION_MINOR "." LUA_VERSION_RELEASE);
    lua_setfield(L, -2, "lua_version");
    return 1;
}

/* ---- set-up ---- */

static int host_is_file(const char *dir, const char *rel) {
    char *p = NULL;
    if (asprintf(&p, "%s/%s", dir, rel) < 0) return 0;
    int ok = access(p, R_OK) == 0;
    free(p);
    return ok;
}

/* The built-in files sit beside the binary's directory (source tree: build/../lua)
 * or under PREFIX/share/candor when installed. CANDOR_HOME overrides both. */
static char *host_find_root(char *err, size_t errlen) {
    const char *env = getenv("CANDOR_HOME");
    if (env && *env) {
        if (!host_is_file(env, "lua/candor/cli/main.lua")) {
            snprintf(err, errlen, "CANDOR_HOME=%s has no lua/candor/cli/main.lua", env);
            return NULL;
        }
        return realpath(env, NULL);
    }
    char *exe = realpath("/proc/self/exe", NULL);
    if (!exe) { snprintf(err, errlen, "cannot find the candor binary: %s", strerror(errno)); return NULL; }
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    static const char *const candidates[] = { "..", "../share/candor", "../.." };
    char *root = NULL;
    for (size_t i = 0; i < sizeof candidates / sizeof *candidates && !root; i++) {
        char *dir = NULL;
        if (asprintf(&dir, "%s/%s", exe, candidates[i]) < 0) break;
        if (host_is_file(dir, "lua/candor/cli/main.lua")) root = realpath(dir, NULL);
        free(dir);
    }
    if (!root)
        snprintf(err, errlen, "cannot find Candor's Lua files near %s (set CANDOR_HOME)", exe);
    free(exe);
    return root;
}

/* package.path: each CANDOR_PATH entry's lua/ first, then the built-in lua/, then Lua's default. */
static void host_set_path(lua_State *L, const char *root) {
    luaL_Buffer b;
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");      /* Lua's default, appended last */
    luaL_buffinit(L, &b);
    const char *cp = getenv("CANDOR_PATH");
    while (cp && *cp) {
        const char *end = strchr(cp, ':');
        size_t n = end ? (size_t)(end - cp) : strlen(cp);
        if (n) {
            for (int i = 0; i < 2; i++) {
                luaL_addlstring(&b, cp, n);
                luaL_addstring(&b, i ? "/lua/?/init.lua;" : "/lua/?.lua;");
            }
        }
        cp = end ? end + 1 : NULL;
    }
    luaL_addstring(&b, root); luaL_addstring(&b, "/lua/?.lua;");
    luaL_addstring(&b, root); luaL_addstring(&b, "/lua/?/init.lua;");
    luaL_addstring(&b, lua_tostring(L, -2));
    luaL_pushresult(&b);
    lua_setfield(L, -3, "path");
    lua_pop(L, 2);
}

static void host_preload(lua_State *L, const char *name, lua_CFunction open) {
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, open);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
}

int host_init(Host *h, char *err, size_t errlen) {
    memset(h, 0, sizeof *h);
    /* A write to a closed socket or pipe must fail with EPIPE (which libuv and
     * libcurl report), not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    h->root = host_find_root(err, errlen);
    if (!h->root) return -1;
    int rc = uv_loop_init(&h->loop);
    if (rc) {
        snprintf(err, errlen, "cannot start the event loop: %s", uv_strerror(rc));
        free(h->root); h->root = NULL;
        return -1;
    }
    h->L = lua_newstate(host_alloc, h);
    if (!h->L) {
        snprintf(err, errlen, "cannot create the Lua state: out of memory");
        uv_loop_close(&h->loop);
        free(h->root); h->root = NULL;
        return -1;
    }
    lua_State *L = h->L;
    *(Host **)lua_getextraspace(L) = h;   /* copied into every thread created later */
    luaL_openlibs(L);
    host_set_path(L, h->root);
    /* luv runs on our loop and reports callback errors through us instead of exiting. */
    luv_set_loop(L, &h->loop);
    luv_set_callback(L, host_luv_pcall);
    host_preload(L, "luv", luaopen_luv);
    host_preload(L, "cjson", luaopen_cjson);
    host_preload(L, "core.host", luaopen_core_host);
    host_preload(L, "core.db", luaopen_core_db);
    host_preload(L, "core.crypto", luaopen_core_crypto);
    host_preload(L, "core.edit", luaopen_core_edit);
    host_preload(L, "core.score", luaopen_core_score);
    host_preload(L, "core.http", luaopen_core_http);
    host_preload(L, "core.time", luaopen_core_time);
    return 0;
}

static void host_close_handle(uv_handle_t *handle, void *arg) {
    (void)arg;
    if (!uv_is_closing(handle)) uv_close(handle, NULL);
}

/* luv's close callbacks use the Lua state, so its handles are closed (through luv)
 * and their callbacks run while the state is still alive. */
static const char host_close_luv[] =
    "local http = package.loaded['core.http']\n"
    "if http then http.shutdown() end\n";
/* Then luv's own handles, once ours are gone: luv.walk asserts on a handle it did not make. */
static const char host_close_luv2[] =
    "local uv = package.loaded.luv\n"
    "if uv then uv.walk(function(h) if not h:is_closing() then h:close() end end) end";

void host_close(Host *h) {
    if (h->L) {
        h->mem_limit = 0;
        h->active_limit = NULL;
        const char *steps[] = { host_close_luv, host_close_luv2 };
        for (int i = 0; i < 2; i++) {
            if (luaL_loadstring(h->L, steps[i]) != LUA_OK || lua_pcall(h->L, 0, 0, 0) != LUA_OK) {
                fprintf(stderr, "candor: while closing handles: %s\n", lua_tostring(h->L, -1));
                lua_pop(h->L, 1);
            }
            uv_run(&h->loop, UV_RUN_NOWAIT);   /* close callbacks: the handles are gone after */
        }
        uv_run(&h->loop, UV_RUN_DEFAULT);
        lua_close(h->L);
        h->L = NULL;
    }
    /* Anything still open is not luv's: close it, then the loop. */
    uv_walk(&h->loop, host_close_handle, NULL);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    uv_loop_close(&h->loop);
    free(h->root);
    h->root = NULL;
}
