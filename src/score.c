/* score.c: core.score, lexicon matching over case-folded UTF-8 and text signals.
 *
 * Matching: every lexicon phrase is normalized the same way as the text (case
 * folded, quotes/dashes/whitespace unified) and compiled into one Aho-Corasick
 * automaton over the bytes of normalized text, with transitions for every byte
 * class (bytes no phrase uses share one class). The text is normalized on the
 * fly; a ring of original offsets turns a match's end back into a span. Word
 * boundaries are checked on both sides; the right one a character late.
 * Overlapping matches resolve leftmost-longest. A second pass tokenizes the
 * text for specificity and structure signals. */
#include "score.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>

#define SCORE_RING 512            /* normalized bytes remembered; > longest phrase */
#define SCORE_MAX_PHRASE 480      /* normalized bytes in one phrase */
#define SCORE_OUT_FLAG 0x80000000u
#define SCORE_LEX_MT "candor.score.lexicon"
#define SCORE_RESULT_MT "candor.score.result"

const char *const score_signal_names[SIG_COUNT] = {
    "number_unit", "number", "percent", "money", "duration", "date", "version",
    "named", "acronym", "code", "url", "abstract_unanchored",
    "not_just", "its_not", "triad", "dash_stack", "rhetorical_opener",
    "question", "exclamation", "emoji", "em_dash",
    "first_person_singular", "first_person_plural", "second_person", "contraction",
};

/* ---------------------------------------------------------------- UTF-8 and folding */

/* Decodes the character at s[i]. An invalid or truncated sequence yields
 * U+FFFD for one byte and sets *bad, so scanning always moves forward. */
static size_t utf8_decode(const uint8_t *s, size_t len, size_t i, uint32_t *cp, int *bad) {
    uint8_t b = s[i];
    *bad = 0;
    if (b < 0x80) { *cp = b; return 1; }
    size_t n;
    uint32_t c, min;
    if (b >= 0xC2 && b <= 0xDF) { n = 2; c = b & 0x1F; min = 0x80; }
    else if (b >= 0xE0 && b <= 0xEF) { n = 3; c = b & 0x0F; min = 0x800; }
    else if (b >= 0xF0 && b <= 0xF4) { n = 4; c = b & 0x07; min = 0x10000; }
    else goto invalid;
    if (i + n > len) goto invalid;
    for (size_t k = 1; k < n; k++) {
        if ((s[i + k] & 0xC0) != 0x80) goto invalid;
        c = (c << 6) | (s[i + k] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) goto invalid;
    *cp = c;
    return n;
invalid:
    *cp = 0xFFFD;
    *bad = 1;
    return 1;
}

static size_t utf8_encode(uint32_t c, char *out) {
    if (c < 0x80) { out[0] = (char)c; return 1; }
    if (c < 0x800) { out[0] = (char)(0xC0 | (c >> 6)); out[1] = (char)(0x80 | (c & 0x3F)); return 2; }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12)); out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F)); return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18)); out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F)); out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* Lower case for Latin (with accents), Greek and Cyrillic. */
static uint32_t fold_case(uint32_t c) {
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
    if (c < 0x100) return c;
    if (c <= 0x137) { if (c == 0x130) return 'i'; return (c & 1) ? c : c + 1; }
    if (c >= 0x139 && c <= 0x148) return (c & 1) ? c + 1 : c;
    if (c >= 0x14A && c <= 0x177) return (c & 1) ? c : c + 1;
    if (c == 0x178) return 0xFF;
    if (c >= 0x179 && c <= 0x17E) return (c & 1) ? c + 1 : c;
    if (c == 0x17F) return 's';
    if (c >= 0x1CD && c <= 0x1DC) return (c & 1) ? c + 1 : c;
    if ((c >= 0x1DE && c <= 0x1EF) || (c >= 0x1F8 && c <= 0x21F) || (c >= 0x222 && c <= 0x233))
        return (c & 1) ? c : c + 1;
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
    if (c >= 0x410 && c <= 0x42F) return c + 32;
    if (c >= 0x400 && c <= 0x40F) return c + 80;
    if (c >= 0x1E00 && c <= 0x1EFF && !(c >= 0x1E96 && c <= 0x1E9F)) return (c & 1) ? c : c + 1;
    return c;
}

static int is_space_cp(uint32_t c) {
    return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000;
}

static int is_emoji_cp(uint32_t c) {
    return (c >= 0x1F300 && c <= 0x1FAFF) || (c >= 0x1F000 && c <= 0x1F2FF) ||
           (c >= 0x2600 && c <= 0x27BF) || (c >= 0x2B00 && c <= 0x2BFF);
}

/* Letters and digits of any script count as word characters; punctuation,
 * symbols and emoji do not. */
static int is_word_cp(uint32_t c) {
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (c < 0xC0) return c == 0xAA || c == 0xB5 || c == 0xBA;
    if (c == 0xD7 || c == 0xF7) return 0;
    if (c >= 0x2000 && c <= 0x2BFF) return 0;
    if (c >= 0x2E00 && c <= 0x2E7F) return 0;
    if (c >= 0x3000 && c <= 0x303F) return 0;
    if (c >= 0xFE00 && c <= 0xFE6F) return 0;
    if (c >= 0xFF00 && c <= 0xFF0F) return 0;
    if (c == 0xFFFD || c == 0xFEFF) return 0;
    if (c >= 0x1F000 && c <= 0x1FAFF) return 0;
    return 1;
}

/* The one normalization used for phrases and text alike: folded case, every
 * apostrophe/quote/dash to its ASCII form, whitespace to ' '. Writes up to 4
 * bytes; returns their count. */
static size_t normalize_cp(uint32_t c, char *out, int *space) {
    *space = 0;
    if (c < 0x80) {
        if (c == ' ' || (c >= 0x09 && c <= 0x0D)) { *space = 1; out[0] = ' '; return 1; }
        out[0] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
        return 1;
    }
    if (is_space_cp(c)) { *space = 1; out[0] = ' '; return 1; }
    switch (c) {
    case 0x2018: case 0x2019: case 0x201A: case 0x201B: case 0x2032: case 0x02BC: case 0xFF07:
        out[0] = '\''; return 1;
    case 0x201C: case 0x201D: case 0x201E: case 0x201F: case 0x2033: case 0x00AB: case 0x00BB: case 0xFF02:
        out[0] = '"'; return 1;
    case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014: case 0x2015: case 0x2212:
    case 0xFE58: case 0xFE63: case 0xFF0D:
        out[0] = '-'; return 1;
    case 0x2026:
        out[0] = '.'; return 1;
    default:
        return utf8_encode(fold_case(c), out);
    }
}

char *score_fold(const char *text, size_t len, size_t *outlen) {
    const uint8_t *s = (const uint8_t *)text;
    char *out = malloc(len * 3 + 1);   /* a 1-byte invalid sequence becomes 3 bytes of U+FFFD */
    if (!out) return NULL;
    size_t n = 0;
    int prev_space = 0;
    for (size_t i = 0; i < len;) {
        uint32_t c;
        int bad, space;
        i += utf8_decode(s, len, i, &c, &bad);
        char buf[4];
        size_t k = normalize_cp(c, buf, &space);
        if (space) { if (prev_space) continue; prev_space = 1; }
        else prev_space = 0;
        memcpy(out + n, buf, k);
        n += k;
    }
    out[n] = '\0';
    *outlen = n;
    return out;
}

/* ---------------------------------------------------------------- lexicon */

typedef struct {
    uint32_t category;
    float weight;
    uint16_t nlen;          /* normalized length in bytes */
    uint8_t prefix;         /* no right boundary: "leverag*" */
    uint8_t lword, rword;   /* first/last character is a word character */
    size_t phrase;          /* offset of the phrase as written, in the string pool */
} Pattern;

struct ScoreLexicon {
    Pattern *pats; size_t npats;
    char **cats; size_t ncats;
    char *pool; size_t pool_len, pool_cap;
    uint8_t cls[256]; uint32_t nclass;
    uint32_t *delta;        /* nstates * nclass; SCORE_OUT_FLAG marks states with output */
    int32_t *out;           /* pattern ending exactly at a state, or -1 */
    int32_t *dict;          /* nearest state on the fail chain with output, or -1 */
    uint32_t nstates;
};

typedef struct {            /* a phrase while compiling */
    char *norm; size_t nlen;
    uint32_t category; float weight; int prefix;
    size_t phrase;
} Pending;

typedef struct {
    ScoreLexicon *lex;
    Pending *items; size_t n, cap;
    char *err; size_t errlen;
} Builder;

static int grow(void **p, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 16;
    while (nc < need) nc *= 2;
    void *np = realloc(*p, nc * size);
    if (!np) return -1;
    *p = np;
    *cap = nc;
    return 0;
}

static size_t pool_add(ScoreLexicon *lex, const char *s, size_t n) {
    if (grow((void **)&lex->pool, &lex->pool_cap, lex->pool_len + n + 1, 1)) return (size_t)-1;
    size_t off = lex->pool_len;
    memcpy(lex->pool + off, s, n);
    lex->pool[off + n] = '\0';
    lex->pool_len += n + 1;
    return off;
}

static long find_category(ScoreLexicon *lex, const char *name, size_t n) {
    for (size_t i = 0; i < lex->ncats; i++)
        if (strlen(lex->cats[i]) == n && memcmp(lex->cats[i], name, n) == 0) return (long)i;
    char **nc = realloc(lex->cats, (lex->ncats + 1) * sizeof *nc);
    if (!nc) return -1;
    lex->cats = nc;
    char *copy = malloc(n + 1);
    if (!copy) return -1;
    memcpy(copy, name, n);
    copy[n] = '\0';
    lex->cats[lex->ncats] = copy;
    return (long)lex->ncats++;
}

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static void trim(const char **a, const char **b) {
    while (*a < *b && is_blank(**a)) (*a)++;
    while (*b > *a && is_blank((*b)[-1])) (*b)--;
}

static int parse_weight(const char *a, const char *b, float *w) {
    char buf[32];
    size_t n = (size_t)(b - a);
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, a, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (errno || *end || !(v > 0) || v > 100) return -1;
    *w = (float)v;
    return 0;
}

#define FAIL(...) do { snprintf(b->err, b->errlen, __VA_ARGS__); return -1; } while (0)

/* Parses one source: [dimension/category weight=N] headers, "phrase", "phrase | w", "prefix*". */
static int parse_source(Builder *b, const ScoreSource *src) {
    const char *p = src->text, *end = src->text + src->len;
    const char *name = src->name ? src->name : "lexicon";
    long category = -1;
    float section_weight = 1.0f;
    for (size_t line = 1; p < end; line++) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end;
        const char *a = p, *z = eol;
        p = eol < end ? eol + 1 : end;
        trim(&a, &z);
        if (a == z || *a == '#') continue;
        if (memchr(a, '\0', (size_t)(z - a))) FAIL("%s:%zu: NUL byte in lexicon", name, line);
        if (*a == '[') {
            if (z[-1] != ']') FAIL("%s:%zu: section header needs a closing ]", name, line);
            const char *h = a + 1, *he = z - 1;
            trim(&h, &he);
            const char *ne = h;
            while (ne < he && !is_blank(*ne)) ne++;
            if (ne == h) FAIL("%s:%zu: empty category name", name, line);
            for (const char *q = h; q < ne; q++)
                if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_' || *q == '/' || *q == '-' || *q == '.'))
                    FAIL("%s:%zu: category names use a-z, 0-9, _ - . and /", name, line);
            category = find_category(b->lex, h, (size_t)(ne - h));
            if (category < 0) FAIL("out of memory");
            section_weight = 1.0f;
            const char *o = ne;
            trim(&o, &he);
            if (o < he) {
                if ((size_t)(he - o) < 8 || memcmp(o, "weight=", 7) != 0)
                    FAIL("%s:%zu: unknown section option (only weight=N)", name, line);
                if (parse_weight(o + 7, he, &section_weight))
                    FAIL("%s:%zu: weight must be a number above 0 and at most 100", name, line);
            }
            continue;
        }
        if (category < 0) FAIL("%s:%zu: phrase before any [category] section", name, line);
        float weight = section_weight;
        const char *bar = NULL;
        for (const char *q = a; q < z; q++) if (*q == '|') bar = q;
        const char *pz = z;
        if (bar) {
            const char *wa = bar + 1, *wz = z;
            trim(&wa, &wz);
            if (parse_weight(wa, wz, &weight))
                FAIL("%s:%zu: weight after | must be a number above 0 and at most 100", name, line);
            pz = bar;
        }
        trim(&a, &pz);
        int prefix = 0;
        if (pz > a && pz[-1] == '*') { prefix = 1; pz--; trim(&a, &pz); }
        if (a == pz) FAIL("%s:%zu: empty phrase", name, line);
        /* normalize the phrase exactly as text is normalized */
        const uint8_t *s = (const uint8_t *)a;
        size_t len = (size_t)(pz - a);
        char norm[SCORE_MAX_PHRASE + 8];
        size_t nlen = 0;
        int prev_space = 1;
        for (size_t i = 0; i < len;) {
            uint32_t c;
            int bad, space;
            i += utf8_decode(s, len, i, &c, &bad);
            if (bad) FAIL("%s:%zu: invalid UTF-8 in phrase", name, line);
            char buf[4];
            size_t k = normalize_cp(c, buf, &space);
            if (space) { if (prev_space) continue; prev_space = 1; } else prev_space = 0;
            if (nlen + k > SCORE_MAX_PHRASE) FAIL("%s:%zu: phrase longer than %d bytes", name, line, SCORE_MAX_PHRASE);
            memcpy(norm + nlen, buf, k);
            nlen += k;
        }
        while (nlen && norm[nlen - 1] == ' ') nlen--;
        if (nlen == 0) FAIL("%s:%zu: empty phrase", name, line);
        if (grow((void **)&b->items, &b->cap, b->n + 1, sizeof *b->items)) FAIL("out of memory");
        Pending *it = &b->items[b->n];
        it->norm = malloc(nlen);
        if (!it->norm) FAIL("out of memory");
        memcpy(it->norm, norm, nlen);
        it->nlen = nlen;
        it->category = (uint32_t)category;
        it->weight = weight;
        it->prefix = prefix;
        it->phrase = pool_add(b->lex, a, len);
        if (it->phrase == (size_t)-1) { free(it->norm); FAIL("out of memory"); }
        b->n++;
    }
    return 0;
}

/* Word-ness of a normalized phrase's first/last character. */
static int norm_edge_is_word(const char *s, size_t n, int last) {
    size_t i = 0;
    if (last) { i = n - 1; while (i > 0 && ((uint8_t)s[i] & 0xC0) == 0x80) i--; }
    uint32_t c;
    int bad;
    utf8_decode((const uint8_t *)s, n, i, &c, &bad);
    return is_word_cp(c);
}

static int build_automaton(Builder *b) {
    ScoreLexicon *lex = b->lex;
    /* byte classes: each byte some phrase uses gets its own; the rest share class 0 */
    memset(lex->cls, 0, sizeof lex->cls);
    lex->nclass = 1;
    for (size_t i = 0; i < b->n; i++)
        for (size_t k = 0; k < b->items[i].nlen; k++) {
            uint8_t c = (uint8_t)b->items[i].norm[k];
            if (!lex->cls[c]) lex->cls[c] = (uint8_t)lex->nclass++;
        }
    if (lex->nclass > 255) FAIL("lexicon uses too many distinct bytes");
    size_t maxstates = 1;
    for (size_t i = 0; i < b->n; i++) maxstates += b->items[i].nlen;
    if (maxstates >= SCORE_OUT_FLAG) FAIL("lexicon too large");
    size_t nc = lex->nclass;
    int32_t *go = malloc(maxstates * nc * sizeof *go);
    lex->out = malloc(maxstates * sizeof *lex->out);
    lex->dict = malloc(maxstates * sizeof *lex->dict);
    lex->pats = calloc(b->n ? b->n : 1, sizeof *lex->pats);
    int32_t *fail = malloc(maxstates * sizeof *fail);
    uint32_t *queue = malloc(maxstates * sizeof *queue);
    if (!go || !lex->out || !lex->dict || !lex->pats || !fail || !queue) {
        free(go); free(fail); free(queue);
        FAIL("out of memory");
    }
    for (size_t i = 0; i < maxstates * nc; i++) go[i] = -1;
    uint32_t nstates = 1;
    lex->out[0] = -1;
    /* trie; a phrase given twice keeps its later definition */
    for (size_t i = 0; i < b->n; i++) {
        Pending *it = &b->items[i];
        uint32_t s = 0;
        for (size_t k = 0; k < it->nlen; k++) {
            uint8_t c = lex->cls[(uint8_t)it->norm[k]];
            if (go[s * nc + c] < 0) {
                go[s * nc + c] = (int32_t)nstates;
                lex->out[nstates] = -1;
                nstates++;
            }
            s = (uint32_t)go[s * nc + c];
        }
        int32_t id = lex->out[s];
        if (id < 0) { id = (int32_t)lex->npats++; lex->out[s] = id; }
        Pattern *pt = &lex->pats[id];
        pt->category = it->category;
        pt->weight = it->weight;
        pt->nlen = (uint16_t)it->nlen;
        pt->prefix = (uint8_t)it->prefix;
        pt->lword = (uint8_t)norm_edge_is_word(it->norm, it->nlen, 0);
        pt->rword = (uint8_t)norm_edge_is_word(it->norm, it->nlen, 1);
        pt->phrase = it->phrase;
    }
    /* breadth-first: fail links, dictionary links, full transitions */
    size_t qh = 0, qt = 0;
    fail[0] = 0;
    lex->dict[0] = -1;
    for (size_t c = 0; c < nc; c++) {
        int32_t t = go[c];
        if (t < 0) go[c] = 0;
        else { fail[t] = 0; lex->dict[t] = -1; queue[qt++] = (uint32_t)t; }
    }
    while (qh < qt) {
        uint32_t s = queue[qh++];
        for (size_t c = 0; c < nc; c++) {
            int32_t t = go[s * nc + c];
            if (t < 0) { go[s * nc + c] = go[(size_t)fail[s] * nc + c]; continue; }
            int32_t f = go[(size_t)fail[s] * nc + c];
            fail[t] = f;
            lex->dict[t] = lex->out[f] >= 0 ? f : lex->dict[f];
            queue[qt++] = (uint32_t)t;
        }
    }
    lex->delta = malloc((size_t)nstates * nc * sizeof *lex->delta);
    if (!lex->delta) { free(go); free(fail); free(queue); FAIL("out of memory"); }
    for (size_t i = 0; i < (size_t)nstates * nc; i++) {
        uint32_t t = (uint32_t)go[i];
        lex->delta[i] = t | ((lex->out[t] >= 0 || lex->dict[t] >= 0) ? SCORE_OUT_FLAG : 0);
    }
    lex->nstates = nstates;
    free(go); free(fail); free(queue);
    return 0;
}
#undef FAIL

void score_lexicon_free(ScoreLexicon *lex) {
    if (!lex) return;
    for (size_t i = 0; i < lex->ncats; i++) free(lex->cats[i]);
    free(lex->cats);
    free(lex->pats); free(lex->pool); free(lex->delta); free(lex->out); free(lex->dict);
    free(lex);
}

ScoreLexicon *score_compile(const ScoreSource *src, size_t nsrc, char *err, size_t errlen) {
    Builder b = { calloc(1, sizeof(ScoreLexicon)), NULL, 0, 0, err, errlen };
    if (!b.lex) { snprintf(err, errlen, "out of memory"); return NULL; }
    int rc = 0;
    for (size_t i = 0; i < nsrc && rc == 0; i++) rc = parse_source(&b, &src[i]);
    if (rc == 0) rc = build_automaton(&b);
    for (size_t i = 0; i < b.n; i++) free(b.items[i].norm);
    free(b.items);
    if (rc) { score_lexicon_free(b.lex); return NULL; }
    return b.lex;
}

size_t score_lexicon_size(const ScoreLexicon *lex) { return lex->npats; }
const char *score_pattern_phrase(const ScoreLexicon *lex, int32_t p) { return lex->pool + lex->pats[p].phrase; }
const char *score_pattern_category(const ScoreLexicon *lex, int32_t p) { return lex->cats[lex->pats[p].category]; }
double score_pattern_weight(const ScoreLexicon *lex, int32_t p) { return lex->pats[p].weight; }

/* ---------------------------------------------------------------- results */

static void add_span(ScoreResult *r, int signal, size_t start, size_t stop, int32_t pattern, int32_t kind) {
    ScoreSpan **arr = signal ? &r->signals : &r->matches;
    size_t *n = signal ? &r->nsignals : &r->nmatches;
    size_t *cap = signal ? &r->capsignals : &r->capmatches;
    if (grow((void **)arr, cap, *n + 1, sizeof **arr)) { r->oom = 1; return; }
    ScoreSpan *sp = &(*arr)[(*n)++];
    sp->start = start; sp->stop = stop; sp->pattern = pattern; sp->kind = kind;
    sp->line = sp->col = 0;
}

void score_result_free(ScoreResult *r) {
    free(r->matches);
    free(r->signals);
    memset(r, 0, sizeof *r);
}

/* ---------------------------------------------------------------- matching */

typedef struct { size_t start, stop, nstart, nlen; int32_t pat; } Cand;

typedef struct { Cand *v; size_t n, cap; } CandVec;

static void cand_push(CandVec *cv, ScoreResult *r, Cand c) {
    if (grow((void **)&cv->v, &cv->cap, cv->n + 1, sizeof *cv->v)) { r->oom = 1; return; }
    cv->v[cv->n++] = c;
}

static int cand_order(const void *a, const void *b) {
    const Cand *x = a, *y = b;
    if (x->nstart != y->nstart) return x->nstart < y->nstart ? -1 : 1;
    if (x->nlen != y->nlen) return x->nlen > y->nlen ? -1 : 1;
    return 0;
}

static void match_text(const ScoreLexicon *lex, const uint8_t *s, size_t len, ScoreResult *r) {
    size_t ring_off[SCORE_RING];
    uint8_t ring_word[SCORE_RING];
    CandVec found = {0}, pending = {0};
    const uint32_t nc = lex->nclass;
    const uint32_t *delta = lex->delta;
    uint32_t state = 0;
    size_t npos = 0;            /* normalized bytes fed so far */
    int prev_space = 1;
    for (size_t i = 0; i < len;) {
        uint32_t c;
        int bad, space;
        size_t clen;
        char buf[4];
        size_t k;
        int word;
        uint8_t b0 = s[i];
        if (b0 < 0x80) {       /* fast path: ASCII */
            c = b0; clen = 1;
            space = (b0 == ' ' || (b0 >= 0x09 && b0 <= 0x0D));
            buf[0] = space ? ' ' : (char)((b0 >= 'A' && b0 <= 'Z') ? b0 + 32 : b0);
            k = 1;
            word = (b0 >= 'a' && b0 <= 'z') || (b0 >= 'A' && b0 <= 'Z') || (b0 >= '0' && b0 <= '9') || b0 == '_';
        } else {
            clen = utf8_decode(s, len, i, &c, &bad);
            if (bad) { if (!r->invalid_utf8++) r->first_invalid = i; }
            k = normalize_cp(c, buf, &space);
            word = is_word_cp(c);
        }
        /* the character after a match decides its right boundary */
        if (pending.n) {
            for (size_t p = 0; p < pending.n; p++)
                if (!word) cand_push(&found, r, pending.v[p]);
            pending.n = 0;
        }
        if (space) {
            if (prev_space) { i += clen; continue; }
            prev_space = 1;
        } else prev_space = 0;
        for (size_t j = 0; j < k; j++) {
            ring_off[npos % SCORE_RING] = i;
            ring_word[npos % SCORE_RING] = (uint8_t)word;
            uint32_t t = delta[(size_t)state * nc + lex->cls[(uint8_t)buf[j]]];
            state = t & ~SCORE_OUT_FLAG;
            if (t & SCORE_OUT_FLAG) {
                int32_t st = (int32_t)state;
                if (lex->out[st] < 0) st = lex->dict[st];
                while (st >= 0) {
                    int32_t pid = lex->out[st];
                    const Pattern *pt = &lex->pats[pid];
                    size_t nstart = npos + 1 - pt->nlen;
                    int left_ok = !pt->lword || nstart == 0 || !ring_word[(nstart - 1) % SCORE_RING];
                    /* a phrase ends at a character's last byte only */
                    if (left_ok && j == k - 1) {
                        Cand cd = { ring_off[nstart % SCORE_RING], i + clen, nstart, pt->nlen, pid };
                        if (pt->rword && !pt->prefix) cand_push(&pending, r, cd);
                        else cand_push(&found, r, cd);
                    }
                    st = lex->dict[st];
                }
            }
            npos++;
        }
        i += clen;
    }
    for (size_t p = 0; p < pending.n; p++) cand_push(&found, r, pending.v[p]);
    free(pending.v);
    /* leftmost-longest, no overlaps */
    if (found.n > 1) qsort(found.v, found.n, sizeof *found.v, cand_order);   /* qsort(NULL, 0) is undefined */
    size_t covered = 0;
    int any = 0;
    for (size_t m = 0; m < found.n; m++) {
        Cand *cd = &found.v[m];
        if (any && cd->nstart < covered) continue;
        if (lex->pats[cd->pat].prefix) {      /* report the whole word: "leverag*" -> "leveraged" */
            while (cd->stop < len) {
                uint32_t c;
                int bad;
                size_t n = utf8_decode(s, len, cd->stop, &c, &bad);
                if (bad || !is_word_cp(c)) break;
                cd->stop += n;
            }
        }
        add_span(r, 0, cd->start, cd->stop, cd->pat, -1);
        covered = cd->nstart + cd->nlen;
        any = 1;
    }
    free(found.v);
}

/* ---------------------------------------------------------------- signals */

typedef struct {
    const uint8_t *s; size_t len;
    ScoreResult *r;
    int want_spans;
    /* sentence */
    size_t sent_start, sent_words, sent_dashes;
    int sent_anchor, sent_first_in_par, sent_counted_par;
    int not_just, its_not, carry_not_just, carry_its_not;
    /* recent tokens for shapes */
    char prev_word[64], prev2_word[64];   /* as long as a token key */
    int triad_state, triad_adj;
    /* paragraph */
    int par_has_words;
    /* sentence lengths */
    size_t *lens; size_t nlens, caplens;
    /* abstract matches by start */
    const ScoreLexicon *lex;
    size_t next_match;
} Sig;

static void signal(Sig *g, int kind, size_t start, size_t stop) {
    g->r->signal_counts[kind]++;
    if (SIG_IS_ANCHOR(kind)) g->sent_anchor = 1;
    if (g->want_spans) add_span(g->r, 1, start, stop, -1, kind);
}

static int is_abstract(const ScoreLexicon *lex, int32_t pat) {
    const char *c = lex->cats[lex->pats[pat].category];
    return strncmp(c, "abstract", 8) == 0;
}

static void end_sentence(Sig *g, size_t at) {
    if (g->sent_words) {
        ScoreResult *r = g->r;
        r->sentences++;
        if (g->sent_anchor) r->anchored_sentences++;
        if (g->sent_dashes >= 2) signal(g, SIG_DASH_STACK, g->sent_start, at);
        if (!grow((void **)&g->lens, &g->caplens, g->nlens + 1, sizeof *g->lens)) g->lens[g->nlens++] = g->sent_words;
        /* abstract claims in this sentence count when nothing concrete anchors them */
        if (g->lex) {
            while (g->next_match < r->nmatches && r->matches[g->next_match].start < at) {
                ScoreSpan *m = &r->matches[g->next_match++];
                if (m->start >= g->sent_start && !g->sent_anchor && is_abstract(g->lex, m->pattern))
                    signal(g, SIG_ABSTRACT_UNANCHORED, m->start, m->stop);
            }
        }
        g->sent_first_in_par = 0;
        g->carry_not_just = g->not_just;
        g->carry_its_not = g->its_not;
    } else {
        g->carry_not_just = g->carry_its_not = 0;
    }
    g->sent_words = g->sent_dashes = 0;
    g->sent_anchor = 0;
    g->not_just = g->its_not = 0;
    g->sent_start = at;
    g->triad_state = 0;
    g->prev_word[0] = g->prev2_word[0] = '\0';
}

static void end_paragraph(Sig *g, size_t at) {
    end_sentence(g, at);
    if (g->par_has_words) g->r->paragraphs++;
    g->par_has_words = 0;
    g->sent_first_in_par = 1;
}

static int word_in(const char *w, const char *const *list) {
    for (; *list; list++) if (strcmp(w, *list) == 0) return 1;
    return 0;
}

static const char *const DURATION_UNITS[] = {
    "ms", "msec", "msecs", "millisecond", "milliseconds", "ns", "us", "µs", "nanoseconds", "microseconds",
    "s", "sec", "secs", "second", "seconds", "min", "mins", "minute", "minutes", "h", "hr", "hrs", "hour",
    "hours", "day", "days", "week", "weeks", "month", "months", "year", "years", "yr", "yrs", "am", "pm",
    "quarter", "quarters", "sprint", "sprints", NULL };
static const char *const OTHER_UNITS[] = {
    "b", "kb", "mb", "gb", "tb", "pb", "kib", "mib", "gib", "tib", "bytes", "k", "m", "bn", "x",
    "rps", "qps", "tps", "rpm", "ops", "iops", "req", "requests", "core", "cores", "cpu", "cpus", "vcpu",
    "vcpus", "gpu", "gpus", "node", "nodes", "pod", "pods", "server", "servers", "instance", "instances",
    "cluster", "clusters", "region", "regions", "user", "users", "engineer", "engineers", "people",
    "team", "teams", "service", "services", "microservices", "repo", "repos", "repositories", "test",
    "tests", "build", "builds", "deploy", "deploys", "deployments", "release", "releases", "commit",
    "commits", "line", "lines", "loc", "row", "rows", "record", "records", "event", "events", "query",
    "queries", "alert", "alerts", "page", "pages", "incident", "incidents", "ticket", "tickets",
    "customer", "customers", "seat", "seats", "container", "containers", "vm", "vms", "host", "hosts",
    "machine", "machines", "thread", "threads", "connection", "connections", "file", "files", "step",
    "steps", "job", "jobs", "run", "runs", "retry", "retries", "error", "errors", "failure", "failures",
    "hz", "khz", "mhz", "ghz", "times", "tables", "table", "shards", "partitions", "replicas", "pipelines",
    "workers", "tokens", "percentile", "points", "dashboards", "endpoints", "calls", "messages", NULL };
static const char *const CURRENCY_WORDS[] = { "usd", "eur", "gbp", "dollars", "euros", "pounds", NULL };
static const char *const MONTHS[] = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
    "dec", NULL };
static const char *const WEEKDAYS[] = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", NULL };
static const char *const ABBREVIATIONS[] = {
    "e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "inc", "ltd", "approx", "cf", "no", "fig", NULL };
/* Common words written in capitals for emphasis: not acronyms. */
static const char *const SHOUTED_WORDS[] = {
    "a", "an", "the", "and", "or", "but", "not", "no", "yes", "is", "are", "was", "be", "it", "in",
    "into", "on", "of", "to", "for", "with", "all", "any", "new", "now", "free", "more", "most", "best",
    "big", "huge", "this", "that", "you", "your", "we", "our", "stop", "never", "ever", "just", "so",
    "very", "real", "why", "how", "what", "wow", "omg", "lol", "delve", "game", "boom", NULL };
static const char *const ADJECTIVES[] = {
    "fast", "faster", "reliable", "secure", "scalable", "simple", "powerful", "seamless", "intuitive",
    "robust", "flexible", "efficient", "modern", "easy", "smart", "agile", "innovative", "lightweight",
    "elegant", "resilient", "transparent", "actionable", "proactive", "effortless", "frictionless",
    "comprehensive", "cutting-edge", "bold", "clear", "consistent", "confident", "predictable", "safe",
    "smarter", "better", "stronger", "cheaper", "leaner", "quick", "quicker", "human", "honest", "open",
    "collaborative", "dynamic", "holistic", "strategic", "meaningful", "impactful", "authentic", NULL };

/* Lower-cased ASCII copy of a token for keyword checks; "" if too long. */
static void token_key(const uint8_t *s, size_t a, size_t b, char *out, size_t cap) {
    size_t n = 0;
    for (size_t i = a; i < b; i++) {
        if (n + 1 >= cap) { out[0] = '\0'; return; }
        uint8_t c = s[i];
        if (c == 0xE2 && i + 2 < b && s[i + 1] == 0x80 && s[i + 2] == 0x99) { out[n++] = '\''; i += 2; continue; }
        out[n++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    out[n] = '\0';
}

static int looks_adjective(const char *w) {
    size_t n = strlen(w);
    if (n < 3) return 0;
    if (word_in(w, ADJECTIVES)) return 1;
    static const char *const suffixes[] = { "ive", "able", "ible", "ful", "less", "ous", "ic", "ent", "ant", NULL };
    for (const char *const *sfx = suffixes; *sfx; sfx++) {
        size_t m = strlen(*sfx);
        if (n > m + 2 && strcmp(w + n - m, *sfx) == 0) return 1;
    }
    return 0;
}

/* The next word after position i on the same line, lower-cased, into out. */
static void peek_word(const uint8_t *s, size_t len, size_t i, char *out, size_t cap) {
    while (i < len && (s[i] == ' ' || s[i] == '\t')) i++;
    size_t a = i;
    while (i < len && (((s[i] | 32) >= 'a' && (s[i] | 32) <= 'z') || s[i] == '/' || s[i] >= 0x80)) i++;
    token_key(s, a, i, out, cap);
}

static int prev_nonspace(const uint8_t *s, size_t i) {
    while (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t')) i--;
    return i > 0 ? s[i - 1] : -1;
}

/* A number token s[a, b): what it measures decides its signal. */
static void number_token(Sig *g, size_t a, size_t b, const char *key, int after_named) {
    const uint8_t *s = g->s;
    size_t n = strlen(key);
    int pc = prev_nonspace(s, a);
    /* currency before it: $40, € 1.2m */
    if (pc == '$' || (a >= 2 && s[a - 2] == 0xC2 && s[a - 1] == 0xA3) ||
        (a >= 3 && s[a - 3] == 0xE2 && s[a - 2] == 0x82 && s[a - 1] == 0xAC) ||
        (a >= 2 && s[a - 2] == 0xC2 && s[a - 1] == 0xA5)) {
        signal(g, SIG_MONEY, a, b);
        return;
    }
    if (b < g->len && s[b] == '%') { signal(g, SIG_PERCENT, a, b + 1); return; }
    /* dates and versions by shape */
    if (n == 10 && key[4] == '-' && key[7] == '-') { signal(g, SIG_DATE, a, b); return; }
    int dots = 0;
    for (const char *q = key; *q; q++) dots += *q == '.';
    if (key[0] == 'v' || dots >= 2 || after_named) { signal(g, SIG_VERSION, a, b); return; }
    /* a unit glued on: 200ms, 5gb, 3x, 10k */
    size_t d = 0;
    while (d < n && ((key[d] >= '0' && key[d] <= '9') || key[d] == '.' || key[d] == ',')) d++;
    if (d < n) {
        const char *unit = key + d;
        if (word_in(unit, DURATION_UNITS)) signal(g, SIG_DURATION, a, b);
        else signal(g, SIG_NUMBER_UNIT, a, b);
        return;
    }
    char next[24];
    peek_word(s, g->len, b, next, sizeof next);
    if (next[0]) {
        if (strcmp(next, "percent") == 0 || strcmp(next, "pct") == 0) { signal(g, SIG_PERCENT, a, b); return; }
        if (word_in(next, CURRENCY_WORDS)) { signal(g, SIG_MONEY, a, b); return; }
        if (word_in(next, DURATION_UNITS)) { signal(g, SIG_DURATION, a, b); return; }
        if (word_in(next, OTHER_UNITS)) { signal(g, SIG_NUMBER_UNIT, a, b); return; }
    }
    if (n == 4 && (key[0] == '1' || key[0] == '2') && (memcmp(key, "19", 2) == 0 || memcmp(key, "20", 2) == 0)) {
        signal(g, SIG_DATE, a, b);
        return;
    }
    signal(g, SIG_NUMBER, a, b);
}

static void shape_word(Sig *g, const char *w, size_t a, size_t b) {
    /* "not just X, but Y" and "it's not X, it's Y", within a sentence or across two */
    int is_its = strcmp(w, "it's") == 0 || strcmp(w, "that's") == 0 || strcmp(w, "they're") == 0 ||
                 strcmp(w, "this") == 0;
    if (g->sent_words == 1) {
        if (g->carry_not_just && (is_its || strcmp(w, "but") == 0)) { signal(g, SIG_NOT_JUST, a, b); g->carry_not_just = 0; }
        else if (g->carry_its_not && is_its) { signal(g, SIG_ITS_NOT, a, b); g->carry_its_not = 0; }
    }
    if ((strcmp(w, "just") == 0 || strcmp(w, "only") == 0 || strcmp(w, "merely") == 0 || strcmp(w, "simply") == 0) &&
        (strcmp(g->prev_word, "not") == 0 || strcmp(g->prev_word, "isn't") == 0 || strcmp(g->prev_word, "aren't") == 0)) {
        g->not_just = 1;
        g->its_not = 0;
    } else if (g->not_just && strcmp(w, "but") == 0) {
        signal(g, SIG_NOT_JUST, a, b);
        g->not_just = 0;
    } else if (!g->not_just && ((strcmp(w, "not") == 0 && (strcmp(g->prev_word, "it's") == 0 || strcmp(g->prev_word, "is") == 0 ||
                                   strcmp(g->prev_word, "that's") == 0)) ||
                                  strcmp(w, "isn't") == 0 || strcmp(w, "aren't") == 0 || strcmp(w, "wasn't") == 0)) {
        g->its_not = 1;
    } else if (g->its_not && is_its && g->sent_words > 3) {
        signal(g, SIG_ITS_NOT, a, b);
        g->its_not = 0;
    }
    /* triads: "fast, reliable, and secure" */
    int adj = looks_adjective(w);
    switch (g->triad_state) {
    case 0: g->triad_state = 1; g->triad_adj = adj; break;          /* W */
    case 2: g->triad_state = 3; g->triad_adj += adj; break;         /* W , W */
    case 4: case 5:                                                  /* W , W , [and] W */
        if ((strcmp(w, "and") == 0 || strcmp(w, "or") == 0) && g->triad_state == 4) { g->triad_state = 5; break; }
        if (g->triad_adj + adj >= 2) signal(g, SIG_TRIAD, a, b);
        g->triad_state = 1; g->triad_adj = adj;
        break;
    case 3:
        if (strcmp(w, "and") == 0 || strcmp(w, "or") == 0) { g->triad_state = 5; break; }
        g->triad_state = 1; g->triad_adj = adj;
        break;
    default: g->triad_state = 1; g->triad_adj = adj;
    }
    memcpy(g->prev2_word, g->prev_word, sizeof g->prev_word);
    snprintf(g->prev_word, sizeof g->prev_word, "%s", w);
}

static int is_upper_start(const uint8_t *s, size_t a, size_t b) {
    if (s[a] >= 'A' && s[a] <= 'Z') return 1;
    if (s[a] >= 0xC0 && a + 1 < b) {
        uint32_t c;
        int bad;
        utf8_decode(s, b, a, &c, &bad);
        return !bad && fold_case(c) != c;
    }
    return 0;
}

static void word_token(Sig *g, size_t a, size_t b, int sentence_start) {
    const uint8_t *s = g->s;
    char key[64];
    token_key(s, a, b, key, sizeof key);
    ScoreResult *r = g->r;
    r->words++;
    g->sent_words++;
    g->par_has_words = 1;
    int digit_start = s[a] >= '0' && s[a] <= '9';
    if (digit_start || (key[0] == 'v' && key[1] >= '0' && key[1] <= '9')) {
        int after_named = g->prev_word[0] && strcmp(g->prev_word, "@named") == 0;
        number_token(g, a, b, key, after_named);
        g->triad_state = 0;
        snprintf(g->prev_word, sizeof g->prev_word, "%s", "@number");
        return;
    }
    if (!key[0]) return;
    if (key[0] == 'p' && (strcmp(key, "p50") == 0 || strcmp(key, "p90") == 0 || strcmp(key, "p95") == 0 ||
                          strcmp(key, "p99") == 0 || strcmp(key, "p999") == 0)) {
        signal(g, SIG_NUMBER_UNIT, a, b);
        return;
    }
    if (strcmp(key, "i") == 0 || strcmp(key, "me") == 0 || strcmp(key, "my") == 0 || strcmp(key, "mine") == 0 ||
        strcmp(key, "i'm") == 0 || strcmp(key, "i've") == 0 || strcmp(key, "i'd") == 0 || strcmp(key, "i'll") == 0 ||
        strcmp(key, "myself") == 0)
        signal(g, SIG_FIRST_PERSON_SINGULAR, a, b);
    else if (strcmp(key, "we") == 0 || strcmp(key, "us") == 0 || strcmp(key, "our") == 0 || strcmp(key, "ours") == 0 ||
             strcmp(key, "we're") == 0 || strcmp(key, "we've") == 0 || strcmp(key, "we'd") == 0 || strcmp(key, "we'll") == 0)
        signal(g, SIG_FIRST_PERSON_PLURAL, a, b);
    else if (strcmp(key, "you") == 0 || strcmp(key, "your") == 0 || strcmp(key, "yours") == 0 ||
             strcmp(key, "you're") == 0 || strcmp(key, "you've") == 0 || strcmp(key, "you'll") == 0)
        signal(g, SIG_SECOND_PERSON, a, b);
    if (strchr(key, '\'')) signal(g, SIG_CONTRACTION, a, b);

    int named = 0;
    if (word_in(key, MONTHS) || word_in(key, WEEKDAYS)) {
        size_t j = b;
        while (j < g->len && s[j] == ' ') j++;
        int num_next = j < g->len && s[j] >= '0' && s[j] <= '9';
        if (word_in(key, WEEKDAYS) || num_next) {
            /* a date: the number after it is a day or a year, not a version */
            signal(g, SIG_DATE, a, b);
            g->triad_state = 0;
            snprintf(g->prev_word, sizeof g->prev_word, "%s", "@date");
            return;
        }
    } else if (key[0] == 'q' && key[1] >= '1' && key[1] <= '4' && key[2] == '\0' && s[a] == 'Q') {
        signal(g, SIG_DATE, a, b);
        named = 1;
    } else if (is_upper_start(s, a, b)) {
        size_t upper = 0, letters = 0, inner_upper = 0;
        for (size_t i = a; i < b; i++) {
            if ((s[i] >= 'A' && s[i] <= 'Z')) { upper++; letters++; if (i > a) inner_upper++; }
            else if (s[i] >= 'a' && s[i] <= 'z') letters++;
        }
        if (upper >= 2 && upper == letters && letters <= 6 && !word_in(key, SHOUTED_WORDS)) { signal(g, SIG_ACRONYM, a, b); named = 1; }
        else if (inner_upper || (!sentence_start && strcmp(key, "i") != 0)) { signal(g, SIG_NAMED, a, b); named = 1; }
    }
    if (named) { g->triad_state = 0; snprintf(g->prev_word, sizeof g->prev_word, "%s", "@named"); return; }
    shape_word(g, key, a, b);
}

static int is_sentence_word_char(uint8_t c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

/* Whether s[i] continues a token: letters/digits, and . - ' / : joining two of them. */
static size_t token_end(const uint8_t *s, size_t len, size_t i) {
    while (i < len) {
        uint8_t c = s[i];
        if (c >= 0x80) {
            uint32_t cp;
            int bad;
            size_t n = utf8_decode(s, len, i, &cp, &bad);
            /* a curly apostrophe or a Unicode hyphen/en dash between letters stays in the word */
            if ((cp == 0x2019 || cp == 0x2010 || cp == 0x2011 || cp == 0x2013) && i + n < len &&
                is_sentence_word_char(s[i + n]) && s[i + n] < 0x80) { i += n; continue; }
            if (bad || !is_word_cp(cp)) break;
            i += n;
            continue;
        }
        if (is_sentence_word_char(c)) { i++; continue; }
        if ((c == '.' || c == '-' || c == '\'' || c == '/' || c == ',' || c == ':') && i + 1 < len &&
            is_sentence_word_char(s[i + 1]) && s[i + 1] < 0x80) {
            /* a comma or colon only inside numbers: 1,200 and 10:30 */
            if ((c == ',' || c == ':') && !(i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9' && s[i + 1] >= '0' && s[i + 1] <= '9')) break;
            i++;
            continue;
        }
        break;
    }
    return i;
}

static int starts_with_ci(const uint8_t *s, size_t len, size_t i, const char *lit) {
    size_t n = strlen(lit);
    if (i + n > len) return 0;
    for (size_t k = 0; k < n; k++) {
        uint8_t c = s[i + k];
        if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != (uint8_t)lit[k]) return 0;
    }
    return 1;
}

static void signals_text(const ScoreLexicon *lex, const uint8_t *s, size_t len, int want_spans, ScoreResult *r) {
    Sig g;
    memset(&g, 0, sizeof g);
    g.s = s; g.len = len; g.r = r; g.want_spans = want_spans; g.lex = lex;
    g.sent_first_in_par = 1;
    int sentence_start = 1;
    int line_start = 1;
    for (size_t i = 0; i < len;) {
        uint8_t c = s[i];
        if (c == '\n') {
            /* blank line: paragraph; bullet or heading next: the line was a sentence */
            size_t j = i + 1;
            while (j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r')) j++;
            if (j >= len || s[j] == '\n') { end_paragraph(&g, i); sentence_start = 1; }
            else if (s[j] == '-' || s[j] == '*' || s[j] == '#' || s[j] == '>' || (s[j] == 0xE2 && j + 2 < len && s[j + 1] == 0x80 && s[j + 2] == 0xA2) ||
                     (s[j] >= '0' && s[j] <= '9' && j + 1 < len && (s[j + 1] == '.' || s[j + 1] == ')'))) {
                end_sentence(&g, i);
                sentence_start = 1;
            }
            i++;
            line_start = 1;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r') { i++; continue; }
        int at_line_start = line_start;
        line_start = 0;
        if (at_line_start && (c == '-' || c == '*' || c == '#' || c == '>')) {
            while (i < len && (s[i] == c || s[i] == ' ')) i++;   /* list marker or heading */
            sentence_start = 1;
            continue;
        }
        if (c == '`') {
            size_t j = i + 1;
            while (j < len && s[j] != '`' && s[j] != '\n') j++;
            if (j < len && s[j] == '`' && j > i + 1) {
                signal(&g, SIG_CODE, i, j + 1);
                r->words++; g.sent_words++; g.par_has_words = 1;
                sentence_start = 0;
                i = j + 1;
                continue;
            }
            i++;
            continue;
        }
        if (starts_with_ci(s, len, i, "http://") || starts_with_ci(s, len, i, "https://") || starts_with_ci(s, len, i, "www.")) {
            size_t j = i;
            while (j < len && s[j] > ' ' && s[j] != '<' && s[j] != '>' && s[j] != '"') j++;
            while (j > i && (s[j - 1] == '.' || s[j - 1] == ',' || s[j - 1] == ')' || s[j - 1] == ';')) j--;
            signal(&g, SIG_URL, i, j);
            r->words++; g.sent_words++; g.par_has_words = 1;
            sentence_start = 0;
            i = j;
            continue;
        }
        if (is_sentence_word_char(c)) {
            uint32_t cp = c;
            int bad = 0;
            if (c >= 0x80) utf8_decode(s, len, i, &cp, &bad);
            if (c < 0x80 || (!bad && is_word_cp(cp))) {
                size_t j = token_end(s, len, i);
                if (j == i) j = i + 1;
                word_token(&g, i, j, sentence_start);
                sentence_start = 0;
                i = j;
                continue;
            }
        }
        /* punctuation, symbols, emoji */
        uint32_t cp;
        int bad;
        size_t n = utf8_decode(s, len, i, &cp, &bad);
        if (bad) { i += n; continue; }
        if (cp == '.' || cp == '!' || cp == '?' || cp == 0x2026) {
            if (cp == '!') signal(&g, SIG_EXCLAMATION, i, i + 1);
            size_t j = i + n;
            while (j < len && (s[j] == '.' || s[j] == '!' || s[j] == '?')) { if (s[j] == '!') signal(&g, SIG_EXCLAMATION, j, j + 1); j++; }
            while (j < len && (s[j] == '"' || s[j] == '\'' || s[j] == ')')) j++;
            int at_end = j >= len || s[j] == ' ' || s[j] == '\n' || s[j] == '\t' || s[j] == '\r' || s[j] >= 0x80;
            int abbrev = cp == '.' && (word_in(g.prev_word, ABBREVIATIONS) || (strlen(g.prev_word) == 1 && g.prev_word[0] != 'i'));
            if (at_end && !abbrev) {
                int question = 0;
                for (size_t k = i; k < j; k++) question |= s[k] == '?';
                if (question) {
                    signal(&g, SIG_QUESTION, i, j);
                    if (g.sent_first_in_par && g.sent_words) signal(&g, SIG_RHETORICAL_OPENER, g.sent_start, j);
                }
                end_sentence(&g, j);
                sentence_start = 1;
            }
            i = j;
            continue;
        }
        /* an em dash anywhere; an en dash or hyphen standing between spaces */
        int spaced = i > 0 && s[i - 1] == ' ' && i + n < len && s[i + n] == ' ';
        if (cp == 0x2014 || ((cp == 0x2013 || cp == '-') && spaced)) {
            signal(&g, SIG_EM_DASH, i, i + n);
            g.sent_dashes++;
        } else if (cp == ',') {
            if (g.triad_state == 1 || g.triad_state == 3) g.triad_state++;
            else g.triad_state = 0;
        } else if (is_emoji_cp(cp)) {
            signal(&g, SIG_EMOJI, i, i + n);
        } else if (cp != '(' && cp != ')' && cp != '"' && cp != '\'' && cp != 0x201C && cp != 0x201D) {
            g.triad_state = 0;
        }
        i += n;
    }
    end_paragraph(&g, len);
    if (g.nlens) {
        double sum = 0, sq = 0;
        for (size_t k = 0; k < g.nlens; k++) sum += (double)g.lens[k];
        double mean = sum / (double)g.nlens;
        for (size_t k = 0; k < g.nlens; k++) sq += ((double)g.lens[k] - mean) * ((double)g.lens[k] - mean);
        r->sentence_len_mean = mean;
        r->sentence_len_cv = g.nlens >= 3 && mean > 0 ? sqrt(sq / (double)g.nlens) / mean : 0;
    }
    free(g.lens);
}

/* Line and column (code points) of each span's start, through one index of line starts. */
static int span_start_order(const void *a, const void *b) {
    const ScoreSpan *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static void locate(const uint8_t *s, size_t len, ScoreSpan *spans, size_t n) {
    if (!n) return;
    size_t line = 1, line_start = 0, pos = 0;
    /* spans are sorted by start: walk forward once */
    for (size_t k = 0; k < n; k++) {
        size_t target = spans[k].start;
        if (target < pos) { line = 1; line_start = 0; pos = 0; }
        while (pos < target && pos < len) {
            const uint8_t *nl = memchr(s + pos, '\n', target - pos);
            if (!nl) { pos = target; break; }
            line++;
            pos = (size_t)(nl - s) + 1;
            line_start = pos;
        }
        size_t col = 1;
        for (size_t i = line_start; i < target && i < len; i++) col += (s[i] & 0xC0) != 0x80;
        spans[k].line = (uint32_t)line;
        spans[k].col = (uint32_t)col;
    }
}

void score_text(const ScoreLexicon *lex, const char *text, size_t len, int want_spans, ScoreResult *out) {
    memset(out, 0, sizeof *out);
    const uint8_t *s = (const uint8_t *)text;
    if (lex && lex->npats) match_text(lex, s, len, out);
    else {
        /* still report invalid UTF-8 */
        for (size_t i = 0; i < len;) {
            uint32_t c;
            int bad;
            size_t n = utf8_decode(s, len, i, &c, &bad);
            if (bad && !out->invalid_utf8++) out->first_invalid = i;
            i += n;
        }
    }
    signals_text(lex, s, len, want_spans, out);
    locate(s, len, out->matches, out->nmatches);
    if (out->nsignals) {
        qsort(out->signals, out->nsignals, sizeof *out->signals, span_start_order);
        locate(s, len, out->signals, out->nsignals);
    }
}

/* ---------------------------------------------------------------- Lua */

typedef struct { ScoreLexicon *lex; } LexBox;

static LexBox *check_lex(lua_State *L, int idx) {
    LexBox *b = luaL_checkudata(L, idx, SCORE_LEX_MT);
    if (!b->lex) luaL_error(L, "lexicon is freed");
    return b;
}

static int lex_gc(lua_State *L) {
    LexBox *b = luaL_checkudata(L, 1, SCORE_LEX_MT);
    score_lexicon_free(b->lex);
    b->lex = NULL;
    return 0;
}

/* compile(source | {source, ...}) where a source is a string or {name = , text = }
 * -> lexicon | nil, "name:line: message" */
static int score_compile_l(lua_State *L) {
    luaL_checkany(L, 1);
    int single = lua_type(L, 1) == LUA_TSTRING || (lua_istable(L, 1) && lua_getfield(L, 1, "text") != LUA_TNIL);
    if (lua_istable(L, 1) && lua_type(L, 1) != LUA_TSTRING) lua_pop(L, 1);
    size_t n = single ? 1 : lua_rawlen(L, 1);
    LexBox *box = lua_newuserdatauv(L, sizeof *box, 0);
    box->lex = NULL;
    luaL_setmetatable(L, SCORE_LEX_MT);
    ScoreSource *src = lua_newuserdatauv(L, (n ? n : 1) * sizeof *src, 0);   /* freed by GC */
    for (size_t i = 0; i < n; i++) {
        if (single) lua_pushvalue(L, 1);
        else lua_rawgeti(L, 1, (lua_Integer)i + 1);
        if (lua_type(L, -1) == LUA_TSTRING) {
            src[i].name = "lexicon";
            src[i].text = lua_tolstring(L, -1, &src[i].len);
        } else if (lua_istable(L, -1)) {
            lua_getfield(L, -1, "text");
            src[i].text = lua_tolstring(L, -1, &src[i].len);
            if (!src[i].text) return luaL_error(L, "lexicon source %d has no text", (int)i + 1);
            lua_getfield(L, -2, "name");
            src[i].name = lua_tostring(L, -1) ? lua_tostring(L, -1) : "lexicon";
            lua_pop(L, 2);
        } else {
            return luaL_error(L, "lexicon source %d must be a string or {name =, text =}", (int)i + 1);
        }
        /* the strings stay alive: they are in argument 1 */
        lua_pop(L, 1);
    }
    char err[512];
    box->lex = score_compile(src, n, err, sizeof err);
    if (!box->lex) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    lua_pop(L, 1);   /* src */
    return 1;
}

static int lex_size(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)check_lex(L, 1)->lex->npats);
    return 1;
}

/* lexicon:phrases() -> { {phrase, category, weight, prefix}, ... } */
static int lex_phrases(lua_State *L) {
    ScoreLexicon *lex = check_lex(L, 1)->lex;
    lua_createtable(L, (int)lex->npats, 0);
    for (size_t i = 0; i < lex->npats; i++) {
        lua_createtable(L, 0, 4);
        lua_pushstring(L, score_pattern_phrase(lex, (int32_t)i)); lua_setfield(L, -2, "phrase");
        lua_pushstring(L, score_pattern_category(lex, (int32_t)i)); lua_setfield(L, -2, "category");
        lua_pushnumber(L, lex->pats[i].weight); lua_setfield(L, -2, "weight");
        lua_pushboolean(L, lex->pats[i].prefix); lua_setfield(L, -2, "prefix");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int lex_tostring(lua_State *L) {
    LexBox *b = luaL_checkudata(L, 1, SCORE_LEX_MT);
    if (b->lex) lua_pushfstring(L, "lexicon (%d phrases, %d categories)", (int)b->lex->npats, (int)b->lex->ncats);
    else lua_pushliteral(L, "lexicon (freed)");
    return 1;
}

typedef struct { ScoreResult r; } ResultBox;

static int result_gc(lua_State *L) {
    ResultBox *b = luaL_checkudata(L, 1, SCORE_RESULT_MT);
    score_result_free(&b->r);
    return 0;
}

static void push_span(lua_State *L, const char *text, const ScoreSpan *sp) {
    lua_pushinteger(L, (lua_Integer)sp->start + 1); lua_setfield(L, -2, "start");
    lua_pushinteger(L, (lua_Integer)sp->stop); lua_setfield(L, -2, "stop");
    lua_pushinteger(L, sp->line); lua_setfield(L, -2, "line");
    lua_pushinteger(L, sp->col); lua_setfield(L, -2, "col");
    lua_pushlstring(L, text + sp->start, sp->stop - sp->start); lua_setfield(L, -2, "text");
}

/* Converts a result into a Lua table; text is the scored text. */
static void push_result(lua_State *L, const ScoreLexicon *lex, const char *text, const ScoreResult *r) {
    lua_createtable(L, 0, 16);
    lua_pushinteger(L, (lua_Integer)r->words); lua_setfield(L, -2, "words");
    lua_pushinteger(L, (lua_Integer)r->sentences); lua_setfield(L, -2, "sentences");
    lua_pushinteger(L, (lua_Integer)r->paragraphs); lua_setfield(L, -2, "paragraphs");
    lua_pushinteger(L, (lua_Integer)r->anchored_sentences); lua_setfield(L, -2, "anchored_sentences");
    lua_pushnumber(L, r->sentence_len_mean); lua_setfield(L, -2, "sentence_length_mean");
    lua_pushnumber(L, r->sentence_len_cv); lua_setfield(L, -2, "sentence_length_cv");
    lua_pushinteger(L, (lua_Integer)r->invalid_utf8); lua_setfield(L, -2, "invalid_utf8");
    if (r->invalid_utf8) { lua_pushinteger(L, (lua_Integer)r->first_invalid + 1); lua_setfield(L, -2, "first_invalid"); }
    /* counts and weight sums per category */
    lua_newtable(L);
    lua_newtable(L);
    for (size_t m = 0; m < r->nmatches; m++) {
        const char *cat = score_pattern_category(lex, r->matches[m].pattern);
        double w = score_pattern_weight(lex, r->matches[m].pattern);
        lua_getfield(L, -2, cat);
        lua_pushinteger(L, lua_tointeger(L, -1) + 1);
        lua_setfield(L, -4, cat);
        lua_pop(L, 1);
        lua_getfield(L, -1, cat);
        lua_pushnumber(L, lua_tonumber(L, -1) + w);
        lua_setfield(L, -3, cat);
        lua_pop(L, 1);
    }
    lua_setfield(L, -3, "weights");
    lua_setfield(L, -2, "counts");
    lua_createtable(L, (int)r->nmatches, 0);
    for (size_t m = 0; m < r->nmatches; m++) {
        const ScoreSpan *sp = &r->matches[m];
        lua_createtable(L, 0, 8);
        push_span(L, text, sp);
        lua_pushstring(L, score_pattern_phrase(lex, sp->pattern)); lua_setfield(L, -2, "phrase");
        lua_pushstring(L, score_pattern_category(lex, sp->pattern)); lua_setfield(L, -2, "category");
        lua_pushnumber(L, score_pattern_weight(lex, sp->pattern)); lua_setfield(L, -2, "weight");
        lua_rawseti(L, -2, (lua_Integer)m + 1);
    }
    lua_setfield(L, -2, "matches");
    lua_createtable(L, 0, SIG_COUNT);
    for (int k = 0; k < SIG_COUNT; k++) {
        lua_pushinteger(L, r->signal_counts[k]);
        lua_setfield(L, -2, score_signal_names[k]);
    }
    lua_setfield(L, -2, "signals");
    lua_createtable(L, (int)r->nsignals, 0);
    for (size_t m = 0; m < r->nsignals; m++) {
        lua_createtable(L, 0, 6);
        push_span(L, text, &r->signals[m]);
        lua_pushstring(L, score_signal_names[r->signals[m].kind]); lua_setfield(L, -2, "kind");
        lua_rawseti(L, -2, (lua_Integer)m + 1);
    }
    lua_setfield(L, -2, "signal_spans");
    if (r->oom) { lua_pushboolean(L, 1); lua_setfield(L, -2, "incomplete"); }
}

static int opt_spans(lua_State *L, int idx) {
    if (!lua_istable(L, idx)) return 1;
    lua_getfield(L, idx, "spans");
    int v = lua_isnil(L, -1) ? 1 : lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

/* analyze(text [, lexicon [, {spans = bool}]]) -> result table */
static int score_analyze(lua_State *L) {
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    const ScoreLexicon *lex = lua_isnoneornil(L, 2) ? NULL : check_lex(L, 2)->lex;
    int spans = opt_spans(L, 3);
    ResultBox *box = lua_newuserdatauv(L, sizeof *box, 0);   /* owns the C result until converted */
    memset(box, 0, sizeof *box);
    luaL_setmetatable(L, SCORE_RESULT_MT);
    score_text(lex, text, len, spans, &box->r);
    static const ScoreLexicon empty = {0};
    push_result(L, lex ? lex : &empty, text, &box->r);
    score_result_free(&box->r);
    return 1;
}

/* ---- many files at once: a small thread pool, results in argument order ---- */

typedef struct {
    const char *path;
    char *text; size_t len;
    char *error;
    ScoreResult r;
} FileJob;

typedef struct {
    FileJob *jobs; size_t n;
    const ScoreLexicon *lex;
    int spans;
    size_t next;
    pthread_mutex_t mu;
} FilePool;

static char *read_whole(const char *path, size_t *len, char **error) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) { if (asprintf(error, "%s: %s", path, strerror(errno)) < 0) *error = NULL; return NULL; }
    size_t cap = 65536, n = 0;
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
    int failed = ferror(f);
    int saved = errno;
    if (f != stdin) fclose(f);
    if (!buf) { if (asprintf(error, "%s: out of memory", path) < 0) *error = NULL; return NULL; }
    if (failed) {
        free(buf);
        if (asprintf(error, "%s: %s", path, strerror(saved)) < 0) *error = NULL;
        return NULL;
    }
    *len = n;
    return buf;
}

static void *file_worker(void *arg) {
    FilePool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t i = p->next++;
        pthread_mutex_unlock(&p->mu);
        if (i >= p->n) break;
        FileJob *j = &p->jobs[i];
        j->text = read_whole(j->path, &j->len, &j->error);
        if (j->text) score_text(p->lex, j->text, j->len, p->spans, &j->r);
        else if (!j->error) j->error = strdup("out of memory");
    }
    return NULL;
}

typedef struct { FileJob *jobs; size_t n; } JobsBox;

static int jobs_gc(lua_State *L) {
    JobsBox *b = lua_touserdata(L, 1);
    for (size_t i = 0; b->jobs && i < b->n; i++) {
        free(b->jobs[i].text);
        free(b->jobs[i].error);
        score_result_free(&b->jobs[i].r);
    }
    free(b->jobs);
    b->jobs = NULL;
    return 0;
}

/* analyze_files({path, ...}, lexicon [, {threads = n, spans = bool}])
 * -> { result | {error = message}, ... } in the order given; "-" is stdin. */
static int score_analyze_files(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    const ScoreLexicon *lex = lua_isnoneornil(L, 2) ? NULL : check_lex(L, 2)->lex;
    int spans = opt_spans(L, 3);
    int threads = 4;
    if (lua_istable(L, 3)) {
        lua_getfield(L, 3, "threads");
        threads = (int)luaL_optinteger(L, -1, 4);
        lua_pop(L, 1);
    }
    if (threads < 1) threads = 1;
    if (threads > 64) threads = 64;
    size_t n = lua_rawlen(L, 1);
    JobsBox *box = lua_newuserdatauv(L, sizeof *box, 1);
    box->jobs = NULL;
    box->n = 0;
    lua_newtable(L);
    lua_pushcfunction(L, jobs_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    box->jobs = calloc(n ? n : 1, sizeof *box->jobs);
    if (!box->jobs) return luaL_error(L, "out of memory");
    box->n = n;
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);   /* keeps the path strings alive */
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, 1, (lua_Integer)i + 1);
        box->jobs[i].path = lua_tostring(L, -1);
        if (!box->jobs[i].path) return luaL_error(L, "path %d is not a string", (int)i + 1);
        lua_pop(L, 1);
    }
    FilePool pool = { box->jobs, n, lex, spans, 0, PTHREAD_MUTEX_INITIALIZER };
    if ((size_t)threads > n) threads = n ? (int)n : 1;
    pthread_t tids[64];
    int started = 0;
    for (int t = 0; t < threads; t++) {
        if (pthread_create(&tids[t], NULL, file_worker, &pool) != 0) break;
        started++;
    }
    if (started == 0) file_worker(&pool);     /* no thread to be had: do it here */
    for (int t = 0; t < started; t++) pthread_join(tids[t], NULL);
    static const ScoreLexicon empty = {0};
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        FileJob *j = &box->jobs[i];
        if (j->error) {
            lua_createtable(L, 0, 2);
            lua_pushstring(L, j->error);
            lua_setfield(L, -2, "error");
        } else {
            push_result(L, lex ? lex : &empty, j->text, &j->r);
            lua_pushinteger(L, (lua_Integer)j->len);
            lua_setfield(L, -2, "bytes");
        }
        lua_pushstring(L, j->path);
        lua_setfield(L, -2, "path");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* fold(text) -> text as the matcher sees it */
static int score_fold_l(lua_State *L) {
    size_t len, outlen;
    const char *text = luaL_checklstring(L, 1, &len);
    char *out = score_fold(text, len, &outlen);
    if (!out) return luaL_error(L, "out of memory");
    lua_pushlstring(L, out, outlen);
    free(out);
    return 1;
}

static const luaL_Reg lex_methods[] = {
    {"size", lex_size},
    {"phrases", lex_phrases},
    {NULL, NULL}
};

static const luaL_Reg score_funcs[] = {
    {"compile", score_compile_l},
    {"analyze", score_analyze},
    {"analyze_files", score_analyze_files},
    {"fold", score_fold_l},
    {NULL, NULL}
};

int luaopen_core_score(lua_State *L) {
    luaL_newmetatable(L, SCORE_LEX_MT);
    luaL_newlib(L, lex_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, lex_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, lex_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
    luaL_newmetatable(L, SCORE_RESULT_MT);
    lua_pushcfunction(L, result_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newlib(L, score_funcs);
    lua_createtable(L, SIG_COUNT, 0);
    for (int k = 0; k < SIG_COUNT; k++) {
        lua_pushstring(L, score_signal_names[k]);
        lua_rawseti(L, -2, k + 1);
    }
    lua_setfield(L, -2, "signal_names");
    return 1;
}
