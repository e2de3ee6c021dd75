/* coretime.h: the core.time Lua module (local time in any IANA zone <-> UTC).
   Not named time.h: the C tests build with -Isrc, where it would hide <time.h>. */
#ifndef CANDOR_CORETIME_H
#define CANDOR_CORETIME_H

#include <lua.h>

/* Opens core.time and leaves its table on the stack. */
int luaopen_core_time(lua_State *L);

#endif
