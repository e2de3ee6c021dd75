/* fuzz_score.c: libFuzzer target for core.score (src/score.c).
 *
 * The first input byte selects what the rest exercises (see README.md):
 *   mode 0  text: score_fold, score_text with the fixed lexicon (spans on and
 *           off, compared) and with no lexicon
 *   mode 1  lexicon: score_compile on the bytes (a "[fuzz/...]" header put in
 *           front when flag bit 2 is set); if it compiles, score a fixed sample
 *           text and the bytes themselves with it
 *   mode 2  lexicon NUL text: the bytes before the first NUL are a lexicon, the
 *           rest the text (no NUL: both are the whole input); the text is scored
 *           with the compiled lexicon and with the fixed one
 *   mode 3  sources NUL ... NUL text through the Lua binding: core.score.compile
 *           with several {name, text} sources, analyze, fold, analyze_files,
 *           compared with the C API on the same bytes. Flag bit 3: each source's
 *           name and text come from an __index metamethod that runs a full
 *           garbage collection and returns a string made just then, so a string
 *           the binding reads and does not keep alive is freed before it is used
 *           (ASan sees it); bit 5: the names are Lua numbers; bit 4: one
 *           analyze_files path is a number. With bits 3-5 the binding may refuse
 *           the input with a Lua error; if it takes it, the answer must be the C
 *           API's. The Lua state collects garbage all the time.
 * FUZZ_SCORE_MASK (a number, e.g. 0x38) clears flag bits and
 * FUZZ_SCORE_RELAX=invalid_utf8 skips the invalid_utf8 count check: to keep
 * fuzzing past a known bug.
 * Errors from score_compile are fine; crashes, sanitizer reports and broken
 * invariants (checked below, abort() when one fails) are not.
 *
 * The fixed lexicon is every prompts/lexicons/NAME.txt (looked for in $FUZZ_LEXICON_DIR,
 * ./prompts/lexicons, ../../prompts/lexicons) plus an embedded one with
 * prefixes, weights, Unicode and apostrophes, compiled once. */
#include "score.h"

#include <dirent.h>
#include <lauxlib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---------------------------------------------------------------- fixed inputs */

static const char EMBEDDED_LEXICON[] =
    "# embedded fuzz lexicon: prefixes, weights, Unicode, apostrophes\n"
    "[slop/ai_tell weight=1.5]\n"
    "delv* | 3\n"
    "tapestry | 3\n"
    "in today\xE2\x80\x99s fast-paced | 3\n"
    "it's not just\n"
    "game-changer | 2.5\n"
    "game changer\n"
    "navigate the complexities | 3\n"
    "a testament to \n"
    "  \t unlock* \r\n"
    "seamless*\n"
    "leverag* | 1\n"
    "\xE2\x80\x94 and that\xE2\x80\x99s the point\n"
    "\xF0\x9F\x9A\x80 to the moon | 2\n"
    "\n"
    "[vendor/buzzword weight=2]\n"
    "best-in-class | 2.5\n"
    "world-class\n"
    "cutting-edge\n"
    "next-gen*\n"
    "synerg*\n"
    "end-to-end | 0.5\n"
    "empower*\n"
    "revolutioni*\n"
    "paradigm shift\n"
    "mission-critical\n"
    "rock-solid\n"
    "100% uptime\n"
    "10x faster\n"
    "\"single pane of glass\"\n"
    "drive* value\n"
    "\xC2\xAB \xC3\xA0 la carte \xC2\xBB\n"
    "CAF\xC3\x89 | 0.25\n"
    "na\xC3\xAFve\n"
    "stra\xC3\x9F" "e\n"
    "\xCE\xA3\xCE\xA5\xCE\x9D\xCE\x95\xCE\xA1\xCE\x93\xCE\x95\xCE\x99\xCE\x91\n"
    "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xD0\xBC\xD0\xB8\xD1\x80\n"
    "\n"
    "[abstract/claim weight=1]\n"
    "improves efficiency\n"
    "better outcomes | 1.5\n"
    "at scale | 0.5\n"
    "unlock value\n"
    "\n"
    "[authenticity/practitioner weight=1.5]\n"
    "we tried\n"
    "in my experience | 2\n"
    "the downside is | 2.5\n"
    "i was wrong\n"
    "don\xE2\x80\x99t\n"
    "p99\n";

static const char SAMPLE_TEXT[] =
    "In today\xE2\x80\x99s fast-paced world, Acme\xE2\x80\x99s best-in-class platform "
    "leverages AI to unlock value \xE2\x80\x94 seamlessly. It\xE2\x80\x99s not just a tool, it\xE2\x80\x99s a "
    "game-changer!\r\n\r\nWe tried it in March 2024: p99 went from 840ms to 95ms on 12 nodes, "
    "and the downside is the $40k bill. In my experience, \xE2\x80\x9Cworld-class\xE2\x80\x9D means nothing.\n"
    "- Fast, reliable, and secure.\n"
    "- Delve into the tapestry of synergies \xF0\x9F\x9A\x80\xF0\x9F\x9A\x80\n"
    "Ca\xC3\xA9 na\xC3\xAFve CAF\xC3\x89 \xC2\xAB \xC3\x80 LA CARTE \xC2\xBB stra\xC3\x9F" "e "
    "\xCE\xA3\xCE\xA5\xCE\x9D\xCE\x95\xCE\xA1\xCE\x93\xCE\x95\xCE\x99\xCE\x91 v2.3.1 `make test` "
    "https://example.com/x. Why not?\n\n\xff\xfe bad \xc3 bytes\xe2\x80 here\x00nul.";

static ScoreLexicon *fixed_lex;
static char *fixed_text_buf;          /* lexicon files and the embedded lexicon, joined */
static size_t fixed_text_len;

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends every *.txt of dir (in name order) to the fixed lexicon text; 1 if any. */
static int load_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    char *names[64];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".txt") == 0) names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t len;
        char *t = read_file(path, &len);
        free(names[i]);
        if (!t) continue;
        char *nb = realloc(fixed_text_buf, fixed_text_len + len + 2);
        if (!nb) { free(t); continue; }
        fixed_text_buf = nb;
        memcpy(fixed_text_buf + fixed_text_len, t, len);
        fixed_text_len += len;
        fixed_text_buf[fixed_text_len++] = '\n';
        free(t);
        any = 1;
    }
    return any;
}

static void fuzz_init(void) {
    static int done;
    if (done) return;
    done = 1;
    const char *env = getenv("FUZZ_LEXICON_DIR");
    if (!(env && load_dir(env)) && !load_dir("prompts/lexicons")) load_dir("../../prompts/lexicons");
    ScoreSource src[2] = {
        { "lexicons", fixed_text_buf ? fixed_text_buf : "", fixed_text_len },
        { "embedded", EMBEDDED_LEXICON, sizeof EMBEDDED_LEXICON - 1 },
    };
    char err[512];
    fixed_lex = score_compile(src, 2, err, sizeof err);
    if (!fixed_lex) {
        /* a lexicon file being edited may not compile: fall back to the embedded one */
        fprintf(stderr, "fuzz_score: lexicon files do not compile (%s); embedded lexicon only\n", err);
        fixed_lex = score_compile(&src[1], 1, err, sizeof err);
        if (!fixed_lex) { fprintf(stderr, "fuzz_score: embedded lexicon: %s\n", err); abort(); }
    }
    if (getenv("FUZZ_SCORE_VERBOSE"))
        fprintf(stderr, "fuzz_score: fixed lexicon: %zu patterns from %zu bytes of lexicon files\n",
                score_lexicon_size(fixed_lex), fixed_text_len);
}

/* ---------------------------------------------------------------- invariants */

#define CHECK(cond) do { if (!(cond)) { \
    fprintf(stderr, "fuzz_score: invariant broken at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
    abort(); } } while (0)

/* Strict UTF-8 decoding, as the Unicode standard defines it: returns the
 * sequence length, or 0 for an invalid byte (counted as one). */
static size_t utf8_valid_len(const uint8_t *s, size_t len, size_t i) {
    uint8_t b = s[i];
    if (b < 0x80) return 1;
    size_t n;
    uint32_t c, min;
    if (b >= 0xC2 && b <= 0xDF) { n = 2; c = b & 0x1F; min = 0x80; }
    else if (b >= 0xE0 && b <= 0xEF) { n = 3; c = b & 0x0F; min = 0x800; }
    else if (b >= 0xF0 && b <= 0xF4) { n = 4; c = b & 0x07; min = 0x10000; }
    else return 0;
    if (i + n > len) return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[i + k] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (s[i + k] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    return n;
}

static size_t count_invalid(const uint8_t *s, size_t len) {
    size_t bad = 0;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_valid_len(s, len, i);
        if (!n) { bad++; n = 1; }
        i += n;
    }
    return bad;
}

static int ascii_word(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* fold(s) must be well formed and stable; returns it (caller frees). */
static char *check_fold(const char *s, size_t len, size_t *outlen) {
    char *f = score_fold(s, len, outlen);
    CHECK(f != NULL);
    CHECK(*outlen <= 3 * len);
    CHECK(f[*outlen] == '\0');
    CHECK(count_invalid((const uint8_t *)f, *outlen) == 0);
    size_t nul_in = 0, nul_out = 0;
    for (size_t i = 0; i < len; i++) nul_in += s[i] == '\0';
    for (size_t i = 0; i < *outlen; i++) {
        uint8_t c = (uint8_t)f[i];
        nul_out += c == '\0';
        CHECK(!(c >= 'A' && c <= 'Z'));
        CHECK(!(c >= 0x09 && c <= 0x0D));
        CHECK(!(c == ' ' && i > 0 && f[i - 1] == ' '));
    }
    CHECK(nul_in == nul_out);
    return f;
}

/* fold(s) with leading and trailing spaces removed, into *a.. *b */
static void trimmed(const char *f, size_t n, const char **a, const char **b) {
    *a = f;
    *b = f + n;
    while (*a < *b && **a == ' ') (*a)++;
    while (*b > *a && (*b)[-1] == ' ') (*b)--;
}

/* Line and column of each span recomputed from scratch (same rule as the
 * scorer: col counts bytes that are not UTF-8 continuation bytes). */
static void check_location(const uint8_t *s, const ScoreSpan *sp, size_t n) {
    size_t line = 1, line_start = 0, pos = 0;
    for (size_t k = 0; k < n; k++) {
        size_t target = sp[k].start;
        CHECK(target >= pos);            /* sorted */
        for (; pos < target; pos++)
            if (s[pos] == '\n') { line++; line_start = pos + 1; }
        size_t col = 1;
        for (size_t i = line_start; i < target; i++) col += (s[i] & 0xC0) != 0x80;
        CHECK(sp[k].line >= 1 && sp[k].col >= 1);
        CHECK(sp[k].line == line);
        CHECK(sp[k].col == col);
    }
}

static void check_result(const ScoreLexicon *lex, const char *text, size_t len, int want_spans,
                         const ScoreResult *r) {
    const uint8_t *s = (const uint8_t *)text;
    CHECK(!r->oom);                      /* inputs are small: running out of memory is a bug */
    size_t npats = lex ? score_lexicon_size(lex) : 0;
    /* lexicon matches: in the text, non-empty, sorted, not overlapping, and
     * their text folds to the phrase (a prefix pattern: starts with it) */
    CHECK(r->nmatches <= r->capmatches);
    CHECK(npats > 0 || r->nmatches == 0);
    for (size_t m = 0; m < r->nmatches; m++) {
        const ScoreSpan *sp = &r->matches[m];
        CHECK(sp->pattern >= 0 && (size_t)sp->pattern < npats);
        CHECK(sp->start < sp->stop && sp->stop <= len);
        if (m) CHECK(r->matches[m - 1].stop <= sp->start);
        size_t fl, pl;
        char *f = check_fold(text + sp->start, sp->stop - sp->start, &fl);
        const char *phrase = score_pattern_phrase(lex, sp->pattern);
        CHECK(phrase != NULL);
        CHECK(score_pattern_category(lex, sp->pattern) != NULL);
        double w = score_pattern_weight(lex, sp->pattern);
        CHECK(w > 0 && w <= 100);
        char *pf = check_fold(phrase, strlen(phrase), &pl);
        const char *fa, *fz, *pa, *pz;
        trimmed(f, fl, &fa, &fz);
        trimmed(pf, pl, &pa, &pz);
        CHECK(pz > pa);
        CHECK(fa == f);                  /* a match never starts on a space */
        CHECK((size_t)(fz - fa) >= (size_t)(pz - pa) && memcmp(fa, pa, (size_t)(pz - pa)) == 0);
        /* ASCII word boundaries (the scorer's Unicode rules are a superset) */
        if (ascii_word((uint8_t)phrase[0]) && sp->start > 0) CHECK(!ascii_word(s[sp->start - 1]));
        if (ascii_word((uint8_t)pa[pz - pa - 1]) && sp->stop < len) CHECK(!ascii_word(s[sp->stop]));
        free(f);
        free(pf);
    }
    check_location(s, r->matches, r->nmatches);
    /* signals */
    CHECK(r->nsignals <= r->capsignals);
    if (!want_spans) CHECK(r->nsignals == 0);
    uint32_t counts[SIG_COUNT] = {0};
    for (size_t m = 0; m < r->nsignals; m++) {
        const ScoreSpan *sp = &r->signals[m];
        CHECK(sp->kind >= 0 && sp->kind < SIG_COUNT);
        CHECK(sp->pattern == -1);
        CHECK(sp->start < sp->stop && sp->stop <= len);
        counts[sp->kind]++;
    }
    if (want_spans)
        for (int k = 0; k < SIG_COUNT; k++) CHECK(counts[k] == r->signal_counts[k]);
    check_location(s, r->signals, r->nsignals);
    /* counters */
    CHECK(r->anchored_sentences <= r->sentences);
    CHECK(r->sentences <= r->words);
    CHECK(r->paragraphs <= r->sentences + 1);
    CHECK(r->sentence_len_mean >= 0 && r->sentence_len_mean <= (double)len + 1);
    CHECK(r->sentence_len_cv >= 0 && r->sentence_len_cv < 1e9);
    static int relax_invalid = -1;          /* FUZZ_SCORE_RELAX=invalid_utf8: past a known bug */
    if (relax_invalid < 0) relax_invalid = getenv("FUZZ_SCORE_RELAX") && strstr(getenv("FUZZ_SCORE_RELAX"), "invalid_utf8");
    if (!relax_invalid) CHECK(r->invalid_utf8 == count_invalid(s, len));
    if (r->invalid_utf8) {
        CHECK(r->first_invalid < len);
        CHECK(utf8_valid_len(s, len, r->first_invalid) == 0);
        CHECK(count_invalid(s, r->first_invalid) == 0);
    }
}

/* Scores text with lex, checks the result; with compare set, also scores it
 * with spans off and checks that only the signal spans differ. */
static void score_checked(const ScoreLexicon *lex, const char *text, size_t len, int compare) {
    ScoreResult r;
    score_text(lex, text, len, 1, &r);
    check_result(lex, text, len, 1, &r);
    if (compare) {
        ScoreResult q;
        score_text(lex, text, len, 0, &q);
        check_result(lex, text, len, 0, &q);
        CHECK(q.nmatches == r.nmatches);
        for (size_t m = 0; m < r.nmatches; m++)
            CHECK(q.matches[m].start == r.matches[m].start && q.matches[m].stop == r.matches[m].stop &&
                  q.matches[m].pattern == r.matches[m].pattern);
        CHECK(memcmp(q.signal_counts, r.signal_counts, sizeof q.signal_counts) == 0);
        CHECK(q.words == r.words && q.sentences == r.sentences && q.paragraphs == r.paragraphs &&
              q.anchored_sentences == r.anchored_sentences);
        score_result_free(&q);
    }
    score_result_free(&r);
    /* score_result_free leaves a reusable, empty result */
    CHECK(r.matches == NULL && r.signals == NULL && r.nmatches == 0);
}

static void fold_checked(const char *text, size_t len) {
    size_t n1, n2;
    char *f1 = check_fold(text, len, &n1);
    char *f2 = check_fold(f1, n1, &n2);        /* folding is idempotent */
    CHECK(n1 == n2 && memcmp(f1, f2, n1) == 0);
    free(f1);
    free(f2);
}

/* ---------------------------------------------------------------- Lua binding */

static lua_State *LS;
static char tmp_path[64];

static void lua_init(void) {
    if (LS) return;
    LS = luaL_newstate();
    CHECK(LS != NULL);
    luaL_requiref(LS, "core.score", luaopen_core_score, 0);
    lua_setglobal(LS, "score");
    lua_gc(LS, LUA_GCINC, 1, 1000, 0);   /* pause 1%: a cycle starts as soon as one ends */
    snprintf(tmp_path, sizeof tmp_path, "/tmp/fuzz_score.%ld.txt", (long)getpid());
}

/* __index of a source table {i = N, t = "\1" .. text}: a full collection first,
 * then a string made now that nothing else references: name "srcN", or the text. */
static int source_index(lua_State *L) {
    lua_gc(L, LUA_GCCOLLECT);
    const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "";
    lua_pushliteral(L, "i");
    lua_rawget(L, 1);
    int i = (int)lua_tointeger(L, -1);
    if (strcmp(k, "name") == 0) { lua_pushfstring(L, "src%d", i); return 1; }
    if (strcmp(k, "text") == 0) {
        size_t l;
        lua_pushliteral(L, "t");
        lua_rawget(L, 1);
        const char *t = lua_tolstring(L, -1, &l);
        if (t && l) { lua_pushlstring(L, t + 1, l - 1); return 1; }
    }
    lua_pushnil(L);
    return 1;
}

/* Calls a Lua function; an error aborts unless allowed (then 0, message popped). */
static int lua_call_allowed(int nargs, int nresults, int allow_error) {
    if (lua_pcall(LS, nargs, nresults, 0) == LUA_OK) return 1;
    if (!allow_error) {
        fprintf(stderr, "fuzz_score: Lua error: %s\n", lua_tostring(LS, -1));
        abort();
    }
    lua_pop(LS, 1);
    return 0;
}

static void lua_call_checked(int nargs, int nresults) { lua_call_allowed(nargs, nresults, 0); }

static lua_Integer field_int(int t, const char *k) {
    lua_getfield(LS, t, k);
    lua_Integer v = lua_tointeger(LS, -1);
    lua_pop(LS, 1);
    return v;
}

/* Checks a Lua result table at the top of the stack against the C result. */
static void check_lua_result(const char *text, size_t len, const ScoreResult *r) {
    int t = lua_gettop(LS);
    CHECK(lua_istable(LS, t));
    CHECK(field_int(t, "words") == (lua_Integer)r->words);
    CHECK(field_int(t, "sentences") == (lua_Integer)r->sentences);
    CHECK(field_int(t, "invalid_utf8") == (lua_Integer)r->invalid_utf8);
    lua_getfield(LS, t, "matches");
    CHECK(lua_rawlen(LS, -1) == r->nmatches);
    for (size_t m = 0; m < r->nmatches; m++) {
        lua_rawgeti(LS, -1, (lua_Integer)m + 1);
        int e = lua_gettop(LS);
        CHECK(field_int(e, "start") == (lua_Integer)r->matches[m].start + 1);
        CHECK(field_int(e, "stop") == (lua_Integer)r->matches[m].stop);
        CHECK(field_int(e, "line") == (lua_Integer)r->matches[m].line);
        lua_getfield(LS, e, "text");
        size_t tl;
        const char *tx = lua_tolstring(LS, -1, &tl);
        CHECK(tx && tl == r->matches[m].stop - r->matches[m].start && r->matches[m].stop <= len &&
              memcmp(tx, text + r->matches[m].start, tl) == 0);
        lua_settop(LS, e - 1);
    }
    lua_pop(LS, 1);
    lua_getfield(LS, t, "signal_spans");
    CHECK(lua_rawlen(LS, -1) == r->nsignals);
    lua_pop(LS, 1);
}

/* How run_lua hands sources to core.score.compile. */
enum { SRC_PLAIN, SRC_INDEX, SRC_NUMBER_NAME };

/* sources: n pieces; text: the last. With SRC_INDEX or SRC_NUMBER_NAME the
 * binding may refuse the sources with a Lua error; if it takes them, it must
 * compile what the C API compiles from the same strings. */
static void run_lua(const char *const *piece, const size_t *plen, size_t n, const char *text, size_t tlen,
                    int how, int number_path) {
    lua_init();
    lua_settop(LS, 0);
    /* C side: the same sources, named as Lua will see them */
    ScoreSource src[8];
    char names[8][32];
    for (size_t i = 0; i < n; i++) {
        if (how == SRC_NUMBER_NAME) snprintf(names[i], sizeof names[i], "%lld", 1000000000000LL + 7919LL * (long long)i);
        else if (how == SRC_INDEX) snprintf(names[i], sizeof names[i], "src%d", (int)i);
        else snprintf(names[i], sizeof names[i], "src");
        src[i].name = names[i];
        src[i].text = piece[i];
        src[i].len = plen[i];
    }
    char err[512];
    ScoreLexicon *lex = score_compile(src, n, err, sizeof err);
    /* score.compile({ {name=, text=}, ... }) */
    lua_getglobal(LS, "score");
    int mod = lua_gettop(LS);
    lua_getfield(LS, mod, "compile");
    lua_createtable(LS, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_createtable(LS, 0, 2);
        if (how == SRC_INDEX) {             /* {i = N, t = "\1" .. text} and the __index above */
            lua_pushinteger(LS, (lua_Integer)i);
            lua_setfield(LS, -2, "i");
            lua_pushliteral(LS, "\1");
            lua_pushlstring(LS, piece[i], plen[i]);
            lua_concat(LS, 2);
            lua_setfield(LS, -2, "t");
            lua_createtable(LS, 0, 1);
            lua_pushcfunction(LS, source_index);
            lua_setfield(LS, -2, "__index");
            lua_setmetatable(LS, -2);
        } else {
            lua_pushlstring(LS, piece[i], plen[i]);
            lua_setfield(LS, -2, "text");
            if (how == SRC_NUMBER_NAME) lua_pushinteger(LS, 1000000000000LL + 7919LL * (lua_Integer)i);
            else lua_pushliteral(LS, "src");
            lua_setfield(LS, -2, "name");
        }
        lua_rawseti(LS, -2, (lua_Integer)i + 1);
    }
    if (!lua_call_allowed(1, 2, how != SRC_PLAIN)) {
        /* refused: go on without a lexicon on both sides */
        score_lexicon_free(lex);
        lex = NULL;
        lua_pushnil(LS);
        lua_pushnil(LS);
    }
    int lx = mod + 1;
    CHECK((lex != NULL) == !lua_isnil(LS, lx));
    if (!lex) {
        if (!lua_isnil(LS, lx + 1))         /* nil: refused above */
            CHECK(lua_type(LS, lx + 1) == LUA_TSTRING && strcmp(lua_tostring(LS, lx + 1), err) == 0);
    } else {
        lua_getfield(LS, lx, "size");
        lua_pushvalue(LS, lx);
        lua_call_checked(1, 1);
        CHECK(lua_tointeger(LS, -1) == (lua_Integer)score_lexicon_size(lex));
        lua_pop(LS, 1);
        lua_getfield(LS, lx, "phrases");
        lua_pushvalue(LS, lx);
        lua_call_checked(1, 1);
        CHECK(lua_rawlen(LS, -1) == score_lexicon_size(lex));
        lua_pop(LS, 1);
    }
    lua_settop(LS, lx);
    /* analyze(text, lexicon|nil, {spans = true}) against score_text */
    ScoreResult r;
    score_text(lex, text, tlen, 1, &r);
    check_result(lex, text, tlen, 1, &r);
    lua_getfield(LS, mod, "analyze");
    lua_pushlstring(LS, text, tlen);
    lua_pushvalue(LS, lx);
    lua_createtable(LS, 0, 1);
    lua_pushboolean(LS, 1);
    lua_setfield(LS, -2, "spans");
    lua_call_checked(3, 1);
    check_lua_result(text, tlen, &r);
    lua_pop(LS, 1);
    /* fold */
    lua_getfield(LS, mod, "fold");
    lua_pushlstring(LS, text, tlen);
    lua_call_checked(1, 1);
    size_t fl, ll;
    char *f = score_fold(text, tlen, &fl);
    const char *lf = lua_tolstring(LS, -1, &ll);
    CHECK(f && lf && fl == ll && memcmp(f, lf, fl) == 0);
    free(f);
    lua_pop(LS, 1);
    /* analyze_files({tmp, missing, tmp}, lexicon, {threads = 2}) */
    FILE *fp = fopen(tmp_path, "wb");
    if (fp) {
        size_t wrote = fwrite(text, 1, tlen, fp);
        fclose(fp);
        if (wrote == tlen) {
            lua_getfield(LS, mod, "analyze_files");
            lua_createtable(LS, 3, 0);
            lua_pushstring(LS, tmp_path); lua_rawseti(LS, -2, 1);
            if (number_path) lua_pushinteger(LS, 404404404404LL);   /* no such file here */
            else lua_pushliteral(LS, "/nonexistent/fuzz_score/missing.txt");
            lua_rawseti(LS, -2, 2);
            lua_pushstring(LS, tmp_path); lua_rawseti(LS, -2, 3);
            lua_pushvalue(LS, lx);
            lua_createtable(LS, 0, 1);
            lua_pushinteger(LS, 2);
            lua_setfield(LS, -2, "threads");
            if (!lua_call_allowed(3, 1, number_path)) lua_newtable(LS);   /* refused: a number path */
            int res = lua_gettop(LS);
            if (lua_rawlen(LS, res) == 0 && number_path) {
                lua_pop(LS, 1);
                unlink(tmp_path);
                goto done;
            }
            CHECK(lua_rawlen(LS, res) == 3);
            for (int k = 1; k <= 3; k++) {
                lua_rawgeti(LS, res, k);
                lua_getfield(LS, -1, "error");
                CHECK(lua_isnil(LS, -1) == (k != 2));
                lua_pop(LS, 1);
                if (k != 2) {
                    CHECK(field_int(lua_gettop(LS), "bytes") == (lua_Integer)tlen);
                    check_lua_result(text, tlen, &r);
                }
                lua_pop(LS, 1);
            }
            lua_pop(LS, 1);
        }
        unlink(tmp_path);
    }
done:
    score_result_free(&r);
    score_lexicon_free(lex);
    lua_settop(LS, 0);
    lua_gc(LS, LUA_GCCOLLECT);   /* frees the lexicon userdata now: __gc runs under the sanitizers */
}

/* ---------------------------------------------------------------- entry point */

static void score_with(const char *lexicon, size_t llen, const char *text, size_t tlen, int header) {
    char *buf = NULL;
    ScoreSource src = { "fuzz", lexicon, llen };
    if (header) {
        static const char H[] = "[fuzz/input weight=2]\n";
        buf = malloc(sizeof H - 1 + llen + 1);
        CHECK(buf != NULL);
        memcpy(buf, H, sizeof H - 1);
        memcpy(buf + sizeof H - 1, lexicon, llen);
        src.text = buf;
        src.len = sizeof H - 1 + llen;
    }
    char err[256];
    err[0] = '\0';
    ScoreLexicon *lex = score_compile(&src, 1, err, sizeof err);
    if (!lex) {
        CHECK(err[0] != '\0' && memchr(err, '\0', sizeof err) != NULL);
    } else {
        score_checked(lex, SAMPLE_TEXT, sizeof SAMPLE_TEXT - 1, 0);
        score_checked(lex, text, tlen, 0);
        score_lexicon_free(lex);
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_init();
    if (size < 1) return 0;
    static int mask = -1;
    if (mask < 0) {
        const char *m = getenv("FUZZ_SCORE_MASK");
        mask = m ? (int)(strtol(m, NULL, 0) & 0xFF) : 0;
    }
    uint8_t flags = data[0] & (uint8_t)~mask;
    /* copies without slack, so ASan sees any read past the end */
    size_t len = size - 1;
    char *in = malloc(len ? len : 1);
    CHECK(in != NULL);
    memcpy(in, data + 1, len);
    switch (flags & 3) {
    case 0:
        fold_checked(in, len);
        score_checked(fixed_lex, in, len, 1);
        score_checked(NULL, in, len, 0);
        break;
    case 1:
        score_with(in, len, in, len, flags & 4);
        break;
    case 2: {
        const char *nul = memchr(in, '\0', len);
        size_t llen = nul ? (size_t)(nul - in) : len;
        const char *text = nul ? nul + 1 : in;
        size_t tlen = nul ? len - llen - 1 : len;
        char *t = malloc(tlen ? tlen : 1);
        CHECK(t != NULL);
        memcpy(t, text, tlen);
        score_with(in, llen, t, tlen, flags & 4);
        fold_checked(t, tlen);
        score_checked(fixed_lex, t, tlen, 0);
        free(t);
        break;
    }
    case 3: {
        const char *piece[8];
        size_t plen[8], n = 0;
        const char *p = in, *end = in + len;
        for (;;) {
            const char *nul = memchr(p, '\0', (size_t)(end - p));
            if (!nul || n == 7) { piece[n] = p; plen[n] = (size_t)(end - p); n++; break; }
            piece[n] = p; plen[n] = (size_t)(nul - p); n++;
            p = nul + 1;
        }
        /* the last piece is the text; the others are sources (none: the text is one too) */
        const char *text = piece[n - 1];
        size_t tlen = plen[n - 1];
        if (flags & 4) { piece[n - 1] = EMBEDDED_LEXICON; plen[n - 1] = sizeof EMBEDDED_LEXICON - 1; }
        else if (n > 1) n--;
        int how = (flags & 8) ? SRC_INDEX : (flags & 32) ? SRC_NUMBER_NAME : SRC_PLAIN;
        run_lua(piece, plen, n, text, tlen, how, flags & 16);
        break;
    }
    }
    free(in);
    return 0;
}
