/* edit.h: core.edit, line editing and history for the REPL (libedit). */
#ifndef CANDOR_EDIT_H
#define CANDOR_EDIT_H
#include <lua.h>
int luaopen_core_edit(lua_State *L);
#endif
