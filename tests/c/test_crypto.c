/* test_crypto.c: unit tests for core.crypto against published test vectors. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "crypto.h"
#include "test.h"

static lua_State *L;

/* Runs a chunk and leaves its results on the stack; 1 on success. */
static int run (const char *code) {
  lua_settop(L, 0);
  if (luaL_loadstring(L, code) != LUA_OK
      || lua_pcall(L, 0, LUA_MULTRET, 0) != LUA_OK) {
    fprintf(stderr, "   lua error: %s\n", lua_tostring(L, -1));
    return 0;
  }
  return 1;
}

/* The first value a chunk returns, as a string (NULL on error or non-string). */
static const char *eval (const char *code) {
  return run(code) ? lua_tostring(L, 1) : NULL;
}

/* A chunk that must return true (and may return a reason as a second value). */
#define CHECK_TRUE(code) do { \
    int ok_ = run(code) && lua_toboolean(L, 1); \
    if (!ok_) fprintf(stderr, "   not true: %s\n", code); \
    CHECK(ok_); } while (0)

/* The error message a chunk raises, or NULL when it does not raise. */
static const char *raises (const char *code) {
  lua_settop(L, 0);
  if (luaL_loadstring(L, code) != LUA_OK)
    return "(syntax error in test)";
  if (lua_pcall(L, 0, 0, 0) == LUA_OK)
    return NULL;
  return lua_tostring(L, -1);
}

#define CHECK_RAISES(code, part) do { \
    const char *m_ = raises(code); \
    int ok_ = m_ != NULL && strstr(m_, part) != NULL; \
    if (!ok_) fprintf(stderr, "   %s\n   raised: %s\n   wanted: ...%s...\n", \
                      code, m_ ? m_ : "(nothing)", part); \
    CHECK(ok_); } while (0)


/* FIPS 180-2 appendix B examples. */
static void test_sha256_fips (void) {
  CHECK_STR(eval("return crypto.sha256('')"),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK_STR(eval("return crypto.sha256('abc')"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK_STR(eval("return crypto.sha256("
                 "'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK_STR(eval("return crypto.sha256(string.rep('a', 1000000))"),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_sha256_raw (void) {
  CHECK_TRUE("return #crypto.sha256_raw('abc') == 32");
  CHECK_STR(eval("return crypto.hex(crypto.sha256_raw('abc'))"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  /* bytes are hashed as they are: an embedded NUL counts */
  CHECK_TRUE("return crypto.sha256('a\\0b') ~= crypto.sha256('a')");
}

/* RFC 4231 section 4, HMAC-SHA-256. */
static void test_hmac_rfc4231 (void) {
  CHECK_STR(eval("return crypto.hmac_sha256(string.rep('\\x0b', 20), 'Hi There')"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK_STR(eval("return crypto.hmac_sha256('Jefe', 'what do ya want for nothing?')"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK_STR(eval("return crypto.hmac_sha256(string.rep('\\xaa', 20), string.rep('\\xdd', 50))"),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  CHECK_STR(eval("return crypto.hmac_sha256("
                 "unhex('0102030405060708090a0b0c0d0e0f10111213141516171819'),"
                 "string.rep('\\xcd', 50))"),
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  /* case 5 publishes only the first 128 bits */
  CHECK_STR(eval("return crypto.hmac_sha256(string.rep('\\x0c', 20),"
                 "'Test With Truncation'):sub(1, 32)"),
            "a3b6167473100ee06e0c796c2955552b");
  CHECK_STR(eval("return crypto.hmac_sha256(string.rep('\\xaa', 131),"
                 "'Test Using Larger Than Block-Size Key - Hash Key First')"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  CHECK_STR(eval("return crypto.hmac_sha256(string.rep('\\xaa', 131),"
                 "'This is a test using a larger than block-size key and a larger "
                 "than block-size data. The key needs to be hashed before being "
                 "used by the HMAC algorithm.')"),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

static void test_hmac_raw (void) {
  CHECK_TRUE("local r = crypto.hmac_sha256_raw('Jefe', 'what do ya want for nothing?')"
             " return #r == 32 and crypto.hex(r) =="
             " crypto.hmac_sha256('Jefe', 'what do ya want for nothing?')");
  /* an empty key is a valid key */
  CHECK_TRUE("return #crypto.hmac_sha256('', '') == 64");
}

static void test_hex (void) {
  CHECK_STR(eval("return crypto.hex('')"), "");
  CHECK_STR(eval("return crypto.hex('\\0\\1\\x7f\\x80\\xff')"), "00017f80ff");
  CHECK_STR(eval("return crypto.hex('Candor')"), "43616e646f72");
  CHECK_TRUE("local s = string.rep('\\xab', 5000) return crypto.hex(s) == string.rep('ab', 5000)");
}

static void test_equal (void) {
  CHECK_TRUE("return crypto.equal('abc', 'abc') == true");
  CHECK_TRUE("return crypto.equal('', '') == true");
  CHECK_TRUE("return crypto.equal('abc', 'abd') == false");
  CHECK_TRUE("return crypto.equal('abc', 'ab') == false");
  CHECK_TRUE("return crypto.equal('a\\0b', 'a\\0c') == false");
  CHECK_TRUE("return crypto.equal('a\\0b', 'a\\0b') == true");
}

static void test_random_bytes (void) {
  CHECK_TRUE("return crypto.random_bytes(0) == ''");
  CHECK_TRUE("return #crypto.random_bytes(1) == 1");
  CHECK_TRUE("return #crypto.random_bytes(32) == 32");
  CHECK_TRUE("return #crypto.random_bytes(1048576) == 1048576");
  CHECK_TRUE("return crypto.random_bytes(32) ~= crypto.random_bytes(32)");
  /* a megabyte of OS randomness holds every byte value */
  CHECK_TRUE("local s, seen, n = crypto.random_bytes(1048576), {}, 0"
             " for i = 1, #s do local b = s:byte(i) if not seen[b] then seen[b] = true n = n + 1 end end"
             " return n == 256");
}

static void test_nanoid_default (void) {
  CHECK_TRUE("return #crypto.nanoid() == 21");
  CHECK_TRUE("return #crypto.nanoid(1) == 1 and #crypto.nanoid(1024) == 1024");
  /* 100k ids: right length, URL-safe alphabet, no repeats, and every one of
     the 64 characters about equally often (expected 32812 each, +-5% is
     about nine standard deviations, so a biased mapping shows). */
  CHECK_TRUE("local seen, count, n = {}, {}, 100000"
             " for i = 1, n do"
             "   local id = crypto.nanoid()"
             "   if #id ~= 21 or not id:match('^[%w_%-]+$') or seen[id] then return false end"
             "   seen[id] = true"
             "   for c in id:gmatch('.') do count[c] = (count[c] or 0) + 1 end"
             " end"
             " local kinds, want = 0, n * 21 / 64"
             " for c, k in pairs(count) do"
             "   kinds = kinds + 1"
             "   if math.abs(k - want) > want * 0.05 then return false, c end"
             " end"
             " return kinds == 64");
}

static void test_nanoid_custom (void) {
  CHECK_TRUE("local id = crypto.nanoid(10, 'abc') return #id == 10 and id:match('^[abc]+$') ~= nil");
  CHECK_TRUE("return crypto.nanoid(8, '01'):match('^[01]+$') ~= nil");
  /* 3 characters use a 2-bit mask and reject the fourth value: still uniform */
  CHECK_TRUE("local s, count = crypto.nanoid(1024, 'xyz') .. crypto.nanoid(1024, 'xyz'), {}"
             " for i = 1, 29 do s = s .. crypto.nanoid(1024, 'xyz') end"
             " for c in s:gmatch('.') do count[c] = (count[c] or 0) + 1 end"
             " local want = #s / 3"
             " for _, c in ipairs{'x', 'y', 'z'} do"
             "   if math.abs(count[c] - want) > want * 0.05 then return false end"
             " end return true");
  /* 255 distinct bytes, including NUL and high bytes */
  CHECK_TRUE("local t = {} for i = 0, 254 do t[#t + 1] = string.char(i) end"
             " local a = table.concat(t)"
             " local id = crypto.nanoid(1024, a)"
             " return #id == 1024 and not id:find('\\xff', 1, true)");
  /* nil alphabet means the default */
  CHECK_TRUE("return crypto.nanoid(30, nil):match('^[%w_%-]+$') ~= nil");
}

static void test_nanoid_misuse (void) {
  CHECK_RAISES("crypto.nanoid(0)", "size must be between 1 and 1024");
  CHECK_RAISES("crypto.nanoid(1025)", "size must be between 1 and 1024");
  CHECK_RAISES("crypto.nanoid('many')", "number expected");
  CHECK_RAISES("crypto.nanoid(2.5)", "number has no integer representation");
  CHECK_RAISES("crypto.nanoid(5, 'a')", "alphabet must have between 2 and 255");
  CHECK_RAISES("crypto.nanoid(5, string.rep('\\1', 256))", "alphabet must have between 2 and 255");
  CHECK_RAISES("crypto.nanoid(5, 'abca')", "alphabet repeats the character 'a'");
  CHECK_RAISES("crypto.nanoid(5, 'ab\\0c\\0')", "alphabet repeats the byte 0");
  CHECK_RAISES("crypto.nanoid(5, {})", "string expected");
}

/* A forked child must not hand out the ids its parent is about to. */
static void test_nanoid_fork (void) {
  int fd[2];
  pid_t pid;
  char child_id[22] = {0};
  const char *parent_id;
  int status = 0;
  CHECK(eval("return crypto.nanoid()") != NULL);   /* the pool is now full */
  CHECK(pipe(fd) == 0);
  fflush(NULL);
  pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    const char *id = eval("return crypto.nanoid()");
    ssize_t w = id ? write(fd[1], id, 21) : -1;
    _exit(w == 21 ? 0 : 1);
  }
  close(fd[1]);
  parent_id = eval("return crypto.nanoid()");
  CHECK(read(fd[0], child_id, 21) == 21);
  close(fd[0]);
  CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK(parent_id != NULL && strlen(child_id) == 21 && strcmp(parent_id, child_id) != 0);
}

static void test_nanoid_speed (void) {
  struct timespec t0, t1;
  double secs;
  int n = 1000000;
  CHECK(run("nanoid = crypto.nanoid"));
  clock_gettime(CLOCK_MONOTONIC, &t0);
  CHECK(run("local f = nanoid for i = 1, 1000000 do f() end"));
  clock_gettime(CLOCK_MONOTONIC, &t1);
  secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("crypto: nanoid() from Lua: %.2f million ids/s\n", n / secs / 1e6);
}

/* Openwall crypt_blowfish wrapper.c vectors; $2b$ equals $2a$ for these. */
static void test_bcrypt_vectors (void) {
  CHECK_TRUE("return crypto.bcrypt_verify('U*U',"
             " '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW')");
  CHECK_TRUE("return crypto.bcrypt_verify('U*U',"
             " '$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW')");
  CHECK_TRUE("return crypto.bcrypt_verify('U*U',"
             " '$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW')");
  CHECK_TRUE("return crypto.bcrypt_verify('U*U*',"
             " '$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK')");
  CHECK_TRUE("return crypto.bcrypt_verify('U*U*U',"
             " '$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a')");
  CHECK_TRUE("return crypto.bcrypt_verify('',"
             " '$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy')");
  /* exactly 72 bytes is the longest password bcrypt reads */
  CHECK_TRUE("return crypto.bcrypt_verify("
             "'0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',"
             " '$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui')");
  /* the published vector's longer password would match only by truncation:
     we refuse it rather than verify a password bcrypt never saw in full */
  CHECK_TRUE("local ok, why = crypto.bcrypt_verify("
             "'0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
             "chars after 72 are ignored',"
             " '$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui')"
             " return ok == false and why:find('72 bytes') ~= nil");
  /* wrong password: a plain false */
  CHECK_TRUE("local ok, why = crypto.bcrypt_verify('U*V',"
             " '$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW')"
             " return ok == false and why == nil");
  /* a NUL would cut the password short in crypt(3): never a match */
  CHECK_TRUE("local ok, why = crypto.bcrypt_verify('U*U\\0junk',"
             " '$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW')"
             " return ok == false and why:find('NUL') ~= nil");
}

static void test_bcrypt_malformed (void) {
  static const char *const bad[] = {
    "",
    "not a hash",
    "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe",     /* 59 chars */
    "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeWW",   /* 61 chars */
    "$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",    /* buggy variant */
    "$2b$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",    /* cost too low */
    "$2b$32$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",    /* cost too high */
    "$2b$5$CCCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
    "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe!",    /* not base64 */
    "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/xxxxxxxxxxxxxxxxxxxxxxxxxxxxx", /* MD5-crypt */
    "$6$rounds=5000$usesomesillystringforsalt$D4IrlXatmP7rx3P3InaxB",
    NULL
  };
  int i;
  for (i = 0; bad[i] != NULL; i++) {
    int ok;
    lua_settop(L, 0);
    lua_getglobal(L, "crypto");
    lua_getfield(L, -1, "bcrypt_verify");
    lua_pushliteral(L, "U*U");
    lua_pushstring(L, bad[i]);
    ok = lua_pcall(L, 2, 2, 0) == LUA_OK && lua_isboolean(L, -2) && !lua_toboolean(L, -2)
         && lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), "malformed bcrypt hash") == 0;
    if (!ok)
      fprintf(stderr, "   not reported malformed: \"%s\"\n", bad[i]);
    CHECK(ok);
  }
  /* an embedded NUL in the hash */
  CHECK_TRUE("local ok, why = crypto.bcrypt_verify('U*U',"
             " '$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyO\\0W')"
             " return ok == false and why == 'malformed bcrypt hash'");
}

static void test_bcrypt_roundtrip (void) {
  CHECK_TRUE("local h = crypto.bcrypt_hash('correct horse battery staple', 4)"
             " return #h == 60 and h:sub(1, 7) == '$2b$04$'"
             " and crypto.bcrypt_verify('correct horse battery staple', h) == true"
             " and crypto.bcrypt_verify('correct horse battery stapler', h) == false");
  /* a fresh salt each time */
  CHECK_TRUE("return crypto.bcrypt_hash('pw', 4) ~= crypto.bcrypt_hash('pw', 4)");
  /* 72 bytes and high bytes hash fine */
  CHECK_TRUE("local p = string.rep('\\xc3\\xa9', 36)"
             " return crypto.bcrypt_verify(p, crypto.bcrypt_hash(p, 4)) == true");
  CHECK_TRUE("return crypto.bcrypt_verify('', crypto.bcrypt_hash('', 4)) == true");
}

static void test_bcrypt_default_cost (void) {
  CHECK_TRUE("local h = crypto.bcrypt_hash('hunter2')"
             " return h:sub(1, 7) == '$2b$12$' and #h == 60");
}

static void test_bcrypt_misuse (void) {
  CHECK_RAISES("crypto.bcrypt_hash(string.rep('a', 73), 4)", "longer than 72 bytes");
  CHECK_RAISES("crypto.bcrypt_hash(string.rep('a', 73), 4)", "silently ignore");
  CHECK_RAISES("crypto.bcrypt_hash('a\\0b', 4)", "contains a NUL byte");
  CHECK_RAISES("crypto.bcrypt_hash('pw', 3)", "cost must be between 4 and 31");
  CHECK_RAISES("crypto.bcrypt_hash('pw', 32)", "cost must be between 4 and 31");
  CHECK_RAISES("crypto.bcrypt_hash()", "bad argument #1");
  CHECK_RAISES("crypto.bcrypt_verify(nil, 'x')", "bad argument #1");
  CHECK_RAISES("crypto.bcrypt_verify('pw')", "bad argument #2");
}

static void test_misuse (void) {
  CHECK_RAISES("crypto.sha256()", "bad argument #1");
  CHECK_RAISES("crypto.sha256({})", "string expected, got table");
  CHECK_RAISES("crypto.sha256_raw(nil)", "string expected, got nil");
  CHECK_RAISES("crypto.hmac_sha256('key')", "bad argument #2");
  CHECK_RAISES("crypto.hmac_sha256_raw(true, 'x')", "bad argument #1");
  CHECK_RAISES("crypto.hex()", "bad argument #1");
  CHECK_RAISES("crypto.equal('a')", "bad argument #2");
  CHECK_RAISES("crypto.random_bytes(-1)", "size must be between 0 and 1048576");
  CHECK_RAISES("crypto.random_bytes(1048577)", "size must be between 0 and 1048576");
  CHECK_RAISES("crypto.random_bytes('x')", "number expected");
}


/* A finalizer that runs after the pool's own, while the state closes, gets
   an error instead of touching unmapped memory. */
static char closing_msg[256];

static int record (lua_State *l) {
  snprintf(closing_msg, sizeof closing_msg, "%s", luaL_optstring(l, 1, "(no message)"));
  return 0;
}

static void test_pool_after_close (void) {
  lua_State *l = luaL_newstate();
  luaL_openlibs(l);
  lua_register(l, "record", record);
  closing_msg[0] = '\0';
  /* marked for finalization before the pool exists, so finalized after it */
  CHECK(luaL_dostring(l, "guard = setmetatable({}, {__gc = function()"
                         " local ok, err = pcall(late_nanoid)"
                         " record(ok and 'no error' or err) end})") == LUA_OK);
  luaL_requiref(l, "core.crypto", luaopen_core_crypto, 0);
  lua_getfield(l, -1, "nanoid");
  lua_setglobal(l, "late_nanoid");
  lua_pop(l, 1);
  CHECK(luaL_dostring(l, "assert(#late_nanoid() == 21)") == LUA_OK);
  lua_close(l);
  if (strstr(closing_msg, "random pool is closed") == NULL)
    fprintf(stderr, "   finalizer saw: %s\n", closing_msg);
  CHECK(strstr(closing_msg, "random pool is closed") != NULL);
}


int main (void) {
  L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "core.crypto", luaopen_core_crypto, 0);
  lua_setglobal(L, "crypto");
  if (!run("function unhex(s) return (s:gsub('..', function(h)"
           " return string.char(tonumber(h, 16)) end)) end")) {
    lua_close(L);
    return 1;
  }
  RUN(test_sha256_fips);
  RUN(test_sha256_raw);
  RUN(test_hmac_rfc4231);
  RUN(test_hmac_raw);
  RUN(test_hex);
  RUN(test_equal);
  RUN(test_random_bytes);
  RUN(test_nanoid_default);
  RUN(test_nanoid_custom);
  RUN(test_nanoid_misuse);
  RUN(test_nanoid_fork);
  RUN(test_nanoid_speed);
  RUN(test_bcrypt_vectors);
  RUN(test_bcrypt_malformed);
  RUN(test_bcrypt_roundtrip);
  RUN(test_bcrypt_default_cost);
  RUN(test_bcrypt_misuse);
  RUN(test_misuse);
  RUN(test_pool_after_close);
  lua_close(L);
  return TEST_SUMMARY("crypto");
}
