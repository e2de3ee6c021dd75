/* score.h: deterministic text scoring: lexicon matching and specificity/structure signals. */
#ifndef CANDOR_SCORE_H
#define CANDOR_SCORE_H

#include <stddef.h>
#include <stdint.h>
#include <lua.h>

typedef struct ScoreLexicon ScoreLexicon;

/* One lexicon source: a name for messages and its text. */
typedef struct {
    const char *name;
    const char *text;
    size_t len;
} ScoreSource;

/* Compiles sources into a lexicon; NULL with a message ("name:line: ...") in err. */
ScoreLexicon *score_compile(const ScoreSource *src, size_t nsrc, char *err, size_t errlen);
void score_lexicon_free(ScoreLexicon *lex);
size_t score_lexicon_size(const ScoreLexicon *lex);

/* Case folding and normalization as the matcher sees text (for tests and tools). */
char *score_fold(const char *text, size_t len, size_t *outlen);

/* Signals counted in one pass; see score.c for each one's definition. */
enum {
    SIG_NUMBER_UNIT, SIG_NUMBER, SIG_PERCENT, SIG_MONEY, SIG_DURATION, SIG_DATE, SIG_VERSION,
    SIG_NAMED, SIG_ACRONYM, SIG_CODE, SIG_URL, SIG_ABSTRACT_UNANCHORED,
    SIG_NOT_JUST, SIG_ITS_NOT, SIG_TRIAD, SIG_DASH_STACK, SIG_RHETORICAL_OPENER,
    SIG_QUESTION, SIG_EXCLAMATION, SIG_EMOJI, SIG_EM_DASH,
    SIG_FIRST_PERSON_SINGULAR, SIG_FIRST_PERSON_PLURAL, SIG_SECOND_PERSON, SIG_CONTRACTION,
    SIG_COUNT
};
extern const char *const score_signal_names[SIG_COUNT];
/* Signals that anchor a claim: a sentence with one of these is concrete. */
#define SIG_IS_ANCHOR(k) ((k) <= SIG_URL)

typedef struct {
    size_t start, stop;          /* byte offsets [start, stop) in the text */
    uint32_t line, col;          /* 1-based; col counts code points */
    int32_t pattern;             /* lexicon pattern, or -1 for a signal */
    int32_t kind;                /* signal kind for signals */
} ScoreSpan;

typedef struct {
    ScoreSpan *matches; size_t nmatches, capmatches;
    ScoreSpan *signals; size_t nsignals, capsignals;
    uint32_t signal_counts[SIG_COUNT];
    size_t words, sentences, paragraphs, anchored_sentences;
    double sentence_len_mean, sentence_len_cv;
    double sentence_len_sum, sentence_len_sumsq;   /* what mean and cv come from (chunks add up) */
    size_t invalid_utf8;         /* invalid sequences seen (each replaced, scoring goes on) */
    size_t first_invalid;        /* byte offset of the first, if any */
    int oom;                     /* out of memory: the result is incomplete */
    int signals_unsorted;        /* internal: a signal span arrived out of order */
} ScoreResult;

/* Flags for score_text. */
#define SCORE_SPANS 1           /* record signal spans (matches always have theirs) */
#define SCORE_MATCHES_ONLY 2    /* skip the signals pass: phrase matching alone */

/* Scores text: lexicon matches (lex may be NULL) and signals. Thread-safe for
 * a shared lexicon. Free with score_result_free. */
void score_text(const ScoreLexicon *lex, const char *text, size_t len, int flags, ScoreResult *out);
/* The same, recording spans only for the signal kinds in span_kinds (bit k for kind k). */
#define SCORE_ALL_KINDS ((1u << SIG_COUNT) - 1)
void score_text_kinds(const ScoreLexicon *lex, const char *text, size_t len, int flags, uint32_t span_kinds,
                      ScoreResult *out);
/* The same on up to nthreads threads for a large text, split at paragraph
 * breaks (phrases and sentence shapes never cross one): the same result. */
void score_text_parallel(const ScoreLexicon *lex, const char *text, size_t len, int flags, uint32_t span_kinds,
                         int nthreads, ScoreResult *out);
void score_result_free(ScoreResult *r);

/* Pattern details for reporting. */
const char *score_pattern_phrase(const ScoreLexicon *lex, int32_t pattern);
const char *score_pattern_category(const ScoreLexicon *lex, int32_t pattern);
double score_pattern_weight(const ScoreLexicon *lex, int32_t pattern);

int luaopen_core_score(lua_State *L);

#endif
