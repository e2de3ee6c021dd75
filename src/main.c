/* main.c: the candor command: starts the host and hands argv to the Lua CLI. */
#include "host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lauxlib.h>

/* Opens /dev/null on any of fds 0, 1 and 2 that is closed, as daemons do: else
 * the next file, socket or pipe opened takes that number, output meant for
 * stdout or stderr lands in it, and libuv aborts when it closes such a descriptor.
 * -> 0, or -1 when one could not be opened. */
static int main_open_standard_fds(void) {
    for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
        if (fcntl(fd, F_GETFD) != -1) continue;
        /* open takes the lowest free number: fd itself, as every lower one is open by now */
        if (open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY) != fd) return -1;
    }
    return 0;
}

/* Closes standard output -> 0, or the errno of output that was lost: the CLI
 * checks its own writes and the last flush, but not a write made straight to
 * the stream elsewhere (whose failure leaves only the error flag) or the close. */
static int main_close_stdout(void) {
    int failed_before = ferror(stdout);
    errno = 0;
    if (fclose(stdout) != 0 || failed_before) return errno ? errno : EIO;
    return 0;
}

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
    if (main_open_standard_fds() != 0) return 1;   /* nowhere to say why */
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
    host_close(&host);
    int lost = main_close_stdout();
    if (lost && code == 0) {   /* a failing command has said what went wrong already */
        if (lost != EPIPE) fprintf(stderr, "candor: cannot write standard output: %s\n", strerror(lost));
        code = 1;
    }
    return code;
}
