/* crypto.h: the core.crypto Lua module (hashes, HMAC, random ids, bcrypt). */
#ifndef CANDOR_CRYPTO_H
#define CANDOR_CRYPTO_H

#include <lua.h>

/* Opens core.crypto and leaves its table on the stack; register it with
   luaL_requiref(L, "core.crypto", luaopen_core_crypto, 0). */
int luaopen_core_crypto(lua_State *L);

#endif
