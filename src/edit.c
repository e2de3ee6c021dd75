/* edit.c: core.edit, libedit line editing and history for the REPL. */
#include "edit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <editline/readline.h>
#include <lauxlib.h>

/* readline(prompt) -> line, or nil at end of input */
static int edit_readline(lua_State *L) {
    const char *prompt = luaL_optstring(L, 1, "> ");
    char *line = readline(prompt);
    if (!line) return 0;
    lua_pushstring(L, line);
    free(line);
    return 1;
}

static int edit_add_history(lua_State *L) {
    const char *line = luaL_checkstring(L, 1);
    if (*line) add_history(line);
    return 0;
}

/* load_history(path) -> true; a missing or unreadable file just means no history yet */
static int edit_load_history(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    FILE *f = fopen(path, "r");
    if (!f) { lua_pushboolean(L, 1); return 1; }
    fclose(f);
    read_history(path);
    lua_pushboolean(L, 1);
    return 1;
}

/* save_history(path [, max_lines]) -> true | nil, message */
static int edit_save_history(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    lua_Integer max = luaL_optinteger(L, 2, 1000);
    stifle_history((int)max);
    if (write_history(path) != 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "cannot write history to %s", path);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static const luaL_Reg edit_funcs[] = {
    {"readline", edit_readline},
    {"add_history", edit_add_history},
    {"load_history", edit_load_history},
    {"save_history", edit_save_history},
    {NULL, NULL}
};

int luaopen_core_edit(lua_State *L) {
    luaL_newlib(L, edit_funcs);
    return 1;
}
