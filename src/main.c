/* main.c: the candor command: starts the host and hands argv to the Lua CLI. */
#include "host.h"

#include <stdio.h>
#include <stdlib.h>
#include <lauxlib.h>

/* Runs candor.cli.main.main(argv) and returns its exit code. */
static int main_run(lua_State *L) {
    int argc = (int)lua_tointeger(L, 1);
    char **argv = lua_touserdata(L, 2);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "candor.cli.main");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "main");
    lua_createtable(L, argc, 0);
    for (int i = 1; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i);
    }
    lua_call(L, 1, 1);
    return 1;
}

int main(int argc, char **argv) {
    Host host;
    char err[512];
    if (host_init(&host, err, sizeof err) != 0) {
        fprintf(stderr, "candor: %s\n", err);
        return 1;
    }
    lua_State *L = host.L;
    lua_pushcfunction(L, host_traceback);
    lua_pushcfunction(L, main_run);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    int code;
    if (lua_pcall(L, 2, 1, 1) != LUA_OK) {
        /* The CLI reports its own errors; reaching here means it could not even start. */
        const char *msg = lua_tostring(L, -1);
        fprintf(stderr, "candor: %s\n", msg ? msg : "unknown error");
        code = 1;
    } else {
        code = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : 0;
    }
    fflush(stdout);
    host_close(&host);
    return code;
}
