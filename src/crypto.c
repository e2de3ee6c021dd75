/* crypto.c: the core.crypto module: SHA-256, HMAC, constant-time compare, OS randomness, nanoid, bcrypt. */
#include "crypto.h"

#include <crypt.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/types.h>
#include <unistd.h>

#include <lauxlib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define CRYPTO_SHA256_LEN   32
#define CRYPTO_RANDOM_MAX   (1024 * 1024)   /* largest random_bytes(n) */
#define CRYPTO_NANOID_SIZE  21
#define CRYPTO_NANOID_MAX   1024
#define CRYPTO_BCRYPT_COST  12
#define CRYPTO_BCRYPT_MAXPW 72              /* bcrypt ignores bytes past this */
#define CRYPTO_BCRYPT_LEN   60              /* "$2b$" cost "$" salt(22) hash(31) */
#define CRYPTO_POOL         "core.crypto.pool"

/* nanoid's default alphabet: 64 URL-safe characters, so a 6-bit mask is unbiased. */
static const char crypto_urlalphabet[] =
    "_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";


/*
** {======================================================
** OS randomness and the nanoid pool
** =======================================================
*/

/* Random bytes not yet handed out, consumed from the end. The page is mapped
   with MADV_WIPEONFORK, so a forked child finds it zeroed (avail == 0) and
   refills instead of repeating its parent's ids. */
struct crypto_page {
  size_t avail;
  unsigned char bytes[16384 - sizeof(size_t)];
};

typedef struct crypto_Pool {
  struct crypto_page *page;   /* NULL once collected */
  pid_t filler;               /* process that filled the page (check_pid only) */
  int check_pid;              /* the kernel cannot wipe on fork: compare pids */
} crypto_Pool;


/* Fills buf with n bytes from getrandom(2); returns 0 or an errno value. */
static int crypto_fill (void *buf, size_t n) {
  unsigned char *p = buf;
  while (n > 0) {
    ssize_t got = getrandom(p, n, 0);
    if (got < 0) {
      if (errno == EINTR)
        continue;
      return errno;
    }
    p += got;
    n -= (size_t)got;
  }
  return 0;
}


static void crypto_refill (lua_State *L, crypto_Pool *pool) {
  struct crypto_page *pg = pool->page;
  int err = crypto_fill(pg->bytes, sizeof pg->bytes);
  if (err != 0) {
    pg->avail = 0;
    luaL_error(L, "core.crypto: cannot read random bytes from the OS: %s",
               strerror(err));
  }
  pg->avail = sizeof pg->bytes;
  if (pool->check_pid)
    pool->filler = getpid();
}


static crypto_Pool *crypto_getpool (lua_State *L) {
  crypto_Pool *pool = (crypto_Pool *)lua_touserdata(L, lua_upvalueindex(1));
  if (pool == NULL || pool->page == NULL)
    luaL_error(L, "core.crypto: the random pool is closed (Lua state is closing)");
  if (pool->check_pid && pool->filler != getpid())
    pool->page->avail = 0;
  return pool;
}


static int crypto_pool_gc (lua_State *L) {
  crypto_Pool *pool = (crypto_Pool *)luaL_checkudata(L, 1, CRYPTO_POOL);
  if (pool->page != NULL) {
    munmap(pool->page, sizeof *pool->page);
    pool->page = NULL;
  }
  return 0;
}


/* Pushes a new pool: the userdata exists before the mapping it owns. */
static void crypto_newpool (lua_State *L) {
  crypto_Pool *pool = (crypto_Pool *)lua_newuserdatauv(L, sizeof *pool, 0);
  void *page;
  pool->page = NULL;
  pool->filler = 0;
  pool->check_pid = 0;
  if (luaL_newmetatable(L, CRYPTO_POOL)) {
    lua_pushcfunction(L, crypto_pool_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  page = mmap(NULL, sizeof(struct crypto_page), PROT_READ | PROT_WRITE,
              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED)
    luaL_error(L, "core.crypto: cannot map the random pool: %s", strerror(errno));
  pool->page = (struct crypto_page *)page;   /* zero-filled: avail == 0 */
#ifdef MADV_WIPEONFORK
  if (madvise(page, sizeof(struct crypto_page), MADV_WIPEONFORK) != 0)
    pool->check_pid = 1;
#else
  pool->check_pid = 1;
#endif
#ifdef MADV_DONTDUMP
  (void)madvise(page, sizeof(struct crypto_page), MADV_DONTDUMP);
#endif
}


static int crypto_random_bytes (lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_Buffer b;
  char *p;
  int err;
  luaL_argcheck(L, 0 <= n && n <= CRYPTO_RANDOM_MAX, 1,
                "size must be between 0 and 1048576");
  p = luaL_buffinitsize(L, &b, (size_t)n);
  err = crypto_fill(p, (size_t)n);
  if (err != 0)
    return luaL_error(L, "random_bytes: cannot read random bytes from the OS: %s",
                      strerror(err));
  luaL_pushresultsize(&b, (size_t)n);
  return 1;
}


/* Checks a custom alphabet (2..255 distinct bytes); returns its mask. */
static unsigned crypto_checkalphabet (lua_State *L, int arg,
                                      const char *alpha, size_t len) {
  unsigned char seen[256];
  unsigned mask = 1;
  size_t i;
  luaL_argcheck(L, 2 <= len && len <= 255, arg,
                "alphabet must have between 2 and 255 characters");
  memset(seen, 0, sizeof seen);
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)alpha[i];
    if (seen[c] && c > ' ' && c < 0x7f)
      luaL_argerror(L, arg, lua_pushfstring(L,
                    "alphabet repeats the character '%c'", (int)c));
    if (seen[c])
      luaL_argerror(L, arg, lua_pushfstring(L,
                    "alphabet repeats the byte %d", (int)c));
    seen[c] = 1;
  }
  while (mask < len - 1)
    mask = (mask << 1) | 1;
  return mask;
}


/* A byte masked to the alphabet's bit width picks a character; a value past
   the alphabet is rejected, so every character is equally likely. */
static int crypto_nanoid (lua_State *L) {
  crypto_Pool *pool = crypto_getpool(L);
  lua_Integer size = luaL_optinteger(L, 1, CRYPTO_NANOID_SIZE);
  size_t len = sizeof crypto_urlalphabet - 1;
  const char *alpha = luaL_optlstring(L, 2, NULL, &len);
  unsigned mask = 63;
  struct crypto_page *pg = pool->page;
  luaL_Buffer b;
  char *out;
  lua_Integer i = 0;
  luaL_argcheck(L, 1 <= size && size <= CRYPTO_NANOID_MAX, 1,
                "size must be between 1 and 1024");
  if (alpha == NULL) {
    alpha = crypto_urlalphabet;
    len = sizeof crypto_urlalphabet - 1;
  }
  else
    mask = crypto_checkalphabet(L, 2, alpha, len);
  out = luaL_buffinitsize(L, &b, (size_t)size);
  while (i < size) {
    unsigned idx;
    if (pg->avail == 0)
      crypto_refill(L, pool);
    idx = pg->bytes[--pg->avail] & mask;
    if (idx < len)
      out[i++] = alpha[idx];
  }
  luaL_pushresultsize(&b, (size_t)size);
  return 1;
}

/* }====================================================== */


/*
** {======================================================
** Digests, MACs, encoding, comparison
** =======================================================
*/

static void crypto_pushhex (lua_State *L, const unsigned char *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  luaL_Buffer b;
  char *out;
  size_t i;
  if (n > ((size_t)-1) / 2)
    luaL_error(L, "hex: string is too large");
  out = luaL_buffinitsize(L, &b, 2 * n);
  for (i = 0; i < n; i++) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 15];
  }
  luaL_pushresultsize(&b, 2 * n);
}


static void crypto_sha256 (lua_State *L, unsigned char md[CRYPTO_SHA256_LEN]) {
  size_t len;
  const char *data = luaL_checklstring(L, 1, &len);
  unsigned int mdlen = 0;
  if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL)
      || mdlen != CRYPTO_SHA256_LEN)
    luaL_error(L, "sha256: OpenSSL could not compute the digest");
}


static void crypto_hmac (lua_State *L, unsigned char md[CRYPTO_SHA256_LEN]) {
  size_t klen, dlen;
  const char *key = luaL_checklstring(L, 1, &klen);
  const char *data = luaL_checklstring(L, 2, &dlen);
  unsigned int mdlen = 0;
  luaL_argcheck(L, klen <= INT_MAX, 1, "key is too long");
  if (HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)data, dlen,
           md, &mdlen) == NULL || mdlen != CRYPTO_SHA256_LEN)
    luaL_error(L, "hmac_sha256: OpenSSL could not compute the MAC");
}


static int crypto_sha256_hex (lua_State *L) {
  unsigned char md[CRYPTO_SHA256_LEN];
  crypto_sha256(L, md);
  crypto_pushhex(L, md, sizeof md);
  return 1;
}


static int crypto_sha256_raw (lua_State *L) {
  unsigned char md[CRYPTO_SHA256_LEN];
  crypto_sha256(L, md);
  lua_pushlstring(L, (const char *)md, sizeof md);
  return 1;
}


static int crypto_hmac_sha256 (lua_State *L) {
  unsigned char md[CRYPTO_SHA256_LEN];
  crypto_hmac(L, md);
  crypto_pushhex(L, md, sizeof md);
  return 1;
}


static int crypto_hmac_sha256_raw (lua_State *L) {
  unsigned char md[CRYPTO_SHA256_LEN];
  crypto_hmac(L, md);
  lua_pushlstring(L, (const char *)md, sizeof md);
  return 1;
}


static int crypto_hex (lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  crypto_pushhex(L, (const unsigned char *)s, len);
  return 1;
}


/* Time depends only on the lengths, never on where the strings differ. */
static int crypto_equal (lua_State *L) {
  size_t la, lb;
  const char *a = luaL_checklstring(L, 1, &la);
  const char *b = luaL_checklstring(L, 2, &lb);
  lua_pushboolean(L, la == lb && CRYPTO_memcmp(a, b, la) == 0);
  return 1;
}

/* }====================================================== */


/*
** {======================================================
** bcrypt (libxcrypt)
** =======================================================
*/

/* What makes a password unusable for bcrypt, or NULL. */
static const char *crypto_pwproblem (const char *pw, size_t len) {
  if (memchr(pw, '\0', len) != NULL)
    return "password contains a NUL byte";
  if (len > CRYPTO_BCRYPT_MAXPW)
    return "password is longer than 72 bytes (bcrypt would silently ignore the rest)";
  return NULL;
}


static int crypto_isb64 (unsigned char c) {
  return c == '.' || c == '/' || (c >= '0' && c <= '9')
      || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}


/* "$2a$", "$2b$" or "$2y$", a cost 04..31, "$", 53 characters of bcrypt base64. */
static int crypto_isbcrypt (const char *h, size_t len) {
  int cost;
  size_t i;
  if (len != CRYPTO_BCRYPT_LEN || h[0] != '$' || h[1] != '2'
      || (h[2] != 'a' && h[2] != 'b' && h[2] != 'y') || h[3] != '$'
      || h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9' || h[6] != '$')
    return 0;
  cost = (h[4] - '0') * 10 + (h[5] - '0');
  if (cost < 4 || cost > 31)
    return 0;
  for (i = 7; i < len; i++)
    if (!crypto_isb64((unsigned char)h[i]))
      return 0;
  return 1;
}


/* libxcrypt's work area is about 32 KiB: it lives in a userdata, so the Lua
   collector owns it and no error path can leak it. */
static struct crypt_data *crypto_newcryptdata (lua_State *L) {
  struct crypt_data *cd = (struct crypt_data *)lua_newuserdatauv(L, sizeof *cd, 0);
  memset(cd, 0, sizeof *cd);
  return cd;
}


static int crypto_bcrypt_hash (lua_State *L) {
  size_t len;
  const char *pw = luaL_checklstring(L, 1, &len);
  lua_Integer cost = luaL_optinteger(L, 2, CRYPTO_BCRYPT_COST);
  const char *problem = crypto_pwproblem(pw, len);
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  char hash[CRYPT_OUTPUT_SIZE];
  struct crypt_data *cd;
  const char *out;
  int err, ok;
  if (problem != NULL)
    return luaL_argerror(L, 1, problem);
  luaL_argcheck(L, 4 <= cost && cost <= 31, 2, "cost must be between 4 and 31");
  errno = 0;
  if (crypt_gensalt_rn("$2b$", (unsigned long)cost, NULL, 0,
                       setting, (int)sizeof setting) == NULL || setting[0] == '*')
    return luaL_error(L, "bcrypt_hash: cannot make a salt: %s",
                      strerror(errno != 0 ? errno : EINVAL));
  cd = crypto_newcryptdata(L);
  errno = 0;
  out = crypt_rn(pw, setting, cd, (int)sizeof *cd);
  err = errno;
  ok = out != NULL && out[0] != '*' && strlen(out) < sizeof hash;
  if (ok)
    memcpy(hash, out, strlen(out) + 1);
  explicit_bzero(cd, sizeof *cd);   /* it held the password */
  if (!ok)
    return luaL_error(L, "bcrypt_hash: crypt failed: %s",
                      strerror(err != 0 ? err : EINVAL));
  lua_pushstring(L, hash);
  return 1;
}


static int crypto_falsemsg (lua_State *L, const char *msg) {
  lua_pushboolean(L, 0);
  lua_pushstring(L, msg);
  return 2;
}


static int crypto_bcrypt_verify (lua_State *L) {
  size_t plen, hlen;
  const char *pw = luaL_checklstring(L, 1, &plen);
  const char *h = luaL_checklstring(L, 2, &hlen);
  const char *problem;
  struct crypt_data *cd;
  const char *out;
  int err, failed, match;
  if (!crypto_isbcrypt(h, hlen))
    return crypto_falsemsg(L, "malformed bcrypt hash");
  problem = crypto_pwproblem(pw, plen);
  if (problem != NULL)   /* no hash we make can match it */
    return crypto_falsemsg(L, problem);
  cd = crypto_newcryptdata(L);
  errno = 0;
  out = crypt_rn(pw, h, cd, (int)sizeof *cd);
  err = errno;
  failed = out == NULL || out[0] == '*';
  match = !failed && strlen(out) == hlen && CRYPTO_memcmp(out, h, hlen) == 0;
  explicit_bzero(cd, sizeof *cd);
  if (failed) {
    if (err == 0 || err == EINVAL || err == ERANGE)
      return crypto_falsemsg(L, "malformed bcrypt hash");
    return luaL_error(L, "bcrypt_verify: crypt failed: %s", strerror(err));
  }
  lua_pushboolean(L, match);
  return 1;
}

/* }====================================================== */


static const luaL_Reg crypto_funcs[] = {
  {"sha256", crypto_sha256_hex},
  {"sha256_raw", crypto_sha256_raw},
  {"hmac_sha256", crypto_hmac_sha256},
  {"hmac_sha256_raw", crypto_hmac_sha256_raw},
  {"hex", crypto_hex},
  {"equal", crypto_equal},
  {"random_bytes", crypto_random_bytes},
  {"nanoid", crypto_nanoid},
  {"bcrypt_hash", crypto_bcrypt_hash},
  {"bcrypt_verify", crypto_bcrypt_verify},
  {NULL, NULL}
};


/* Every function shares one upvalue: this state's nanoid pool. */
int luaopen_core_crypto (lua_State *L) {
  luaL_newlibtable(L, crypto_funcs);
  crypto_newpool(L);
  luaL_setfuncs(L, crypto_funcs, 1);
  return 1;
}
