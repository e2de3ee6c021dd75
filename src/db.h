/* db.h: core.db, SQLite for Lua. */
#ifndef CANDOR_DB_H
#define CANDOR_DB_H
#include <lua.h>
int luaopen_core_db(lua_State *L);
#endif
