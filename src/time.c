/* time.c: the core.time module: local time in any IANA zone <-> UTC, through the system tz database. */
#include "coretime.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

#define TIME_ZONEINFO  "/usr/share/zoneinfo"   /* $TZDIR overrides it */
#define TIME_MAX_YEAR  100000                  /* |year| beyond this is refused */
#define TIME_MAX_FIELD 100000000               /* |month|, |day|, ... (normalised like mktime) */
#define TIME_MAX_EPOCH ((int64_t)TIME_MAX_YEAR * 366 * 86400)

/*
** {======================================================
** Zone names and the TZ swap
** =======================================================
*/

/* A zone name is relative parts of [A-Za-z0-9_+-.] joined by '/', none of them
   "." or ".."; so it can only name a file under the zoneinfo directory. */
static int time_name_ok(const char *z, size_t len) {
    if (len == 0 || z[0] == '/' || z[len - 1] == '/') return 0;
    const char *part = z;
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? z[i] : '/';
        if (c == '/') {
            size_t n = (size_t)(z + i - part);
            if (n == 0) return 0;
            if ((n == 1 && part[0] == '.') || (n == 2 && part[0] == '.' && part[1] == '.')) return 0;
            part = z + i + 1;
        } else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                     || c == '_' || c == '+' || c == '-' || c == '.')) {
            return 0;
        }
    }
    return 1;
}

/* 1 when path is a regular file that starts with the TZif magic. */
static int time_is_tzfile(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    struct stat st;
    char magic[4];
    int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode)
             && read(fd, magic, sizeof magic) == (ssize_t)sizeof magic && memcmp(magic, "TZif", 4) == 0;
    close(fd);
    return ok;
}

/* Checks the zone name at idx and pushes the TZ value naming its file (":/dir/Zone");
   returns it. Raises for a name that is not a zone. */
static const char *time_tzvalue(lua_State *L, int idx) {
    size_t len;
    const char *zone = luaL_checklstring(L, idx, &len);
    if (strlen(zone) != len || !time_name_ok(zone, len))
        luaL_error(L, "invalid time zone name '%s' (expected a name such as Europe/Berlin)", zone);
    const char *dir = getenv("TZDIR");
    if (!dir || !*dir) dir = TIME_ZONEINFO;
    const char *value = lua_pushfstring(L, ":%s/%s", dir, zone);
    if (!time_is_tzfile(value + 1))
        luaL_error(L, "unknown time zone '%s' (no such zone in %s)", zone, dir);
    return value;
}

typedef struct TimeSwap {
    char *saved;   /* TZ before the swap, owned; NULL when it was unset */
    int had;
} TimeSwap;

/* Points TZ at value and reloads the zone: 0, or -1 (errno set) with nothing changed. */
static int time_swap_in(TimeSwap *s, const char *value) {
    const char *old = getenv("TZ");
    s->had = old != NULL;
    s->saved = NULL;
    if (old && !(s->saved = strdup(old))) return -1;
    if (setenv("TZ", value, 1) != 0) {
        free(s->saved);
        s->saved = NULL;
        return -1;
    }
    tzset();
    return 0;
}

/* Puts TZ back as it was (unset if it was) and reloads it. */
static void time_swap_out(TimeSwap *s) {
    if (s->had) setenv("TZ", s->saved, 1);
    else unsetenv("TZ");
    free(s->saved);
    s->saved = NULL;
    tzset();
}

/* }====================================================== */


/*
** {======================================================
** Civil arithmetic (proleptic Gregorian, no time zone)
** =======================================================
*/

static int64_t time_floordiv(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of y-m-d, m in 1..12 (Howard Hinnant's days_from_civil). */
static int64_t time_days(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    int64_t era = time_floordiv(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* UTC offset in seconds at t in the current zone: 0, or -1 when t cannot be converted. */
static int time_offset(int64_t t, long *off) {
    time_t tt = (time_t)t;
    struct tm tm;
    if (!localtime_r(&tt, &tm)) return -1;
    *off = tm.tm_gmtoff;
    return 0;
}

/* }====================================================== */


/*
** {======================================================
** The functions
** =======================================================
*/

/* to_local(epoch_s, zone) -> {year, month, day, hour, min, sec, wday, yday, isdst, utcoff, zone} */
static int time_to_local(lua_State *L) {
    lua_Number n = luaL_checknumber(L, 1);
    if (!(n >= (lua_Number)-TIME_MAX_EPOCH && n <= (lua_Number)TIME_MAX_EPOCH))
        return luaL_argerror(L, 1, "time out of range");
    int64_t t = lua_isinteger(L, 1) ? (int64_t)lua_tointeger(L, 1) : (int64_t)floor(n);
    const char *tz = time_tzvalue(L, 2);
    TimeSwap s;
    if (time_swap_in(&s, tz) != 0) return luaL_error(L, "to_local: cannot set TZ: %s", strerror(errno));
    time_t tt = (time_t)t;
    struct tm tm;
    int ok = localtime_r(&tt, &tm) != NULL;
    char abbr[16] = "";   /* tz data's abbreviation ("CET", "-03"), not user input */
    if (ok && tm.tm_zone) snprintf(abbr, sizeof abbr, "%s", tm.tm_zone);
    time_swap_out(&s);
    if (!ok) return luaL_error(L, "to_local: time %I cannot be converted", (lua_Integer)t);
    lua_createtable(L, 0, 11);
    static const char *const names[] = { "year", "month", "day", "hour", "min", "sec", "wday", "yday", "utcoff" };
    lua_Integer vals[] = { (lua_Integer)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                           tm.tm_sec, tm.tm_wday + 1, tm.tm_yday + 1, (lua_Integer)tm.tm_gmtoff };
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        lua_pushinteger(L, vals[i]);
        lua_setfield(L, -2, names[i]);
    }
    lua_pushboolean(L, tm.tm_isdst > 0);
    lua_setfield(L, -2, "isdst");
    lua_pushstring(L, abbr);
    lua_setfield(L, -2, "zone");
    return 1;
}

/* An integer field of the table at 1; dflt when absent (required: raise instead). */
static int64_t time_field(lua_State *L, const char *key, int64_t dflt, int required, int64_t max) {
    int type = lua_getfield(L, 1, key);
    int64_t v = dflt;
    if (type == LUA_TNIL) {
        if (required) luaL_error(L, "from_local: field '%s' is missing", key);
    } else {
        int isnum;
        lua_Integer i = lua_tointegerx(L, -1, &isnum);
        if (!isnum) luaL_error(L, "from_local: field '%s' must be an integer", key);
        if (i > max || i < -max) luaL_error(L, "from_local: field '%s' is out of range", key);
        v = (int64_t)i;
    }
    lua_pop(L, 1);
    return v;
}

/* from_local({year, month, day [, hour, min, sec]}, zone) -> epoch_s [, "gap" | "ambiguous", later_epoch_s]
   Out-of-range fields are normalised (month 13 is January of the next year).
   A local time that exists once gives its instant. One repeated by a fall-back
   gives the earlier instant, "ambiguous" and the later one. One skipped by a
   spring-forward gives the instant the gap ends (the first valid local time
   after it) and "gap". */
static int time_from_local(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    int64_t y = time_field(L, "year", 0, 1, TIME_MAX_YEAR);
    int64_t mo = time_field(L, "month", 0, 1, TIME_MAX_FIELD);
    int64_t d = time_field(L, "day", 0, 1, TIME_MAX_FIELD);
    int64_t h = time_field(L, "hour", 0, 0, TIME_MAX_FIELD);
    int64_t mi = time_field(L, "min", 0, 0, TIME_MAX_FIELD);
    int64_t sec = time_field(L, "sec", 0, 0, TIME_MAX_FIELD);
    const char *tz = time_tzvalue(L, 2);
    y += time_floordiv(mo - 1, 12);
    mo -= 12 * time_floordiv(mo - 1, 12);
    int64_t naive = time_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;

    TimeSwap s;
    if (time_swap_in(&s, tz) != 0) return luaL_error(L, "from_local: cannot set TZ: %s", strerror(errno));
    /* The offsets in force a day either side and at the naive instant: each is a
       candidate; t = naive - off is a solution when the offset at t is off. */
    long offs[3];
    int bad = time_offset(naive - 86400, &offs[0]) || time_offset(naive, &offs[1])
              || time_offset(naive + 86400, &offs[2]);
    int64_t found[3];
    int nfound = 0;
    long omin = offs[0], omax = offs[0];
    for (int i = 0; i < 3 && !bad; i++) {
        if (offs[i] < omin) omin = offs[i];
        if (offs[i] > omax) omax = offs[i];
        int64_t t = naive - offs[i];
        long at;
        if (time_offset(t, &at) != 0) { bad = 1; break; }
        int dup = 0;
        for (int j = 0; j < nfound; j++) dup |= found[j] == t;
        if (at == offs[i] && !dup) found[nfound++] = t;
    }
    int64_t gap_end = 0;
    if (!bad && nfound == 0) {
        /* In a gap: local(t) = t + offset(t) passes naive between lo and hi. */
        int64_t lo = naive - omax, hi = naive - omin;
        while (hi - lo > 1 && !bad) {
            int64_t mid = lo + (hi - lo) / 2;
            long at;
            if (time_offset(mid, &at) != 0) bad = 1;
            else if (mid + at >= naive) hi = mid;
            else lo = mid;
        }
        gap_end = hi;
    }
    time_swap_out(&s);
    if (bad) return luaL_error(L, "from_local: the time cannot be converted");
    if (nfound == 0) {
        lua_pushinteger(L, (lua_Integer)gap_end);
        lua_pushliteral(L, "gap");
        return 2;
    }
    int64_t first = found[0], last = found[0];
    for (int j = 1; j < nfound; j++) {
        if (found[j] < first) first = found[j];
        if (found[j] > last) last = found[j];
    }
    lua_pushinteger(L, (lua_Integer)first);
    if (first == last) return 1;
    lua_pushliteral(L, "ambiguous");
    lua_pushinteger(L, (lua_Integer)last);
    return 3;
}

/* }====================================================== */


static const luaL_Reg time_funcs[] = {
    {"to_local", time_to_local},
    {"from_local", time_from_local},
    {NULL, NULL}
};

int luaopen_core_time(lua_State *L) {
    luaL_newlib(L, time_funcs);
    return 1;
}
