/* host.h: the Candor host: one libuv loop, one Lua state, search path and limits. */
#ifndef CANDOR_HOST_H
#define CANDOR_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include <lua.h>

typedef struct HostLimit HostLimit;

typedef struct Host {
    lua_State *L;
    uv_loop_t loop;
    size_t mem_used, mem_peak, mem_limit; /* bytes; mem_limit 0 = none */
    HostLimit *active_limit;              /* limit of the task being resumed */
    char *root;                           /* built-in lua/, workflows/, prompts/ live here */
    unsigned long callback_errors;        /* Lua errors raised in luv callbacks */
} Host;

/* Creates the loop and the Lua state; returns 0, or -1 with a message in err. */
int host_init(Host *h, char *err, size_t errlen);
void host_close(Host *h);
/* Host of a Lua state (every thread of it). */
Host *host_of(lua_State *L);
/* Message handler that appends a traceback; usable with lua_pcall. */
int host_traceback(lua_State *L);

int luaopen_core_host(lua_State *L);

#endif
