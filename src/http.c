/* http.c: core.http, libcurl's multi interface driven by the host's libuv loop.
 *
 * libcurl is loaded with dlopen on the first request, so the commands that
 * never make one do not pay for loading it and its TLS libraries at start
 * (see bench/startup.lua). curl tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION) and when to wake (CURLMOPT_TIMERFUNCTION); uv_poll
 * and uv_timer on the host's loop call curl_multi_socket_action back. No thread
 * per request, no busy polling. A finished request calls its Lua callback,
 * which (through candor.http) only queues the waiting task: the scheduler
 * resumes it. */
#include "http.h"
#include "host.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include <lauxlib.h>

#define HTTP_MT "candor.http.request"
#define HTTP_STATE_KEY "candor.http.state"

/* ---- libcurl, loaded on demand ---- */

static struct {
    int loaded;
    char error[256];
    CURLcode (*global_init)(long);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
    CURLMcode (*multi_socket_action)(CURLM *, curl_socket_t, int, int *);
    CURLMcode (*multi_assign)(CURLM *, curl_socket_t, void *);
    CURLMsg *(*multi_info_read)(CURLM *, int *);
    CURLMcode (*multi_add_handle)(CURLM *, CURL *);
    CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
    CURLMcode (*multi_cleanup)(CURLM *);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} C;

static int http_load(void) {
    if (C.loaded) return C.loaded > 0;
    static const char *const names[] = { "libcurl.so.4", "libcurl-gnutls.so.4", "libcurl.so" };
    void *lib = NULL;
    for (size_t i = 0; i < sizeof names / sizeof *names && !lib; i++) lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(C.error, sizeof C.error, "HTTP needs libcurl (Debian package libcurl4): %s", dlerror());
        C.loaded = -1;
        return 0;
    }
#define SYM(field, name) do { *(void **)&C.field = dlsym(lib, name); \
        if (!C.field) { snprintf(C.error, sizeof C.error, "libcurl lacks %s", name); C.loaded = -1; return 0; } } while (0)
    SYM(global_init, "curl_global_init");
    SYM(multi_init, "curl_multi_init");
    SYM(multi_setopt, "curl_multi_setopt");
    SYM(multi_socket_action, "curl_multi_socket_action");
    SYM(multi_assign, "curl_multi_assign");
    SYM(multi_info_read, "curl_multi_info_read");
    SYM(multi_add_handle, "curl_multi_add_handle");
    SYM(multi_remove_handle, "curl_multi_remove_handle");
    SYM(multi_cleanup, "curl_multi_cleanup");
    SYM(easy_init, "curl_easy_init");
    SYM(easy_setopt, "curl_easy_setopt");
    SYM(easy_getinfo, "curl_easy_getinfo");
    SYM(easy_cleanup, "curl_easy_cleanup");
    SYM(easy_strerror, "curl_easy_strerror");
    SYM(slist_append, "curl_slist_append");
    SYM(slist_free_all, "curl_slist_free_all");
#undef SYM
    if (C.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(C.error, sizeof C.error, "libcurl failed to initialise");
        C.loaded = -1;
        return 0;
    }
    C.loaded = 1;
    return 1;
}

/* ---- the multi handle of a Lua state, on the host's loop ---- */

typedef struct Http {
    lua_State *L;               /* the main thread: callbacks run there */
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t *timer;          /* malloc'd: freed by its close callback, after the state is gone */
    int in_flight;
} Http;

typedef struct Sock {
    uv_poll_t poll;
    curl_socket_t fd;
    Http *http;
} Sock;

typedef struct Req {
    Http *http;
    CURL *easy;
    struct curl_slist *headers;
    char *body; size_t n, cap;          /* response body (when no on_chunk) */
    char *head; size_t hn, hcap;        /* response header lines of the last response */
    int self_ref, done_ref, chunk_ref;  /* registry refs while in flight */
    int active;
    char *chunk_error;                  /* a Lua error from on_chunk, reported as the failure */
    char errbuf[CURL_ERROR_SIZE];
} Req;

static void http_check_done(Http *h);

static void sock_closed(uv_handle_t *handle) { free(handle->data); }

static void on_poll(uv_poll_t *poll, int status, int events) {
    Sock *s = poll->data;
    int flags = 0;
    if (status < 0) flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    int running;
    C.multi_socket_action(s->http->multi, s->fd, flags, &running);
    http_check_done(s->http);
}

static int on_socket(CURL *easy, curl_socket_t fd, int action, void *userp, void *socketp) {
    (void)easy;
    Http *h = userp;
    Sock *s = socketp;
    if (action == CURL_POLL_REMOVE) {
        if (s) {
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, sock_closed);
            C.multi_assign(h->multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = malloc(sizeof *s);
        if (!s) return -1;
        s->fd = fd;
        s->http = h;
        if (uv_poll_init_socket(h->loop, &s->poll, fd) != 0) { free(s); return -1; }
        s->poll.data = s;
        C.multi_assign(h->multi, fd, s);
    }
    int events = 0;
    if (action & CURL_POLL_IN) events |= UV_READABLE;
    if (action & CURL_POLL_OUT) events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, on_poll);
    return 0;
}

static void on_timer(uv_timer_t *t) {
    Http *h = t->data;
    int running;
    C.multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    http_check_done(h);
}

static int on_timer_set(CURLM *multi, long ms, void *userp) {
    (void)multi;
    Http *h = userp;
    if (ms < 0) uv_timer_stop(h->timer);
    else uv_timer_start(h->timer, on_timer, (uint64_t)(ms == 0 ? 1 : ms), 0);
    return 0;
}

static void timer_closed(uv_handle_t *handle) { free(handle); }

/* Stops everything: curl closes its sockets (their polls close), the timer
 * closes. Requests still open stay finished, their callbacks never called. */
static void http_stop(Http *h) {
    if (h->multi) { C.multi_cleanup(h->multi); h->multi = NULL; }
    if (h->timer) { uv_close((uv_handle_t *)h->timer, timer_closed); h->timer = NULL; }
}

static int http_state_gc(lua_State *L) {
    http_stop(lua_touserdata(L, 1));
    return 0;
}

/* The state's Http, made on the first request. */
static Http *http_get(lua_State *L) {
    if (lua_getfield(L, LUA_REGISTRYINDEX, HTTP_STATE_KEY) == LUA_TUSERDATA) {
        Http *h = lua_touserdata(L, -1);
        lua_pop(L, 1);
        return h;
    }
    lua_pop(L, 1);
    if (!http_load()) luaL_error(L, "%s", C.error);
    Http *h = lua_newuserdatauv(L, sizeof *h, 0);
    memset(h, 0, sizeof *h);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, http_state_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, HTTP_STATE_KEY);
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    h->L = lua_tothread(L, -1);
    lua_pop(L, 1);
    h->loop = &host_of(L)->loop;
    h->timer = malloc(sizeof *h->timer);
    if (!h->timer) luaL_error(L, "out of memory");
    uv_timer_init(h->loop, h->timer);
    h->timer->data = h;
    h->multi = C.multi_init();
    if (!h->multi) luaL_error(L, "libcurl could not start");
    C.multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    C.multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    C.multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
    C.multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    /* Connections are kept for the next fan-out. curl's default cache is 4x
     * the transfers in progress, so it shrinks as a burst drains: against a
     * keep-alive HTTP/1.1 server over TLS on loopback, each later burst of 200
     * calls redid ~50 handshakes (0.25 ms CPU per call instead of 0.05). */
    C.multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, 256L);
    /* HTTP/2 streams per connection (curl's default is 100; the server's own
     * limit still applies): a fan-out shares one connection (see PIPEWAIT). */
    C.multi_setopt(h->multi, CURLMOPT_MAX_CONCURRENT_STREAMS, 256L);
    return h;
}

/* ---- requests ---- */

static int grow_buf(char **buf, size_t *cap, size_t need) {
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 4096;
    while (nc < need) nc *= 2;
    char *nb = realloc(*buf, nc);
    if (!nb) return -1;
    *buf = nb;
    *cap = nc;
    return 0;
}

/* Frees what the request owns; it stays a valid, finished userdata. */
static void req_release(lua_State *L, Req *r) {
    if (r->easy) {
        if (r->active) {
            if (r->http->multi) C.multi_remove_handle(r->http->multi, r->easy);
            r->http->in_flight--;
        }
        C.easy_cleanup(r->easy);
        r->easy = NULL;
    }
    r->active = 0;
    if (r->headers) { C.slist_free_all(r->headers); r->headers = NULL; }
    free(r->body); r->body = NULL; r->n = r->cap = 0;
    free(r->head); r->head = NULL; r->hn = r->hcap = 0;
    free(r->chunk_error); r->chunk_error = NULL;
    luaL_unref(L, LUA_REGISTRYINDEX, r->done_ref); r->done_ref = LUA_NOREF;
    luaL_unref(L, LUA_REGISTRYINDEX, r->chunk_ref); r->chunk_ref = LUA_NOREF;
    luaL_unref(L, LUA_REGISTRYINDEX, r->self_ref); r->self_ref = LUA_NOREF;
}

static int req_gc(lua_State *L) {
    Req *r = luaL_checkudata(L, 1, HTTP_MT);
    req_release(L, r);
    return 0;
}

/* request:cancel(): stops it; its callback is never called. Safe to repeat. */
static int req_cancel(lua_State *L) {
    Req *r = luaL_checkudata(L, 1, HTTP_MT);
    req_release(L, r);
    return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp) {
    Req *r = userp;
    size_t n = size * nmemb;
    if (r->chunk_ref != LUA_NOREF) {
        lua_State *L = r->http->L;
        lua_rawgeti(L, LUA_REGISTRYINDEX, r->chunk_ref);
        lua_pushlstring(L, data, n);
        if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
            const char *msg = lua_tostring(L, -1);
            free(r->chunk_error);
            r->chunk_error = strdup(msg ? msg : "error in on_chunk");
            lua_pop(L, 1);
            return 0;                   /* curl stops the transfer */
        }
        return n;
    }
    if (grow_buf(&r->body, &r->cap, r->n + n)) return 0;
    memcpy(r->body + r->n, data, n);
    r->n += n;
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp) {
    Req *r = userp;
    size_t n = size * nmemb;
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) r->hn = 0;   /* a new response (after 100 Continue...) */
    if (grow_buf(&r->head, &r->hcap, r->hn + n)) return 0;
    memcpy(r->head + r->hn, data, n);
    r->hn += n;
    return n;
}

/* Header lines to a table of lower-cased names; repeated names join with ", ". */
static void push_headers(lua_State *L, const char *s, size_t n) {
    lua_newtable(L);
    size_t i = 0;
    while (i < n) {
        const char *eol = memchr(s + i, '\n', n - i);
        size_t end = eol ? (size_t)(eol - s) : n;
        size_t line_end = end;
        while (line_end > i && (s[line_end - 1] == '\r' || s[line_end - 1] == ' ')) line_end--;
        const char *colon = memchr(s + i, ':', line_end - i);
        if (colon) {
            luaL_Buffer name;
            luaL_buffinit(L, &name);
            for (const char *p = s + i; p < colon; p++) luaL_addchar(&name, (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p));
            luaL_pushresult(&name);
            const char *v = colon + 1;
            while (v < s + line_end && (*v == ' ' || *v == '\t')) v++;
            lua_pushvalue(L, -1);
            if (lua_rawget(L, -3) == LUA_TSTRING) {
                lua_pushliteral(L, ", ");
                lua_pushlstring(L, v, (size_t)(s + line_end - v));
                lua_concat(L, 3);
            } else {
                lua_pop(L, 1);
                lua_pushlstring(L, v, (size_t)(s + line_end - v));
            }
            lua_rawset(L, -3);
        }
        i = end + 1;
    }
}

/* Finished transfers call their callback: (status, headers, body) or
 * (nil, message, curl error code). */
static void http_check_done(Http *h) {
    lua_State *L = h->L;
    CURLMsg *msg;
    int left;
    while ((msg = C.multi_info_read(h->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        Req *r = NULL;
        C.easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        if (!r) continue;
        CURLcode rc = msg->data.result;
        int top = lua_gettop(L);
        lua_rawgeti(L, LUA_REGISTRYINDEX, r->self_ref);      /* keep it alive through the call */
        lua_rawgeti(L, LUA_REGISTRYINDEX, r->done_ref);
        int nargs;
        if (rc == CURLE_OK) {
            long status = 0;
            C.easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
            lua_pushinteger(L, status);
            push_headers(L, r->head, r->hn);
            lua_pushlstring(L, r->body ? r->body : "", r->n);
            nargs = 3;
        } else {
            lua_pushnil(L);
            if (r->chunk_error) lua_pushstring(L, r->chunk_error);
            else lua_pushstring(L, r->errbuf[0] ? r->errbuf : C.easy_strerror(rc));
            lua_pushinteger(L, rc);
            nargs = 3;
        }
        req_release(L, r);                                    /* before the call: it may start another */
        if (lua_pcall(L, nargs, 0, 0) != LUA_OK) {
            fprintf(stderr, "candor: error in an HTTP callback: %s\n", lua_tostring(L, -1));
            host_of(L)->callback_errors++;
        }
        lua_settop(L, top);
    }
}

static void add_header(lua_State *L, Req *r, const char *line) {
    struct curl_slist *n = C.slist_append(r->headers, line);
    if (!n) luaL_error(L, "out of memory");
    r->headers = n;
}

/* start({method, url, headers, body, timeout_ms, connect_timeout_ms, on_chunk}, done) -> request */
static int http_start(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    Http *h = http_get(L);
    if (!h->multi) return luaL_error(L, "HTTP is shut down");
    Req *r = lua_newuserdatauv(L, sizeof *r, 0);           /* the owner first */
    memset(r, 0, sizeof *r);
    r->self_ref = r->done_ref = r->chunk_ref = LUA_NOREF;
    r->http = h;
    luaL_setmetatable(L, HTTP_MT);
    int self = lua_gettop(L);
    r->easy = C.easy_init();
    if (!r->easy) return luaL_error(L, "libcurl could not make a request");
    CURL *e = r->easy;
    if (lua_getfield(L, 1, "url") != LUA_TSTRING) return luaL_error(L, "request needs a url");
    const char *url = lua_tostring(L, -1);
    C.easy_setopt(e, CURLOPT_URL, url);
    /* Over TLS, wait for a connection being opened to say (ALPN) whether it
     * multiplexes: 200 calls started at once then take one HTTP/2 connection,
     * not 200 handshakes (on loopback: 0.09 ms CPU per call instead of 0.8,
     * wall 135 ms instead of 265 at 100 ms latency). Not for plain http://,
     * where curl speaks HTTP/1.1 and waiting serialised the calls behind each
     * response (bench/llm.lua: 20 s instead of 0.13). */
    if (strncasecmp(url, "https://", 8) == 0) C.easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    lua_pop(L, 1);
    lua_getfield(L, 1, "method");
    const char *method = luaL_optstring(L, -1, "GET");
    if (strcmp(method, "GET") != 0) C.easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    lua_pop(L, 1);
    if (lua_getfield(L, 1, "body") == LUA_TSTRING) {
        size_t len;
        const char *body = lua_tolstring(L, -1, &len);
        C.easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        C.easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body);
        if (strcmp(method, "GET") == 0) C.easy_setopt(e, CURLOPT_CUSTOMREQUEST, "POST");
    } else if (!lua_isnil(L, -1)) {
        return luaL_error(L, "request body must be a string");
    }
    lua_pop(L, 1);
    if (lua_getfield(L, 1, "headers") == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            if (lua_type(L, -2) == LUA_TSTRING) {
                /* one push at a time: argument order is unspecified in C */
                const char *value = luaL_tolstring(L, -1, NULL);     /* key, value, value string */
                const char *name = lua_tostring(L, -3);
                lua_pushfstring(L, "%s: %s", name, value);
                add_header(L, r, lua_tostring(L, -1));
                lua_pop(L, 2);
            } else {
                add_header(L, r, luaL_tolstring(L, -1, NULL));   /* "Name: value" */
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    add_header(L, r, "Expect:");                           /* no 100-continue round trip */
    C.easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    lua_getfield(L, 1, "timeout_ms");
    C.easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)luaL_optinteger(L, -1, 0));
    lua_getfield(L, 1, "connect_timeout_ms");
    C.easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)luaL_optinteger(L, -1, 10000));
    lua_pop(L, 2);
    if (lua_getfield(L, 1, "on_chunk") == LUA_TFUNCTION) r->chunk_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    else lua_pop(L, 1);
    C.easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    C.easy_setopt(e, CURLOPT_WRITEDATA, r);
    C.easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    C.easy_setopt(e, CURLOPT_HEADERDATA, r);
    C.easy_setopt(e, CURLOPT_PRIVATE, (char *)r);
    C.easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    C.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    C.easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");       /* whatever curl can decode */
    lua_pushvalue(L, 2);
    r->done_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, self);
    r->self_ref = luaL_ref(L, LUA_REGISTRYINDEX);          /* alive while in flight */
    if (C.multi_add_handle(h->multi, e) != CURLM_OK) {
        req_release(L, r);
        return luaL_error(L, "libcurl refused the request");
    }
    r->active = 1;
    h->in_flight++;
    lua_settop(L, self);
    return 1;
}

/* shutdown(): the host calls this before closing the loop (see host_close). */
static int http_shutdown(lua_State *L) {
    if (lua_getfield(L, LUA_REGISTRYINDEX, HTTP_STATE_KEY) == LUA_TUSERDATA) http_stop(lua_touserdata(L, -1));
    return 0;
}

/* available() -> true | false, why: whether libcurl can be loaded */
static int http_available(lua_State *L) {
    if (http_load()) { lua_pushboolean(L, 1); return 1; }
    lua_pushboolean(L, 0);
    lua_pushstring(L, C.error);
    return 2;
}

/* in_flight() -> requests started and not finished */
static int http_in_flight(lua_State *L) {
    if (lua_getfield(L, LUA_REGISTRYINDEX, HTTP_STATE_KEY) != LUA_TUSERDATA) { lua_pushinteger(L, 0); return 1; }
    lua_pushinteger(L, ((Http *)lua_touserdata(L, -1))->in_flight);
    return 1;
}

static const luaL_Reg req_methods[] = {
    {"cancel", req_cancel},
    {NULL, NULL}
};

static const luaL_Reg http_funcs[] = {
    {"start", http_start},
    {"available", http_available},
    {"in_flight", http_in_flight},
    {"shutdown", http_shutdown},
    {NULL, NULL}
};

int luaopen_core_http(lua_State *L) {
    luaL_newmetatable(L, HTTP_MT);
    luaL_newlib(L, req_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, req_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, req_gc);
    lua_setfield(L, -2, "__close");
    lua_pop(L, 1);
    luaL_newlib(L, http_funcs);
    return 1;
}
