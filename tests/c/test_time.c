/* test_time.c: unit tests for core.time: zone conversions, DST gaps and overlaps, bad zones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "coretime.h"
#include "test.h"

static lua_State *L;

/* Runs a chunk; the first result as a string (NULL on error). */
static const char *eval(const char *code) {
    lua_settop(L, 0);
    if (luaL_loadstring(L, code) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
        fprintf(stderr, "   lua error: %s\n", lua_tostring(L, -1));
        return NULL;
    }
    return lua_tostring(L, -1);
}

/* The error message a chunk raises, or NULL when it does not raise. */
static const char *raises(const char *code) {
    lua_settop(L, 0);
    if (luaL_loadstring(L, code) != LUA_OK) return "(syntax error in test)";
    if (lua_pcall(L, 0, 0, 0) == LUA_OK) return NULL;
    return lua_tostring(L, -1);
}

#define CHECK_RAISES(code, part) do { \
    const char *m_ = raises(code); \
    int ok_ = m_ != NULL && strstr(m_, part) != NULL; \
    if (!ok_) fprintf(stderr, "   %s\n   raised: %s\n   wanted: ...%s...\n", code, m_ ? m_ : "(nothing)", part); \
    CHECK(ok_); } while (0)

/* "y-m-d h:m:s wday yday isdst utcoff zone" of to_local(t, zone). */
#define LOCAL(t, zone) eval("local r = time.to_local(" t ", '" zone "') " \
    "return string.format('%d-%02d-%02d %02d:%02d:%02d w%d y%d %s %d %s', r.year, r.month, r.day, " \
    "r.hour, r.min, r.sec, r.wday, r.yday, tostring(r.isdst), r.utcoff, r.zone)")

/* from_local's results joined with spaces. */
#define FROM(fields, zone) eval("local t = table.pack(time.from_local({" fields "}, '" zone "')) " \
    "for i = 1, t.n do t[i] = tostring(t[i]) end return table.concat(t, ' ')")

static void test_to_local(void) {
    CHECK_STR(LOCAL("0", "UTC"), "1970-01-01 00:00:00 w5 y1 false 0 UTC");
    CHECK_STR(LOCAL("0", "America/New_York"), "1969-12-31 19:00:00 w4 y365 false -18000 EST");
    CHECK_STR(LOCAL("1720000000", "America/New_York"), "2024-07-03 05:46:40 w4 y185 true -14400 EDT");
    CHECK_STR(LOCAL("1720000000", "Europe/Berlin"), "2024-07-03 11:46:40 w4 y185 true 7200 CEST");
    CHECK_STR(LOCAL("1704047400", "Asia/Kolkata"), "2024-01-01 00:00:00 w2 y1 false 19800 IST");
    /* fractions are floored, also before 1970 */
    CHECK_STR(LOCAL("59.9", "UTC"), "1970-01-01 00:00:59 w5 y1 false 0 UTC");
    CHECK_STR(LOCAL("-0.5", "UTC"), "1969-12-31 23:59:59 w4 y365 false 0 UTC");
    /* southern hemisphere: summer time in January */
    CHECK_STR(LOCAL("1704067200", "Australia/Sydney"), "2024-01-01 11:00:00 w2 y1 true 39600 AEDT");
}

static void test_from_local(void) {
    CHECK_STR(FROM("year = 2025, month = 1, day = 1", "UTC"), "1735689600");
    CHECK_STR(FROM("year = 2024, month = 1, day = 1", "Asia/Kolkata"), "1704047400");
    CHECK_STR(FROM("year = 2024, month = 7, day = 1, hour = 12", "Europe/Berlin"), "1719828000");
    /* fields are normalised like mktime: month 13, day 0, minute 60 */
    CHECK_STR(FROM("year = 2024, month = 13, day = 1", "UTC"), "1735689600");
    CHECK_STR(FROM("year = 2025, month = 1, day = 0, hour = 23, min = 60", "UTC"), "1735689600");
    /* round trip over a year of hours in a DST zone (gaps and overlaps aside) */
    CHECK_STR(eval("for t = 1704067200, 1735689600, 3600 do "
                   "  local r = time.from_local(time.to_local(t, 'America/New_York'), 'America/New_York') "
                   "  if r ~= t and r ~= t - 3600 then return 'differs at ' .. t end "
                   "end return 'ok'"), "ok");
}

static void test_dst_gap(void) {
    /* 02:30 does not exist on spring-forward days: the instant the gap ends */
    CHECK_STR(FROM("year = 2024, month = 3, day = 10, hour = 2, min = 30", "America/New_York"), "1710054000 gap");
    CHECK_STR(LOCAL("1710054000", "America/New_York"), "2024-03-10 03:00:00 w1 y70 true -14400 EDT");
    CHECK_STR(FROM("year = 2024, month = 3, day = 31, hour = 2, min = 0", "Europe/Berlin"), "1711846800 gap");
    CHECK_STR(FROM("year = 2024, month = 3, day = 31, hour = 3, min = 0", "Europe/Berlin"), "1711846800");
    /* a 30-minute gap */
    CHECK_STR(FROM("year = 2024, month = 10, day = 6, hour = 2, min = 10", "Australia/Lord_Howe"), "1728142200 gap");
    CHECK_STR(FROM("year = 2024, month = 10, day = 6, hour = 2, min = 30", "Australia/Sydney"), "1728144000 gap");
}

static void test_dst_overlap(void) {
    CHECK_STR(FROM("year = 2024, month = 11, day = 3, hour = 1, min = 30", "America/New_York"),
              "1730611800 ambiguous 1730615400");
    CHECK_STR(FROM("year = 2024, month = 10, day = 27, hour = 2, min = 30", "Europe/Berlin"),
              "1729989000 ambiguous 1729992600");
    CHECK_STR(FROM("year = 2024, month = 4, day = 7, hour = 2, min = 30", "Australia/Sydney"),
              "1712417400 ambiguous 1712421000");
    /* the minute after the repeated hour is unique again */
    CHECK_STR(FROM("year = 2024, month = 11, day = 3, hour = 2, min = 0", "America/New_York"), "1730617200");
}

static void test_bad_zones(void) {
    CHECK_RAISES("time.to_local(0, 'Nowhere/Atlantis')", "unknown time zone 'Nowhere/Atlantis'");
    CHECK_RAISES("time.to_local(0, 'zone.tab')", "unknown time zone 'zone.tab'");      /* a file, not a zone */
    CHECK_RAISES("time.to_local(0, 'America')", "unknown time zone 'America'");        /* a directory */
    CHECK_RAISES("time.to_local(0, '../../../etc/passwd')", "invalid time zone name");
    CHECK_RAISES("time.to_local(0, '/etc/localtime')", "invalid time zone name");
    CHECK_RAISES("time.to_local(0, 'America/../UTC')", "invalid time zone name");
    CHECK_RAISES("time.to_local(0, 'America//New_York')", "invalid time zone name");
    CHECK_RAISES("time.to_local(0, 'America/New_York/')", "invalid time zone name");
    CHECK_RAISES("time.to_local(0, './UTC')", "invalid time zone name");
    CHECK_RAISES("time.to_local(0, '')", "invalid time zone name");
    CHECK_RAISES("time.to_local(0, 'UTC\\0x')", "invalid time zone name");
    CHECK_RAISES("time.to_local(0, 'EST5EDT,M3.2.0,M11.1.0')", "invalid time zone name");   /* no POSIX TZ strings */
    CHECK_RAISES("time.from_local({year = 2024, month = 1, day = 1}, 'Mars/Olympus')", "unknown time zone");
    CHECK_RAISES("time.to_local(0)", "bad argument #2");
}

static void test_bad_values(void) {
    CHECK_RAISES("time.to_local('x', 'UTC')", "bad argument #1");
    CHECK_RAISES("time.to_local(0/0, 'UTC')", "time out of range");
    CHECK_RAISES("time.to_local(1e300, 'UTC')", "time out of range");
    CHECK_RAISES("time.from_local({month = 1, day = 1}, 'UTC')", "field 'year' is missing");
    CHECK_RAISES("time.from_local({year = 2024, day = 1}, 'UTC')", "field 'month' is missing");
    CHECK_RAISES("time.from_local({year = 2024, month = 1, day = 1.5}, 'UTC')", "field 'day' must be an integer");
    CHECK_RAISES("time.from_local({year = 1e9, month = 1, day = 1}, 'UTC')", "field 'year' is out of range");
    CHECK_RAISES("time.from_local(5, 'UTC')", "bad argument #1");
}

/* TZ is put back as it was: set, or unset. */
static void test_tz_restored(void) {
    setenv("TZ", "Asia/Tokyo", 1);
    CHECK_STR(LOCAL("0", "Europe/Berlin"), "1970-01-01 01:00:00 w5 y1 false 3600 CET");
    CHECK_STR(getenv("TZ"), "Asia/Tokyo");
    CHECK_STR(FROM("year = 2024, month = 1, day = 1", "America/New_York"), "1704085200");
    CHECK_STR(getenv("TZ"), "Asia/Tokyo");
    CHECK_RAISES("time.to_local(0, 'Nowhere/Atlantis')", "unknown time zone");
    CHECK_STR(getenv("TZ"), "Asia/Tokyo");
    CHECK_STR(eval("return os.date('%H', 0)"), "09");   /* the process's own zone still works */
    unsetenv("TZ");
    CHECK_STR(LOCAL("0", "Europe/Berlin"), "1970-01-01 01:00:00 w5 y1 false 3600 CET");
    CHECK(getenv("TZ") == NULL);
}

int main(void) {
    L = luaL_newstate();
    luaL_openlibs(L);
    luaL_requiref(L, "core.time", luaopen_core_time, 0);
    lua_setglobal(L, "time");
    RUN(test_to_local);
    RUN(test_from_local);
    RUN(test_dst_gap);
    RUN(test_dst_overlap);
    RUN(test_bad_zones);
    RUN(test_bad_values);
    RUN(test_tz_restored);
    lua_close(L);
    return TEST_SUMMARY("test_time");
}
