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
#include <fcntl.h>
#include <math.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>

#define SCORE_MAX_PHRASE 480      /* normalized bytes in one phrase */
#define SCORE_LEX_MT "candor.score.lexicon"
#define TRIE_SPARSE 0xFFFFFFFFu
#define TRIE_SPARSE_MAX 6           /* states with more children get a dense row */
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
    /* what folds to a space, a quote or a dash is not part of a word */
    if (is_space_cp(c) || c == 0x02BC || c == 0xFF07 || c == 0xFF02 || c == 0xFF0D || c == 0xFE58 || c == 0xFE63 ||
        c == 0x2212 || c == 0x00AB || c == 0x00BB)
        return 0;
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

/* Folds s[0, len) into out (at most cap bytes): the normalization above, with
 * whitespace runs collapsed to one space (a leading run dropped when
 * drop_leading_space). Returns the bytes written, or (size_t)-1 past cap;
 * *bad counts invalid sequences (each folded as U+FFFD). Phrases and score_fold
 * use this one loop, so a phrase folds exactly as text does. */
static size_t fold_into(const uint8_t *s, size_t len, char *out, size_t cap, int drop_leading_space, size_t *bad) {
    size_t n = 0;
    int prev_space = drop_leading_space;
    for (size_t i = 0; i < len;) {
        uint32_t c;
        int invalid, space;
        i += utf8_decode(s, len, i, &c, &invalid);
        *bad += (size_t)invalid;
        char buf[4];
        size_t k = normalize_cp(c, buf, &space);
        if (space) { if (prev_space) continue; prev_space = 1; }
        else prev_space = 0;
        if (n + k > cap) return (size_t)-1;
        memcpy(out + n, buf, k);
        n += k;
    }
    return n;
}

char *score_fold(const char *text, size_t len, size_t *outlen) {
    char *out = malloc(len * 3 + 1);   /* a 1-byte invalid sequence becomes 3 bytes of U+FFFD */
    if (!out) return NULL;
    size_t bad = 0;
    size_t n = fold_into((const uint8_t *)text, len, out, len * 3, 0, &bad);
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
    uint8_t raw_cls[128];   /* an ASCII byte of text straight to its class (folded, spaces unified) */
    /* The trie, breadth-first numbered, compact so walks stay in cache: a state
     * with many children has a dense row of nclass entries; the others list
     * their children (class, state) in edges. Child 0 means none. */
    uint32_t *dense;        /* rows of nclass children */
    uint32_t *row;          /* per state: dense row index, or TRIE_SPARSE */
    uint32_t *first;        /* per state: first edge (sparse states) */
    uint8_t *nedges;        /* per state: edge count (sparse states) */
    uint8_t *edge_cls;
    uint32_t *edge_child;
    int32_t *out;           /* pattern ending exactly at a state, or -1 */
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
        char norm[SCORE_MAX_PHRASE + 8];
        size_t bad = 0;
        size_t nlen = fold_into((const uint8_t *)a, (size_t)(pz - a), norm, SCORE_MAX_PHRASE, 1, &bad);
        if (bad) FAIL("%s:%zu: invalid UTF-8 in phrase", name, line);
        if (nlen == (size_t)-1) FAIL("%s:%zu: phrase longer than %d bytes", name, line, SCORE_MAX_PHRASE);
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
        it->phrase = pool_add(b->lex, a, (size_t)(pz - a));
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
    for (int b = 0; b < 128; b++) {
        int space;
        char nb;
        normalize_cp((uint32_t)b, &nb, &space);
        lex->raw_cls[b] = lex->cls[(uint8_t)nb];
    }
    size_t maxstates = 1;
    for (size_t i = 0; i < b->n; i++) maxstates += b->items[i].nlen;
    if (maxstates >= 0x7FFFFFFF) FAIL("lexicon too large");
    size_t nc = lex->nclass;
    /* While building: edges in a hash keyed by (state, class), and each state's
     * children in a list, so memory grows with the phrases, not with
     * states x classes. */
    size_t hcap = 16;
    while (hcap < 2 * maxstates) hcap <<= 1;
    int hbits = 0;
    while (((size_t)1 << hbits) < hcap) hbits++;
    typedef struct { uint64_t key; uint32_t child; } EdgeSlot;   /* key 0: empty */
    EdgeSlot *hash = calloc(hcap, sizeof *hash);
    uint32_t *first_child = malloc(maxstates * sizeof *first_child);
    uint32_t *sibling = malloc(maxstates * sizeof *sibling);
    uint8_t *pcls = malloc(maxstates);
    uint16_t *nkids = calloc(maxstates, sizeof *nkids);
    uint32_t *queue = malloc(maxstates * sizeof *queue);
    uint32_t *old2new = malloc(maxstates * sizeof *old2new);
    lex->out = malloc(maxstates * sizeof *lex->out);
    lex->pats = calloc(b->n ? b->n : 1, sizeof *lex->pats);
#define BUILD_FREE() do { free(hash); free(first_child); free(sibling); free(pcls); free(nkids); \
                          free(queue); free(old2new); } while (0)
    if (!hash || !first_child || !sibling || !pcls || !nkids || !queue || !old2new || !lex->out || !lex->pats) {
        BUILD_FREE();
        FAIL("out of memory");
    }
    const uint32_t NONE = 0xFFFFFFFFu;
    uint32_t nstates = 1;
    lex->out[0] = -1;
    first_child[0] = NONE;
    /* trie; a phrase given twice keeps its later definition */
    for (size_t i = 0; i < b->n; i++) {
        Pending *it = &b->items[i];
        uint32_t st = 0;
        for (size_t k = 0; k < it->nlen; k++) {
            uint8_t c = lex->cls[(uint8_t)it->norm[k]];
            uint64_t key = (((uint64_t)st << 8) | c) + 1;
            size_t h = (size_t)((key * 0x9E3779B97F4A7C15ull) >> (64 - hbits));
            while (hash[h].key && hash[h].key != key) h = (h + 1) & (hcap - 1);
            if (!hash[h].key) {
                uint32_t child = nstates++;
                hash[h].key = key;
                hash[h].child = child;
                lex->out[child] = -1;
                first_child[child] = NONE;
                sibling[child] = first_child[st];
                first_child[st] = child;
                pcls[child] = c;
                nkids[st]++;
            }
            st = hash[h].child;
        }
        int32_t id = lex->out[st];
        if (id < 0) { id = (int32_t)lex->npats++; lex->out[st] = id; }
        Pattern *pt = &lex->pats[id];
        pt->category = it->category;
        pt->weight = it->weight;
        pt->nlen = (uint16_t)it->nlen;
        pt->prefix = (uint8_t)it->prefix;
        pt->lword = (uint8_t)norm_edge_is_word(it->norm, it->nlen, 0);
        pt->rword = (uint8_t)norm_edge_is_word(it->norm, it->nlen, 1);
        pt->phrase = it->phrase;
    }
    /* Renumber states breadth-first: the shallow states, where walks spend
     * nearly all their time, then sit together in memory. */
    size_t qh = 0, qt = 0;
    queue[qt++] = 0;
    while (qh < qt) {
        uint32_t st = queue[qh++];
        for (uint32_t ch = first_child[st]; ch != NONE; ch = sibling[ch]) queue[qt++] = ch;
    }
    for (size_t k = 0; k < qt; k++) old2new[queue[k]] = (uint32_t)k;
    size_t ndense = 0;
    for (uint32_t o = 0; o < nstates; o++)
        if (nkids[o] > TRIE_SPARSE_MAX || o == 0) ndense++;     /* the root is always dense: row 0 */
    int32_t *out2 = malloc((size_t)nstates * sizeof *out2);
    lex->row = malloc((size_t)nstates * sizeof *lex->row);
    lex->first = calloc(nstates, sizeof *lex->first);
    lex->nedges = calloc(nstates, sizeof *lex->nedges);
    lex->edge_cls = malloc(nstates * sizeof *lex->edge_cls);      /* edges < states */
    lex->edge_child = malloc(nstates * sizeof *lex->edge_child);
    lex->dense = calloc(ndense * nc, sizeof *lex->dense);
    if (!out2 || !lex->row || !lex->first || !lex->nedges || !lex->edge_cls || !lex->edge_child || !lex->dense) {
        free(out2);
        BUILD_FREE();
        FAIL("out of memory");
    }
    size_t nrow = 0, nedge = 0;
    for (size_t k = 0; k < qt; k++) {          /* new ids in order, so edges sit in BFS order too */
        uint32_t o = queue[k], n = (uint32_t)k;
        out2[n] = lex->out[o];
        if (nkids[o] > TRIE_SPARSE_MAX || n == 0) {
            lex->row[n] = (uint32_t)nrow;
            for (uint32_t ch = first_child[o]; ch != NONE; ch = sibling[ch])
                lex->dense[nrow * nc + pcls[ch]] = old2new[ch];
            nrow++;
        } else {
            lex->row[n] = TRIE_SPARSE;
            lex->first[n] = (uint32_t)nedge;
            lex->nedges[n] = (uint8_t)nkids[o];
            for (uint32_t ch = first_child[o]; ch != NONE; ch = sibling[ch]) {
                lex->edge_cls[nedge] = pcls[ch];
                lex->edge_child[nedge] = old2new[ch];
                nedge++;
            }
        }
    }
    free(lex->out);
    lex->out = out2;
    lex->nstates = nstates;
    BUILD_FREE();
#undef BUILD_FREE
    return 0;
}
#undef FAIL

void score_lexicon_free(ScoreLexicon *lex) {
    if (!lex) return;
    for (size_t i = 0; i < lex->ncats; i++) free(lex->cats[i]);
    free(lex->cats);
    free(lex->pats); free(lex->pool); free(lex->out);
    free(lex->dense); free(lex->row); free(lex->first); free(lex->nedges); free(lex->edge_cls); free(lex->edge_child);
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
    /* Signals arrive in text order except those decided at a sentence's end;
     * score_text sorts once when any came late (moving each back in place was
     * quadratic on a long sentence). */
    if (signal && *n && (*arr)[*n - 1].start > start) r->signals_unsorted = 1;
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

enum { ASCII_SPACE = 1, ASCII_WORD = 2 };
#define A_S ASCII_SPACE
#define A_W ASCII_WORD
/* Space and word flags of each ASCII byte. */
static const uint8_t ascii_flags[128] = {
    0,0,0,0,0,0,0,0,0,A_S,A_S,A_S,A_S,A_S,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    A_S,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W,0,0,0,0,0,0,
    0,A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W, A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W,0,0,0,0,A_W,
    0,A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W, A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W,A_W,0,0,0,0,0,
};
#undef A_S
#undef A_W

/* Whether the character starting at byte i is a word character. */
static int word_at(const uint8_t *s, size_t len, size_t i) {
    if (s[i] < 0x80) return (ascii_flags[s[i]] & ASCII_WORD) != 0;
    uint32_t c;
    int bad;
    utf8_decode(s, len, i, &c, &bad);
    return !bad && is_word_cp(c);
}

/* The child of state st for byte class c, or 0. */
static inline uint32_t trie_next(const ScoreLexicon *lex, uint32_t st, uint8_t c) {
    uint32_t row = lex->row[st];
    if (row != TRIE_SPARSE) return lex->dense[(size_t)row * lex->nclass + c];
    const uint8_t *cls = lex->edge_cls + lex->first[st];
    for (uint32_t k = 0, n = lex->nedges[st]; k < n; k++)
        if (cls[k] == c) return lex->edge_child[lex->first[st] + k];
    return 0;
}

/* One character of text as the matcher sees it. */
typedef struct { size_t len, nlen; char norm[4]; int space, word; } Char;

static void read_char(const uint8_t *s, size_t len, size_t i, Char *ch, ScoreResult *r) {
    uint8_t b = s[i];
    if (b < 0x80) {
        uint8_t fl = ascii_flags[b];
        ch->len = ch->nlen = 1;
        ch->space = fl & ASCII_SPACE;
        ch->word = (fl & ASCII_WORD) != 0;
        ch->norm[0] = ch->space ? ' ' : (char)((b >= 'A' && b <= 'Z') ? b + 32 : b);
        return;
    }
    uint32_t c;
    int bad;
    ch->len = utf8_decode(s, len, i, &c, &bad);
    if (bad && r) { if (!r->invalid_utf8++) r->first_invalid = i; }
    ch->nlen = normalize_cp(c, ch->norm, &ch->space);
    ch->word = !bad && is_word_cp(c);
}

/* Walks the trie from text position i; returns the longest phrase that matches
 * there with valid boundaries (its end in *end), or -1. */
static int32_t walk(const ScoreLexicon *lex, const uint8_t *s, size_t len, size_t i, size_t *end) {
    uint32_t st = 0;
    int32_t best = -1;
    int in_space = 0, newlines = 0;
    Char ch;
    while (i < len) {
        uint8_t b = s[i];
        if (b < 0x80) {                                /* fast path: ASCII */
            if (ascii_flags[b] & ASCII_SPACE) {
                /* no phrase spans a blank line (a paragraph break) */
                if (b == '\n' && ++newlines >= 2) return best;
                if (in_space) { i++; continue; }       /* a whitespace run is one space */
                in_space = 1;
            } else in_space = 0, newlines = 0;
            st = trie_next(lex, st, lex->raw_cls[b]);
            if (!st) return best;
            i++;
        } else {
            read_char(s, len, i, &ch, NULL);
            if (ch.space) {
                if (in_space) { i += ch.len; continue; }
                in_space = 1;
            } else in_space = 0, newlines = 0;
            for (size_t k = 0; k < ch.nlen; k++) {
                st = trie_next(lex, st, lex->cls[(uint8_t)ch.norm[k]]);
                if (!st) return best;
            }
            i += ch.len;
        }
        int32_t pid = lex->out[st];
        if (pid >= 0) {
            const Pattern *pt = &lex->pats[pid];
            if (pt->prefix) {                          /* report the whole word: leverag* -> leveraged */
                size_t e = i;
                while (e < len && word_at(s, len, e)) {
                    if (s[e] < 0x80) e++;
                    else { read_char(s, len, e, &ch, NULL); e += ch.len; }
                }
                best = pid; *end = e;
            } else if (!pt->rword || i >= len || !word_at(s, len, i)) {
                best = pid; *end = i;
            }
        }
    }
    return best;
}

/* A phrase can start only where a word starts, or at a non-word character that
 * begins some phrase; from each such place the trie is walked, the longest
 * phrase with valid boundaries kept, and scanning resumes after it: matches are
 * leftmost-longest and never overlap. */
static void match_text(const ScoreLexicon *lex, const uint8_t *s, size_t len, ScoreResult *r) {
    const uint32_t *root = lex->dense;      /* the root has many children: dense row 0 */
    int prev_word = 0;
    Char ch;
    for (size_t i = 0; i < len;) {
        uint8_t b = s[i];
        int word, start;
        size_t clen;
        if (b < 0x80) {                                /* fast path: ASCII */
            uint8_t fl = ascii_flags[b];
            word = (fl & ASCII_WORD) != 0;
            start = word ? !prev_word : !(fl & ASCII_SPACE) && root[lex->raw_cls[b]] != 0;
            clen = 1;
        } else {
            read_char(s, len, i, &ch, r);
            word = ch.word;
            start = word ? !prev_word : !ch.space && root[lex->cls[(uint8_t)ch.norm[0]]] != 0;
            clen = ch.len;
        }
        if (start) {
            size_t end;
            int32_t pid = walk(lex, s, len, i, &end);
            if (pid >= 0) {
                add_span(r, 0, i, end, pid, -1);
                /* count invalid UTF-8 inside the match too (the first character was
                 * counted above), then go on after it */
                for (size_t j = i + clen; j < end;) {
                    if (s[j] < 0x80) { j++; continue; }
                    read_char(s, len, j, &ch, r);
                    j += ch.len;
                }
                i = end;
                size_t k = end - 1;                     /* the last character of the match */
                while (k > 0 && (s[k] & 0xC0) == 0x80) k--;
                prev_word = word_at(s, len, k);
                continue;
            }
        }
        prev_word = word;
        i += clen;
    }
}

/* ---------------------------------------------------------------- signals */

enum { PREV_WORD, PREV_NAMED, PREV_NUMBER, PREV_DATE };

typedef struct {
    const uint8_t *s; size_t len;
    ScoreResult *r;
    uint32_t span_kinds;        /* bit k: record spans of signal kind k */
    /* sentence */
    size_t sent_start, sent_words, sent_dashes;
    int sent_anchor, sent_first_in_par, sent_counted_par;
    int not_just, its_not, carry_not_just, carry_its_not;
    /* recent tokens for shapes */
    uint32_t prev_flags;        /* keyword flags of the previous word */
    int prev_kind;              /* PREV_WORD, PREV_NAMED, PREV_NUMBER, PREV_DATE */
    size_t prev_len;            /* its key's length, and first letter: "e." "a." abbreviations */
    char prev_first;
    int triad_state, triad_adj;
    /* paragraph */
    int par_has_words;
    /* sentence lengths */

    /* abstract matches by start */
    const ScoreLexicon *lex;
    size_t next_match;
} Sig;

static void signal(Sig *g, int kind, size_t start, size_t stop) {
    g->r->signal_counts[kind]++;
    if (SIG_IS_ANCHOR(kind)) g->sent_anchor = 1;
    if (g->span_kinds & (1u << kind)) add_span(g->r, 1, start, stop, -1, kind);
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
        r->sentence_len_sum += (double)g->sent_words;
        r->sentence_len_sumsq += (double)g->sent_words * (double)g->sent_words;
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
    g->prev_flags = 0;
    g->prev_kind = PREV_WORD;
    g->prev_len = 0;
}

static void end_paragraph(Sig *g, size_t at) {
    end_sentence(g, at);
    g->carry_not_just = g->carry_its_not = 0;   /* a shape does not continue past a paragraph */
    if (g->par_has_words) g->r->paragraphs++;
    g->par_has_words = 0;
    g->sent_first_in_par = 1;
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

static const char *const FIRST_PERSON_SINGULAR[] = {
    "i", "me", "my", "mine", "myself", "i'm", "i've", "i'd", "i'll", NULL };
static const char *const FIRST_PERSON_PLURAL[] = {
    "we", "us", "our", "ours", "ourselves", "we're", "we've", "we'd", "we'll", NULL };
static const char *const SECOND_PERSON[] = {
    "you", "your", "yours", "yourself", "you're", "you've", "you'll", "you'd", NULL };
static const char *const JUST_WORDS[] = { "just", "only", "merely", "simply", NULL };
static const char *const NOT_WORDS[] = { "not", NULL };
static const char *const ISNT_WORDS[] = { "isn't", "aren't", "wasn't", NULL };
static const char *const ITS_WORDS[] = { "it's", "that's", "they're", "this", NULL };
static const char *const COPULA_WORDS[] = { "it's", "is", "that's", NULL };
static const char *const BUT_WORDS[] = { "but", NULL };
static const char *const ANDOR_WORDS[] = { "and", "or", NULL };

enum {
    KW_DURATION = 1u << 0, KW_UNIT = 1u << 1, KW_CURRENCY = 1u << 2, KW_MONTH = 1u << 3,
    KW_WEEKDAY = 1u << 4, KW_ABBREV = 1u << 5, KW_ADJ = 1u << 6, KW_SHOUTED = 1u << 7,
    KW_FPS = 1u << 8, KW_FPP = 1u << 9, KW_SP = 1u << 10, KW_JUST = 1u << 11, KW_NOT = 1u << 12,
    KW_ISNT = 1u << 13, KW_ITS = 1u << 14, KW_COPULA = 1u << 15, KW_BUT = 1u << 16, KW_ANDOR = 1u << 17,
};
/* Every keyword list above in one open-addressing table: a token is looked up
 * once and gets all its flags. Built once, read-only after, so threads share it. */
#define KW_SLOTS 2048
typedef struct { const char *word; uint32_t flags, hash; } KwSlot;
static KwSlot kw_table[KW_SLOTS];
static pthread_once_t kw_once = PTHREAD_ONCE_INIT;

static uint32_t kw_hash(const char *w) {
    uint32_t h = 2166136261u;
    for (; *w; w++) h = (h ^ (uint8_t)*w) * 16777619u;
    return h;
}

static void kw_add(const char *const *list, uint32_t flag) {
    for (; *list; list++) {
        uint32_t h = kw_hash(*list), i = h & (KW_SLOTS - 1);
        while (kw_table[i].word && strcmp(kw_table[i].word, *list) != 0) i = (i + 1) & (KW_SLOTS - 1);
        kw_table[i].word = *list;
        kw_table[i].hash = h;
        kw_table[i].flags |= flag;
    }
}

static void kw_build(void) {
    kw_add(DURATION_UNITS, KW_DURATION); kw_add(OTHER_UNITS, KW_UNIT); kw_add(CURRENCY_WORDS, KW_CURRENCY);
    kw_add(MONTHS, KW_MONTH); kw_add(WEEKDAYS, KW_WEEKDAY); kw_add(ABBREVIATIONS, KW_ABBREV);
    kw_add(ADJECTIVES, KW_ADJ); kw_add(SHOUTED_WORDS, KW_SHOUTED); kw_add(FIRST_PERSON_SINGULAR, KW_FPS);
    kw_add(FIRST_PERSON_PLURAL, KW_FPP); kw_add(SECOND_PERSON, KW_SP); kw_add(JUST_WORDS, KW_JUST);
    kw_add(NOT_WORDS, KW_NOT); kw_add(ISNT_WORDS, KW_ISNT); kw_add(ITS_WORDS, KW_ITS);
    kw_add(COPULA_WORDS, KW_COPULA); kw_add(BUT_WORDS, KW_BUT); kw_add(ANDOR_WORDS, KW_ANDOR);
}

static uint32_t kw_flags_hashed(const char *w, uint32_t h) {
    if (!w[0]) return 0;
    uint32_t i = h & (KW_SLOTS - 1);
    while (kw_table[i].word) {
        if (kw_table[i].hash == h && strcmp(kw_table[i].word, w) == 0) return kw_table[i].flags;
        i = (i + 1) & (KW_SLOTS - 1);
    }
    return 0;
}

/* Lower-cased ASCII copy of a token for keyword checks; "" if too long. */
static uint32_t kw_flags(const char *w) { return kw_flags_hashed(w, kw_hash(w)); }

/* Lower-cased ASCII copy of a token for keyword checks ("" if too long), its
 * length, and its keyword hash in *hash. */
static size_t token_key_hash(const uint8_t *s, size_t a, size_t b, char *out, size_t cap, uint32_t *hash) {
    size_t n = 0;
    uint32_t h = 2166136261u;
    for (size_t i = a; i < b; i++) {
        if (n + 1 >= cap) { out[0] = '\0'; *hash = 0; return 0; }
        uint8_t c = s[i];
        if (c == 0xE2 && i + 2 < b && s[i + 1] == 0x80 && s[i + 2] == 0x99) { c = '\''; i += 2; }
        else if (c >= 'A' && c <= 'Z') c += 32;
        out[n++] = (char)c;
        h = (h ^ c) * 16777619u;
    }
    out[n] = '\0';
    *hash = h;
    return n;
}

static size_t token_key(const uint8_t *s, size_t a, size_t b, char *out, size_t cap) {
    uint32_t h;
    return token_key_hash(s, a, b, out, cap, &h);
}

/* A known adjective, or a word with an adjective ending (-ive -able -ible -ful
 * -less -ous -ic -ent -ant) and a stem of at least three letters. */
static int looks_adjective(const char *w, size_t n, uint32_t flags) {
    if (flags & KW_ADJ) return 1;
    if (n < 5) return 0;
    const char *e = w + n;
    switch (e[-1]) {
    case 'e': return (n > 5 && memcmp(e - 3, "ive", 3) == 0) || (n > 6 && (memcmp(e - 4, "able", 4) == 0 || memcmp(e - 4, "ible", 4) == 0));
    case 'l': return n > 5 && memcmp(e - 3, "ful", 3) == 0;
    case 's': return (n > 6 && memcmp(e - 4, "less", 4) == 0) || (n > 5 && memcmp(e - 3, "ous", 3) == 0);
    case 'c': return e[-2] == 'i';
    case 't': return n > 5 && (memcmp(e - 3, "ent", 3) == 0 || memcmp(e - 3, "ant", 3) == 0);
    default: return 0;
    }
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
static void number_token(Sig *g, size_t a, size_t b, const char *key, size_t n, int after_named) {
    const uint8_t *s = g->s;
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
        if (kw_flags(unit) & KW_DURATION) signal(g, SIG_DURATION, a, b);
        else signal(g, SIG_NUMBER_UNIT, a, b);
        return;
    }
    char next[24];
    peek_word(s, g->len, b, next, sizeof next);
    if (next[0]) {
        if (strcmp(next, "percent") == 0 || strcmp(next, "pct") == 0) { signal(g, SIG_PERCENT, a, b); return; }
        uint32_t nf = kw_flags(next);
        if (nf & KW_CURRENCY) { signal(g, SIG_MONEY, a, b); return; }
        if (nf & KW_DURATION) { signal(g, SIG_DURATION, a, b); return; }
        if (nf & KW_UNIT) { signal(g, SIG_NUMBER_UNIT, a, b); return; }
    }
    if (n == 4 && (key[0] == '1' || key[0] == '2') && (memcmp(key, "19", 2) == 0 || memcmp(key, "20", 2) == 0)) {
        signal(g, SIG_DATE, a, b);
        return;
    }
    signal(g, SIG_NUMBER, a, b);
}

static void shape_word(Sig *g, const char *w, size_t wlen, uint32_t f, size_t a, size_t b) {
    /* "not just X, but Y" and "it's not X, it's Y", within a sentence or across two */
    int is_its = (f & KW_ITS) != 0;
    uint32_t pf = g->prev_kind == PREV_WORD ? g->prev_flags : 0;
    if (g->sent_words == 1) {
        if (g->carry_not_just && (is_its || (f & KW_BUT))) { signal(g, SIG_NOT_JUST, a, b); g->carry_not_just = 0; }
        else if (g->carry_its_not && is_its) { signal(g, SIG_ITS_NOT, a, b); g->carry_its_not = 0; }
    }
    if ((f & KW_JUST) && (pf & (KW_NOT | KW_ISNT))) {
        g->not_just = 1;
        g->its_not = 0;
    } else if (g->not_just && (f & KW_BUT)) {
        signal(g, SIG_NOT_JUST, a, b);
        g->not_just = 0;
    } else if (!g->not_just && (((f & KW_NOT) && (pf & KW_COPULA)) || (f & KW_ISNT))) {
        g->its_not = 1;
    } else if (g->its_not && is_its && g->sent_words > 3) {
        signal(g, SIG_ITS_NOT, a, b);
        g->its_not = 0;
    }
    /* triads: "fast, reliable, and secure" */
    int adj = looks_adjective(w, wlen, f);
    int andor = (f & KW_ANDOR) != 0;
    switch (g->triad_state) {
    case 0: g->triad_state = 1; g->triad_adj = adj; break;          /* W */
    case 2: g->triad_state = 3; g->triad_adj += adj; break;         /* W , W */
    case 4: case 5:                                                  /* W , W , [and] W */
        if (andor && g->triad_state == 4) { g->triad_state = 5; break; }
        if (g->triad_adj + adj >= 2) signal(g, SIG_TRIAD, a, b);
        g->triad_state = 1; g->triad_adj = adj;
        break;
    case 3:
        if (andor) { g->triad_state = 5; break; }
        g->triad_state = 1; g->triad_adj = adj;
        break;
    default: g->triad_state = 1; g->triad_adj = adj;
    }
}

static void set_prev(Sig *g, int kind, uint32_t flags, const char *key, size_t len) {
    g->prev_kind = kind;
    g->prev_flags = flags;
    g->prev_len = len;
    g->prev_first = key[0];
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
    uint32_t khash;
    size_t klen = token_key_hash(s, a, b, key, sizeof key, &khash);
    ScoreResult *r = g->r;
    r->words++;
    g->sent_words++;
    g->par_has_words = 1;
    int digit_start = s[a] >= '0' && s[a] <= '9';
    if (digit_start || (key[0] == 'v' && key[1] >= '0' && key[1] <= '9')) {
        number_token(g, a, b, key, klen, g->prev_kind == PREV_NAMED);
        g->triad_state = 0;
        set_prev(g, PREV_NUMBER, 0, key, klen);
        return;
    }
    if (!key[0]) return;
    if (key[0] == 'p' && (strcmp(key, "p50") == 0 || strcmp(key, "p90") == 0 || strcmp(key, "p95") == 0 ||
                          strcmp(key, "p99") == 0 || strcmp(key, "p999") == 0)) {
        signal(g, SIG_NUMBER_UNIT, a, b);
        return;
    }
    uint32_t f = kw_flags_hashed(key, khash);
    if (f & KW_FPS) signal(g, SIG_FIRST_PERSON_SINGULAR, a, b);
    else if (f & KW_FPP) signal(g, SIG_FIRST_PERSON_PLURAL, a, b);
    else if (f & KW_SP) signal(g, SIG_SECOND_PERSON, a, b);
    if (memchr(key, '\'', klen)) signal(g, SIG_CONTRACTION, a, b);

    int named = 0;
    if (f & (KW_MONTH | KW_WEEKDAY)) {
        size_t j = b;
        while (j < g->len && s[j] == ' ') j++;
        int num_next = j < g->len && s[j] >= '0' && s[j] <= '9';
        if ((f & KW_WEEKDAY) || num_next) {
            /* a date: the number after it is a day or a year, not a version */
            signal(g, SIG_DATE, a, b);
            g->triad_state = 0;
            set_prev(g, PREV_DATE, f, key, klen);
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
        if (upper >= 2 && upper == letters && letters <= 6 && !(f & KW_SHOUTED)) { signal(g, SIG_ACRONYM, a, b); named = 1; }
        else if (inner_upper || (!sentence_start && strcmp(key, "i") != 0)) { signal(g, SIG_NAMED, a, b); named = 1; }
    }
    if (named) { g->triad_state = 0; set_prev(g, PREV_NAMED, f, key, klen); return; }
    shape_word(g, key, klen, f, a, b);
    set_prev(g, PREV_WORD, f, key, klen);
}

static int is_sentence_word_char(uint8_t c) {
    return c >= 0x80 || (ascii_flags[c] & ASCII_WORD);
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

/* Mean and coefficient of variation of sentence lengths, from the sums. */
static void sentence_stats(ScoreResult *r) {
    double n = (double)r->sentences;
    if (n <= 0) { r->sentence_len_mean = r->sentence_len_cv = 0; return; }
    double mean = r->sentence_len_sum / n;
    double var = r->sentence_len_sumsq / n - mean * mean;
    r->sentence_len_mean = mean;
    r->sentence_len_cv = r->sentences >= 3 && mean > 0 ? sqrt(var > 0 ? var : 0) / mean : 0;
}

static void signals_text(const ScoreLexicon *lex, const uint8_t *s, size_t len, uint32_t span_kinds, ScoreResult *r) {
    pthread_once(&kw_once, kw_build);
    Sig g;
    memset(&g, 0, sizeof g);
    g.s = s; g.len = len; g.r = r; g.span_kinds = span_kinds; g.lex = lex;
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
        if (((c | 32) == 'h' && (starts_with_ci(s, len, i, "http://") || starts_with_ci(s, len, i, "https://"))) ||
            ((c | 32) == 'w' && starts_with_ci(s, len, i, "www."))) {
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
            int abbrev = cp == '.' && g.prev_kind == PREV_WORD &&
                         ((g.prev_flags & KW_ABBREV) || (g.prev_len == 1 && g.prev_first != 'i'));
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
    sentence_stats(r);
}

/* By start, then stop and kind, so equal starts order the same everywhere. */
static int span_order(const void *a, const void *b) {
    const ScoreSpan *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->stop != y->stop) return x->stop < y->stop ? -1 : 1;
    return (x->kind > y->kind) - (x->kind < y->kind);
}

/* UTF-8 continuation bytes (10xxxxxx) in s[a, b), eight bytes at a time. */
static size_t continuation_bytes(const uint8_t *s, size_t a, size_t b) {
    size_t n = 0;
    while (a < b && (a & 7)) n += (s[a++] & 0xC0) == 0x80;
    for (; a + 8 <= b; a += 8) {
        uint64_t x;
        memcpy(&x, s + a, 8);
        uint64_t hi = x & 0x8080808080808080ull;
        if (!hi) continue;
        n += (size_t)__builtin_popcountll(hi & ~((x << 1) & 0x8080808080808080ull));
    }
    for (; a < b; a++) n += (s[a] & 0xC0) == 0x80;
    return n;
}

/* Line and column (in code points) of each span's start, walking forward once:
 * the spans are sorted by start. */
static void locate(const uint8_t *s, size_t len, ScoreSpan *spans, size_t n) {
    size_t line = 1, pos = 0, col = 1;
    for (size_t k = 0; k < n; k++) {
        size_t target = spans[k].start < len ? spans[k].start : len;
        const uint8_t *nl;
        while (pos < target && (nl = memchr(s + pos, '\n', target - pos)) != NULL) {
            line++;
            pos = (size_t)(nl - s) + 1;
            col = 1;
        }
        if (pos < target) {
            col += (target - pos) - continuation_bytes(s, pos, target);
            pos = target;
        }
        spans[k].line = (uint32_t)line;
        spans[k].col = (uint32_t)col;
    }
}

void score_text(const ScoreLexicon *lex, const char *text, size_t len, int flags, ScoreResult *out) {
    score_text_kinds(lex, text, len, flags, (flags & SCORE_SPANS) ? SCORE_ALL_KINDS : 0, out);
}

void score_text_kinds(const ScoreLexicon *lex, const char *text, size_t len, int flags, uint32_t span_kinds,
                      ScoreResult *out) {
    memset(out, 0, sizeof *out);
    const uint8_t *s = (const uint8_t *)text;
    if (lex && lex->npats) match_text(lex, s, len, out);
    else {
        /* still report invalid UTF-8 */
        for (size_t i = 0; i < len;) {
            if (s[i] < 0x80) { i++; continue; }
            uint32_t c;
            int bad;
            size_t n = utf8_decode(s, len, i, &c, &bad);
            if (bad && !out->invalid_utf8++) out->first_invalid = i;
            i += n;
        }
    }
    if (!(flags & SCORE_MATCHES_ONLY)) signals_text(lex, s, len, span_kinds, out);
    if (out->signals_unsorted)
        qsort(out->signals, out->nsignals, sizeof *out->signals, span_order);
    locate(s, len, out->matches, out->nmatches);
    locate(s, len, out->signals, out->nsignals);
}

/* ---- one large text on several threads ---- */

typedef struct {
    const ScoreLexicon *lex;
    const char *text;
    size_t start, len;
    int flags;
    uint32_t kinds;
    ScoreResult r;
} Chunk;

static void *chunk_worker(void *arg) {
    Chunk *c = arg;
    score_text_kinds(c->lex, c->text + c->start, c->len, c->flags, c->kinds, &c->r);
    return NULL;
}

/* The start of the next paragraph at or after pos: just past a blank line
 * (a newline, only spaces or tabs or CRs, a newline), or len if none. */
static size_t next_paragraph(const char *s, size_t len, size_t pos) {
    while (pos < len) {
        const char *nl = memchr(s + pos, '\n', len - pos);
        if (!nl) return len;
        size_t j = (size_t)(nl - s) + 1;
        while (j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r')) j++;
        if (j < len && s[j] == '\n') {
            while (j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n')) j++;
            return j;
        }
        pos = (size_t)(nl - s) + 1;
    }
    return len;
}

static int append_spans(ScoreSpan **arr, size_t *n, size_t *cap, const ScoreSpan *src, size_t m,
                        size_t offset, uint32_t lines) {
    if (grow((void **)arr, cap, *n + m, sizeof **arr)) return -1;
    for (size_t k = 0; k < m; k++) {
        ScoreSpan sp = src[k];
        sp.start += offset;
        sp.stop += offset;
        sp.line += lines;
        (*arr)[(*n)++] = sp;
    }
    return 0;
}

void score_text_parallel(const ScoreLexicon *lex, const char *text, size_t len, int flags, uint32_t span_kinds,
                         int nthreads, ScoreResult *out) {
    enum { MIN_CHUNK = 1 << 20 };
    if (nthreads > 8) nthreads = 8;
    if (nthreads < 2 || len < 2 * (size_t)MIN_CHUNK) {
        score_text_kinds(lex, text, len, flags, span_kinds, out);
        return;
    }
    Chunk chunks[8];
    int n = 0;
    size_t pos = 0;
    for (int k = 1; k <= nthreads && pos < len; k++) {
        size_t end = k == nthreads ? len : next_paragraph(text, len, len / (size_t)nthreads * (size_t)k);
        if (end <= pos) continue;
        chunks[n] = (Chunk){ lex, text, pos, end - pos, flags, span_kinds, {0} };
        n++;
        pos = end;
    }
    pthread_t tids[8];
    int started[8] = {0};
    for (int k = 1; k < n; k++) started[k] = pthread_create(&tids[k], NULL, chunk_worker, &chunks[k]) == 0;
    chunk_worker(&chunks[0]);
    for (int k = 1; k < n; k++) {
        if (started[k]) pthread_join(tids[k], NULL);
        else chunk_worker(&chunks[k]);             /* no thread to be had: do it here */
    }
    /* merge: offsets and lines shift, counts add */
    memset(out, 0, sizeof *out);
    uint32_t lines = 0;
    for (int k = 0; k < n; k++) {
        ScoreResult *r = &chunks[k].r;
        size_t off = chunks[k].start;
        if (append_spans(&out->matches, &out->nmatches, &out->capmatches, r->matches, r->nmatches, off, lines) ||
            append_spans(&out->signals, &out->nsignals, &out->capsignals, r->signals, r->nsignals, off, lines))
            out->oom = 1;
        for (int q = 0; q < SIG_COUNT; q++) out->signal_counts[q] += r->signal_counts[q];
        out->words += r->words;
        out->sentences += r->sentences;
        out->paragraphs += r->paragraphs;
        out->anchored_sentences += r->anchored_sentences;
        out->sentence_len_sum += r->sentence_len_sum;
        out->sentence_len_sumsq += r->sentence_len_sumsq;
        if (r->invalid_utf8 && !out->invalid_utf8) out->first_invalid = r->first_invalid + off;
        out->invalid_utf8 += r->invalid_utf8;
        out->oom |= r->oom;
        const char *p = text + off, *end = text + off + chunks[k].len;   /* newlines in this chunk */
        while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) { lines++; p++; }
        score_result_free(r);
    }
    sentence_stats(out);
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
    luaL_argexpected(L, lua_type(L, 1) == LUA_TSTRING || lua_istable(L, 1), 1, "lexicon text or a list of sources");
    int single = lua_type(L, 1) == LUA_TSTRING || (lua_istable(L, 1) && lua_getfield(L, 1, "text") != LUA_TNIL);
    if (lua_istable(L, 1) && lua_type(L, 1) != LUA_TSTRING) lua_pop(L, 1);
    size_t n = single ? 1 : lua_rawlen(L, 1);
    LexBox *box = lua_newuserdatauv(L, sizeof *box, 0);
    box->lex = NULL;
    luaL_setmetatable(L, SCORE_LEX_MT);
    ScoreSource *src = lua_newuserdatauv(L, (n ? n : 1) * sizeof *src, 0);   /* freed by GC */
    /* Every name and text string is kept in this table until compiling is done:
     * one that came from an __index metamethod has no other owner. */
    lua_createtable(L, (int)(2 * n), 0);
    int anchor = lua_gettop(L);
    for (size_t i = 0; i < n; i++) {
        if (single) lua_pushvalue(L, 1);
        else lua_rawgeti(L, 1, (lua_Integer)i + 1);
        /* only real strings: lua_tostring would convert a number on the stack
         * alone, and the pointer would dangle once popped */
        if (lua_type(L, -1) == LUA_TSTRING) {
            src[i].name = "lexicon";
            src[i].text = lua_tolstring(L, -1, &src[i].len);
        } else if (lua_istable(L, -1)) {
            if (lua_getfield(L, -1, "text") != LUA_TSTRING)
                return luaL_error(L, "lexicon source %d: text must be a string", (int)i + 1);
            src[i].text = lua_tolstring(L, -1, &src[i].len);
            int nt = lua_getfield(L, -2, "name");
            if (nt != LUA_TSTRING && nt != LUA_TNIL)
                return luaL_error(L, "lexicon source %d: name must be a string", (int)i + 1);
            src[i].name = nt == LUA_TSTRING ? lua_tostring(L, -1) : "lexicon";
            lua_rawseti(L, anchor, (lua_Integer)(2 * i + 2));
            lua_rawseti(L, anchor, (lua_Integer)(2 * i + 1));
        } else {
            return luaL_error(L, "lexicon source %d must be a string or {name =, text =}", (int)i + 1);
        }
        lua_pop(L, 1);
    }
    char err[512];
    box->lex = score_compile(src, n, err, sizeof err);
    if (!box->lex) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    lua_pop(L, 2);   /* anchor, src */
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

typedef struct {
    const char *path;
    char *text; size_t len;
    int mapped;              /* text is an mmap of the file */
    char *error;
    ScoreResult r;
} FileJob;

typedef struct { FileJob *jobs; size_t n; } JobsBox;

static int result_gc(lua_State *L) {
    ResultBox *b = luaL_checkudata(L, 1, SCORE_RESULT_MT);
    score_result_free(&b->r);
    return 0;
}

/* Field names pushed once per conversion and reused by index: lua_setfield
 * would intern each name again for every one of thousands of spans. */
enum { K_START, K_STOP, K_LINE, K_COL, K_TEXT, K_PHRASE, K_CATEGORY, K_WEIGHT, K_KIND, K_COUNT };
static const char *const key_names[K_COUNT] = {
    "start", "stop", "line", "col", "text", "phrase", "category", "weight", "kind" };

static void set_int(lua_State *L, int keys, int k, lua_Integer v) {
    lua_rawgeti(L, keys, k + 1);
    lua_pushinteger(L, v);
    lua_rawset(L, -3);
}

static void set_top(lua_State *L, int keys, int k) {   /* t[key] = value on top */
    lua_rawgeti(L, keys, k + 1);
    lua_insert(L, -2);
    lua_rawset(L, -3);
}

static void push_span(lua_State *L, int keys, const char *text, const ScoreSpan *sp) {
    set_int(L, keys, K_START, (lua_Integer)sp->start + 1);
    set_int(L, keys, K_STOP, (lua_Integer)sp->stop);
    set_int(L, keys, K_LINE, sp->line);
    set_int(L, keys, K_COL, sp->col);
    lua_pushlstring(L, text + sp->start, sp->stop - sp->start);
    set_top(L, keys, K_TEXT);
}

/* Where findings JSON goes: flushed to a FILE in 64 KB blocks, or gathered
 * into one string. Never raises: a failure is noted and reported after. */
typedef struct {
    char *buf; size_t n, cap;
    FILE *f;                    /* NULL: gather */
    int failed;
} Out;

static void out_add(Out *o, const char *s, size_t n) {
    if (o->n + n > o->cap) {
        if (o->f && o->n) {
            if (fwrite(o->buf, 1, o->n, o->f) != o->n) o->failed = 1;
            o->n = 0;
        }
        if (o->n + n > o->cap) {
            size_t cap = o->cap ? o->cap : 65536;
            while (cap < o->n + n) cap *= 2;
            char *nb = realloc(o->buf, cap);
            if (!nb) { o->failed = 1; return; }
            o->buf = nb;
            o->cap = cap;
        }
    }
    memcpy(o->buf + o->n, s, n);
    o->n += n;
}

static inline void out_char(Out *o, char c) {
    if (o->n < o->cap) o->buf[o->n++] = c;
    else out_add(o, &c, 1);
}

#define out_lit(o, lit) out_add((o), (lit), sizeof(lit) - 1)

static void out_str(Out *o, const char *s) { out_add(o, s, strlen(s)); }

/* JSON string of s[0, n): escapes quotes, backslashes and control characters;
 * invalid UTF-8 becomes U+FFFD so the output is always valid JSON. Runs of
 * plain characters are copied at once. */
static void json_string(Out *o, const uint8_t *s, size_t n) {
    out_char(o, '"');
    size_t run = 0;                             /* start of the pending plain run */
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x7F) { i++; continue; }
        if (c >= 0x80) {
            uint32_t cp;
            int bad;
            size_t k = utf8_decode(s, n, i, &cp, &bad);
            if (!bad) { i += k; continue; }     /* valid UTF-8 stays in the run */
        }
        out_add(o, (const char *)s + run, i - run);
        if (c >= 0x80) out_lit(o, "\\ufffd");
        else if (c == '"' || c == '\\') { out_char(o, '\\'); out_char(o, (char)c); }
        else if (c == '\n') out_lit(o, "\\n");
        else if (c == '\t') out_lit(o, "\\t");
        else if (c == '\r') out_lit(o, "\\r");
        else { char u[8]; snprintf(u, sizeof u, "\\u%04x", c); out_str(o, u); }
        run = ++i;
    }
    out_add(o, (const char *)s + run, n - run);
    out_char(o, '"');
}

static void json_uint(Out *o, size_t v) {
    char d[24];
    int n = 0;
    do { d[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) out_char(o, d[--n]);
}

/* Which signal kinds become findings, and their descriptions (Lua strings). */
typedef struct { const char *desc[SIG_COUNT]; } FindingKinds;

/* What the findings of one pattern (or signal kind) share: category, phrase
 * and weight as JSON, made once per call, owned by a userdata (see below). */
typedef struct { char **pattern; size_t npattern; char *kind[SIG_COUNT]; uint8_t *keep_cat; } FindingParts;

static int finding_parts_gc(lua_State *L) {
    FindingParts *fp = lua_touserdata(L, 1);
    for (size_t p = 0; fp->pattern && p < fp->npattern; p++) free(fp->pattern[p]);
    for (int k = 0; k < SIG_COUNT; k++) { free(fp->kind[k]); fp->kind[k] = NULL; }
    free(fp->pattern);
    free(fp->keep_cat);
    fp->pattern = NULL;
    fp->keep_cat = NULL;
    return 0;
}

static const char *finding_part(FindingParts *fp, const ScoreLexicon *lex, const ScoreSpan *sp,
                                const FindingKinds *fk, Out *dst) {
    char **slot = sp->pattern >= 0 ? &fp->pattern[sp->pattern] : &fp->kind[sp->kind];
    if (*slot) return *slot;
    Out o = {0};
    out_lit(&o, ",\"category\":");
    if (sp->pattern >= 0) {
        const char *cat = score_pattern_category(lex, sp->pattern);
        const char *phrase = score_pattern_phrase(lex, sp->pattern);
        json_string(&o, (const uint8_t *)cat, strlen(cat));
        out_lit(&o, ",\"phrase\":");
        json_string(&o, (const uint8_t *)phrase, strlen(phrase));
        char w[48];
        snprintf(w, sizeof w, ",\"weight\":%.14g", score_pattern_weight(lex, sp->pattern));
        out_str(&o, w);
    } else {
        out_lit(&o, "\"signal/");
        out_str(&o, score_signal_names[sp->kind]);
        out_lit(&o, "\",\"description\":");
        json_string(&o, (const uint8_t *)fk->desc[sp->kind], strlen(fk->desc[sp->kind]));
    }
    out_lit(&o, ",\"text\":");
    out_char(&o, '\0');
    if (o.failed) { free(o.buf); dst->failed = 1; return ""; }
    *slot = o.buf;
    return *slot;
}

static void json_finding(Out *o, FindingParts *fp, const ScoreLexicon *lex, const char *text,
                         const ScoreSpan *sp, const FindingKinds *fk) {
    const char *part = finding_part(fp, lex, sp, fk, o);
    out_lit(o, "{\"line\":");
    json_uint(o, sp->line);
    out_lit(o, ",\"col\":");
    json_uint(o, sp->col);
    out_lit(o, ",\"start\":");
    json_uint(o, sp->start + 1);
    out_lit(o, ",\"stop\":");
    json_uint(o, sp->stop);
    out_str(o, part);
    json_string(o, (const uint8_t *)text + sp->start, sp->stop - sp->start);
    out_char(o, '}');
}

/* Writes the JSON array of findings to f, or pushes it as a string when f is
 * NULL: matches whose category passes `keep` and signals of the kinds in fk,
 * merged in text order (ties by category name). Raises on a write error. */
static void write_findings_json(lua_State *L, const ScoreLexicon *lex, const char *text, const ScoreResult *r,
                                const FindingKinds *fk, int (*keep)(const char *category), FILE *f) {
    FindingParts *fp = lua_newuserdatauv(L, sizeof *fp, 0);   /* the owner first: errors cannot leak */
    memset(fp, 0, sizeof *fp);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, finding_parts_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    int fpidx = lua_gettop(L);
    fp->pattern = calloc(lex->npats + 1, sizeof *fp->pattern);
    fp->keep_cat = calloc(lex->ncats + 1, 1);
    if (!fp->pattern || !fp->keep_cat) luaL_error(L, "out of memory");
    fp->npattern = lex->npats;
    uint8_t *keep_cat = fp->keep_cat;            /* which categories are kept, decided once */
    for (size_t c = 0; c < lex->ncats; c++) keep_cat[c] = (uint8_t)(keep ? keep(lex->cats[c]) : 1);
    Out o = { NULL, 0, 0, f, 0 };
    out_char(&o, '[');
    size_t m = 0, g = 0;
    int first = 1;
    for (;;) {
        while (m < r->nmatches && !keep_cat[lex->pats[r->matches[m].pattern].category]) m++;
        while (g < r->nsignals && !fk->desc[r->signals[g].kind]) g++;
        if (m >= r->nmatches && g >= r->nsignals) break;
        int take_match;
        if (m >= r->nmatches) take_match = 0;
        else if (g >= r->nsignals) take_match = 1;
        else if (r->matches[m].start != r->signals[g].start) take_match = r->matches[m].start < r->signals[g].start;
        else take_match = strcmp(score_pattern_category(lex, r->matches[m].pattern), "signal/") < 0;
        if (!first) out_char(&o, ',');
        first = 0;
        if (take_match) json_finding(&o, fp, lex, text, &r->matches[m++], fk);
        else json_finding(&o, fp, lex, text, &r->signals[g++], fk);
    }
    out_char(&o, ']');
    if (f && o.n && fwrite(o.buf, 1, o.n, f) != o.n) o.failed = 1;
    int failed = o.failed;
    if (!f && !failed) lua_pushlstring(L, o.buf, o.n);
    free(o.buf);
    lua_remove(L, fpidx);
    if (failed) luaL_error(L, f ? "cannot write findings: %s" : "out of memory", strerror(errno));
}

static void push_findings_json(lua_State *L, const ScoreLexicon *lex, const char *text, const ScoreResult *r,
                               const FindingKinds *fk, int (*keep)(const char *category)) {
    write_findings_json(L, lex, text, r, fk, keep, NULL);
}

/* Lexicon categories that count against a draft (the rest are shown only on request). */
static int category_against(const char *c) {
    return strncmp(c, "slop/", 5) == 0 || strncmp(c, "vendor/", 7) == 0 || strncmp(c, "banned/", 7) == 0 ||
           strcmp(c, "authenticity/brochure") == 0;
}

/* opts.findings = {kind = description, ...}: the JSON fast path (see push_result).
 * The descriptions stay alive in opts for the duration of the call. */
static void kinds_from_table(lua_State *L, int t, FindingKinds *fk) {
    memset(fk, 0, sizeof *fk);
    for (int k = 0; k < SIG_COUNT; k++) {
        if (lua_getfield(L, t, score_signal_names[k]) == LUA_TSTRING) fk->desc[k] = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
}

static const FindingKinds *opt_findings(lua_State *L, int idx, FindingKinds *fk) {
    if (!lua_istable(L, idx)) return NULL;
    if (lua_getfield(L, idx, "findings") != LUA_TTABLE) { lua_pop(L, 1); return NULL; }
    kinds_from_table(L, lua_gettop(L), fk);
    lua_pop(L, 1);
    return fk;
}

/* opts.stream = true (with findings): results get write_findings(file) instead
 * of findings_json, so a large output never becomes one Lua string. */
static int opt_stream(lua_State *L, int idx) {
    if (!lua_istable(L, idx)) return 0;
    int v = lua_getfield(L, idx, "stream") == LUA_TBOOLEAN && lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

/* Builds result.matches and result.signal_spans (tables) in the result at index t. */
static void push_spans(lua_State *L, int t, const ScoreLexicon *lex, const char *text, const ScoreResult *r) {
    t = lua_absindex(L, t);
    lua_createtable(L, K_COUNT, 0);
    int keys = lua_gettop(L);
    for (int k = 0; k < K_COUNT; k++) { lua_pushstring(L, key_names[k]); lua_rawseti(L, keys, k + 1); }
    /* phrase, category and kind strings, made once each */
    lua_createtable(L, 0, 0);
    int phrase_cache = lua_gettop(L);
    lua_createtable(L, (int)lex->ncats, 0);
    int cats = lua_gettop(L);
    for (size_t c = 0; c < lex->ncats; c++) { lua_pushstring(L, lex->cats[c]); lua_rawseti(L, cats, (lua_Integer)c + 1); }
    lua_createtable(L, SIG_COUNT, 0);
    int signal_names = lua_gettop(L);
    for (int k = 0; k < SIG_COUNT; k++) { lua_pushstring(L, score_signal_names[k]); lua_rawseti(L, signal_names, k + 1); }
    lua_createtable(L, (int)r->nmatches, 0);
    for (size_t m = 0; m < r->nmatches; m++) {
        const ScoreSpan *sp = &r->matches[m];
        const Pattern *pt = &lex->pats[sp->pattern];
        lua_createtable(L, 0, 8);
        push_span(L, keys, text, sp);
        if (lua_rawgeti(L, phrase_cache, sp->pattern + 1) == LUA_TNIL) {
            lua_pop(L, 1);
            lua_pushstring(L, lex->pool + pt->phrase);
            lua_pushvalue(L, -1);
            lua_rawseti(L, phrase_cache, sp->pattern + 1);
        }
        set_top(L, keys, K_PHRASE);
        lua_rawgeti(L, cats, (lua_Integer)pt->category + 1);
        set_top(L, keys, K_CATEGORY);
        lua_rawgeti(L, keys, K_WEIGHT + 1);
        lua_pushnumber(L, pt->weight);
        lua_rawset(L, -3);
        lua_rawseti(L, -2, (lua_Integer)m + 1);
    }
    lua_setfield(L, t, "matches");
    lua_createtable(L, (int)r->nsignals, 0);
    for (size_t m = 0; m < r->nsignals; m++) {
        lua_createtable(L, 0, 6);
        push_span(L, keys, text, &r->signals[m]);
        lua_rawgeti(L, signal_names, r->signals[m].kind + 1);
        set_top(L, keys, K_KIND);
        lua_rawseti(L, -2, (lua_Integer)m + 1);
    }
    lua_setfield(L, t, "signal_spans");
    lua_settop(L, keys - 1);
}

/* Pushes a result table of counts: words, sentences..., counts and weights per
 * category, signals per kind. The spans are added by the caller (push_spans,
 * now or on first access) or, with fk, come as one JSON string, findings_json:
 * the fast path for large outputs. */
static void push_summary(lua_State *L, const ScoreLexicon *lex, const char *text, const ScoreResult *r,
                         const FindingKinds *fk) {
    lua_createtable(L, 0, 16);
    int t = lua_gettop(L);
    lua_pushinteger(L, (lua_Integer)r->words); lua_setfield(L, t, "words");
    lua_pushinteger(L, (lua_Integer)r->sentences); lua_setfield(L, t, "sentences");
    lua_pushinteger(L, (lua_Integer)r->paragraphs); lua_setfield(L, t, "paragraphs");
    lua_pushinteger(L, (lua_Integer)r->anchored_sentences); lua_setfield(L, t, "anchored_sentences");
    lua_pushnumber(L, r->sentence_len_mean); lua_setfield(L, t, "sentence_length_mean");
    lua_pushnumber(L, r->sentence_len_cv); lua_setfield(L, t, "sentence_length_cv");
    lua_pushinteger(L, (lua_Integer)r->invalid_utf8); lua_setfield(L, t, "invalid_utf8");
    if (r->invalid_utf8) { lua_pushinteger(L, (lua_Integer)r->first_invalid + 1); lua_setfield(L, t, "first_invalid"); }
    if (r->oom) { lua_pushboolean(L, 1); lua_setfield(L, t, "incomplete"); }
    /* counts and weight sums per category, added up in C */
    size_t *counts = lex->ncats ? calloc(lex->ncats, sizeof *counts) : NULL;
    double *weights = lex->ncats ? calloc(lex->ncats, sizeof *weights) : NULL;
    if (lex->ncats && (!counts || !weights)) { free(counts); free(weights); luaL_error(L, "out of memory"); }
    for (size_t m = 0; m < r->nmatches; m++) {
        const Pattern *pt = &lex->pats[r->matches[m].pattern];
        counts[pt->category]++;
        weights[pt->category] += pt->weight;
    }
    lua_newtable(L);
    lua_newtable(L);
    for (size_t c = 0; c < lex->ncats; c++) {
        if (!counts[c]) continue;
        lua_pushstring(L, lex->cats[c]);
        lua_pushvalue(L, -1);
        lua_pushinteger(L, (lua_Integer)counts[c]);
        lua_rawset(L, -5);
        lua_pushnumber(L, weights[c]);
        lua_rawset(L, -3);
    }
    free(counts);
    free(weights);
    lua_setfield(L, t, "weights");
    lua_setfield(L, t, "counts");
    lua_createtable(L, 0, SIG_COUNT);
    for (int k = 0; k < SIG_COUNT; k++) {
        lua_pushinteger(L, r->signal_counts[k]);
        lua_setfield(L, -2, score_signal_names[k]);
    }
    lua_setfield(L, t, "signals");
    if (fk) {
        push_findings_json(L, lex, text, r, fk, category_against);
        lua_setfield(L, t, "findings_json");
    }
}

/* What a result closure refers to, from its upvalues: the box owning the C
 * result, a job index (0 for analyze), the lexicon (or nil), the text (a
 * string for analyze; the file job's buffer for analyze_files). */
static void result_source(lua_State *L, const ScoreLexicon **lex, const ScoreResult **r, const char **text) {
    static const ScoreLexicon empty = {0};
    *lex = lua_isnil(L, lua_upvalueindex(3)) ? &empty : check_lex(L, lua_upvalueindex(3))->lex;
    if (lua_type(L, lua_upvalueindex(4)) == LUA_TSTRING) {
        *r = &((ResultBox *)lua_touserdata(L, lua_upvalueindex(1)))->r;
        *text = lua_tostring(L, lua_upvalueindex(4));
    } else {
        FileJob *j = &((JobsBox *)lua_touserdata(L, lua_upvalueindex(1)))->jobs[lua_tointeger(L, lua_upvalueindex(2))];
        *r = &j->r;
        *text = j->text;
    }
}

/* __index of a result: matches and signal_spans are made on first access.
 * Upvalues: see result_source. */
static int lazy_spans(lua_State *L) {
    const char *key = lua_tostring(L, 2);
    if (!key || (strcmp(key, "matches") != 0 && strcmp(key, "signal_spans") != 0)) return 0;
    const ScoreLexicon *lex;
    const ScoreResult *r;
    const char *text;
    result_source(L, &lex, &r, &text);
    push_spans(L, 1, lex, text, r);
    lua_rawget(L, 1);
    return 1;
}

/* result.write_findings(file): the findings as JSON, written to an open Lua
 * file. Upvalues: see result_source, plus the findings kinds table. */
static int result_write_findings(lua_State *L) {
    luaL_Stream *fs = luaL_checkudata(L, 1, LUA_FILEHANDLE);
    if (!fs->closef) return luaL_error(L, "attempt to use a closed file");
    FindingKinds fk;
    kinds_from_table(L, lua_upvalueindex(5), &fk);
    const ScoreLexicon *lex;
    const ScoreResult *r;
    const char *text;
    result_source(L, &lex, &r, &text);
    write_findings_json(L, lex, text, r, &fk, category_against, fs->f);
    return 0;
}

/* Gives the result on top of the stack write_findings (see above). */
static void set_writer(lua_State *L, int owner, lua_Integer job, int lexidx, int textidx, int kindsidx) {
    lua_pushvalue(L, owner);
    lua_pushinteger(L, job);
    if (lexidx) lua_pushvalue(L, lexidx); else lua_pushnil(L);
    if (textidx) lua_pushvalue(L, textidx); else lua_pushnil(L);
    lua_pushvalue(L, kindsidx);
    lua_pushcclosure(L, result_write_findings, 5);
    lua_setfield(L, -2, "write_findings");
}

/* Gives the result on top of the stack its lazy spans (see lazy_spans). */
static void set_lazy(lua_State *L, int owner, lua_Integer job, int lexidx, int textidx) {
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, owner);
    lua_pushinteger(L, job);
    if (lexidx) lua_pushvalue(L, lexidx); else lua_pushnil(L);
    if (textidx) lua_pushvalue(L, textidx); else lua_pushnil(L);
    lua_pushcclosure(L, lazy_spans, 4);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
}


/* Signal kinds whose spans are recorded: all of them, or only those that
 * become findings on the JSON path (the rest would be made and thrown away). */
static uint32_t span_mask(int spans, const FindingKinds *fk) {
    if (fk) {
        uint32_t m = 0;
        for (int k = 0; k < SIG_COUNT; k++) if (fk->desc[k]) m |= 1u << k;
        return m;
    }
    return spans ? SCORE_ALL_KINDS : 0;
}

/* opts.signals = false: matching alone (no counts of words, sentences or signals). */
static int opt_flags(lua_State *L, int idx, int spans) {
    int flags = spans ? SCORE_SPANS : 0;
    if (lua_istable(L, idx)) {
        if (lua_getfield(L, idx, "signals") == LUA_TBOOLEAN && !lua_toboolean(L, -1)) flags |= SCORE_MATCHES_ONLY;
        lua_pop(L, 1);
    }
    return flags;
}

static int opt_spans(lua_State *L, int idx) {
    if (!lua_istable(L, idx)) return 1;
    lua_getfield(L, idx, "spans");
    int v = lua_isnil(L, -1) ? 1 : lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

/* Threads for one large text: the cores there are, at most four. */
static int default_threads(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 4 ? 4 : (int)n;
}

/* analyze(text [, lexicon [, {spans = bool, threads = n, ...}]]) -> result table */
static int score_analyze(lua_State *L) {
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    const ScoreLexicon *lex = lua_isnoneornil(L, 2) ? NULL : check_lex(L, 2)->lex;
    int spans = opt_spans(L, 3);
    ResultBox *box = lua_newuserdatauv(L, sizeof *box, 0);   /* owns the C result; freed by GC */
    memset(box, 0, sizeof *box);
    luaL_setmetatable(L, SCORE_RESULT_MT);
    int owner = lua_gettop(L);
    FindingKinds fkbuf;
    const FindingKinds *fk = opt_findings(L, 3, &fkbuf);
    int threads = default_threads();
    if (lua_istable(L, 3)) {
        lua_getfield(L, 3, "threads");
        threads = (int)luaL_optinteger(L, -1, threads);
        lua_pop(L, 1);
    }
    score_text_parallel(lex, text, len, opt_flags(L, 3, spans || fk), span_mask(spans, fk), threads, &box->r);
    static const ScoreLexicon empty = {0};
    push_summary(L, lex ? lex : &empty, text, &box->r, fk);
    if (spans && !fk) set_lazy(L, owner, 0, lex ? 2 : 0, 1);
    return 1;
}

/* ---- many files at once: a small thread pool, results in argument order ---- */

typedef struct {
    FileJob *jobs; size_t n;
    const ScoreLexicon *lex;
    int flags;               /* score_text flags */
    uint32_t kinds;          /* signal kinds with spans */
    int inner;               /* threads inside one file (a single large file) */
    size_t next;
    pthread_mutex_t mu;
} FilePool;

/* A regular file is mapped, not copied (*mapped set; munmap it); stdin and
 * other streams are read whole. */
static char *read_whole(const char *path, size_t *len, char **error, int *mapped) {
    *mapped = 0;
    if (strcmp(path, "-") != 0) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) { if (asprintf(error, "%s: %s", path, strerror(errno)) < 0) *error = NULL; return NULL; }
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
            void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
            close(fd);
            if (p != MAP_FAILED) { *mapped = 1; *len = (size_t)st.st_size; return p; }
        } else {
            close(fd);
        }
    }
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
        j->text = read_whole(j->path, &j->len, &j->error, &j->mapped);
        if (j->text) score_text_parallel(p->lex, j->text, j->len, p->flags, p->kinds, p->inner, &j->r);
        else if (!j->error) j->error = strdup("out of memory");
    }
    return NULL;
}

static int jobs_gc(lua_State *L) {
    JobsBox *b = lua_touserdata(L, 1);
    for (size_t i = 0; b->jobs && i < b->n; i++) {
        if (b->jobs[i].mapped) munmap(b->jobs[i].text, b->jobs[i].len);
        else free(b->jobs[i].text);
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
    int jobs_idx = lua_gettop(L);
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
        if (lua_rawgeti(L, 1, (lua_Integer)i + 1) != LUA_TSTRING)   /* a number would not stay converted */
            return luaL_error(L, "path %d is not a string", (int)i + 1);
        box->jobs[i].path = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    FindingKinds fkbuf;
    const FindingKinds *fk = opt_findings(L, 3, &fkbuf);
    int stream = fk && opt_stream(L, 3);
    int kindsidx = 0;
    if (stream) { lua_getfield(L, 3, "findings"); kindsidx = lua_gettop(L); }
    FilePool pool = { box->jobs, n, lex, opt_flags(L, 3, spans || fk), span_mask(spans, fk),
                      n == 1 ? threads : 1, 0, PTHREAD_MUTEX_INITIALIZER };
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
            push_summary(L, lex ? lex : &empty, j->text, &j->r, stream ? NULL : fk);
            if (stream) set_writer(L, jobs_idx, (lua_Integer)i, lex ? 2 : 0, 0, kindsidx);
            else if (spans && !fk) set_lazy(L, jobs_idx, (lua_Integer)i, lex ? 2 : 0, 0);
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
