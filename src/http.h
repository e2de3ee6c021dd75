/* http.h: core.http, HTTP requests on the host's loop (libcurl multi, loaded on first use). */
#ifndef CANDOR_HTTP_H
#define CANDOR_HTTP_H
#include <lua.h>
int luaopen_core_http(lua_State *L);
#endif
