/* test_score.c: the matcher and signals in C, under ASan/UBSan in make test-san. */
#include "test.h"
#include "score.h"

#include <stdlib.h>
#include <string.h>

static ScoreLexicon *compile(const char *text) {
    ScoreSource src = { "t.txt", text, strlen(text) };
    char err[256];
    ScoreLexicon *lex = score_compile(&src, 1, err, sizeof err);
    if (!lex) fprintf(stderr, "compile: %s\n", err);
    return lex;
}

static void test_matches_and_spans(void) {
    ScoreLexicon *lex = compile("[a/b]\ndelve\ndelve into | 2\nleverag*\nit's worth noting\n");
    CHECK(lex && score_lexicon_size(lex) == 4);
    const char *text = "We DELVE INTO it.\nIt\xe2\x80\x99s worth  noting: we leveraged crucially.";
    ScoreResult r;
    score_text(lex, text, strlen(text), 1, &r);
    CHECK(r.nmatches == 3);
    if (r.nmatches == 3) {
        CHECK_STR(score_pattern_phrase(lex, r.matches[0].pattern), "delve into");
        CHECK(r.matches[0].start == 3 && r.matches[0].stop == 13 && r.matches[0].line == 1 && r.matches[0].col == 4);
        CHECK(r.matches[1].line == 2 && r.matches[1].col == 1);
        CHECK(r.matches[2].stop - r.matches[2].start == strlen("leveraged"));
    }
    score_result_free(&r);
    score_lexicon_free(lex);
}

static void test_compile_errors(void) {
    const char *bad[] = { "x\n", "[A]\n", "[a/b weight=-1]\n", "[a/b]\nx | y\n", "[a/b]\n\xff\n", "[a/b\n" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ScoreSource src = { "bad.txt", bad[i], strlen(bad[i]) };
        char err[256] = "";
        ScoreLexicon *lex = score_compile(&src, 1, err, sizeof err);
        CHECK(lex == NULL);
        CHECK(strncmp(err, "bad.txt:", 8) == 0);
        score_lexicon_free(lex);
    }
}

static void test_invalid_utf8_and_edges(void) {
    ScoreLexicon *lex = compile("[a/b]\nok\n");
    const char *texts[] = { "", "\xff", "\xe2\x82", "ok\xc0\xaf ok", "\xf4\x90\x80\x80 ok", "ok \xed\xa0\x80", "   \n\n\n  " };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        ScoreResult r;
        score_text(lex, texts[i], strlen(texts[i]), 1, &r);
        for (size_t m = 0; m < r.nmatches; m++) CHECK(r.matches[m].stop <= strlen(texts[i]));
        score_result_free(&r);
    }
    ScoreResult r;
    score_text(lex, "ok\xc0\xaf ok", 7, 1, &r);
    CHECK(r.invalid_utf8 == 2 && r.first_invalid == 2);
    score_result_free(&r);
    /* a text of a single huge whitespace run and a long word */
    size_t n = 1 << 20;
    char *big = malloc(n + 1);
    CHECK(big != NULL);
    if (big) {
        memset(big, ' ', n / 2);
        memset(big + n / 2, 'o', n / 2);
        big[n] = '\0';
        score_text(lex, big, n, 1, &r);
        CHECK(r.words == 1 && r.nmatches == 0);
        score_result_free(&r);
        free(big);
    }
    score_lexicon_free(lex);
}

static void test_fold(void) {
    size_t n;
    char *f = score_fold("\xc3\x80 \xe2\x80\x9c" "A" "\xe2\x80\x9d\xe2\x80\x94\t\tB", 16, &n);
    CHECK_STR(f, "\xc3\xa0 \"a\"- b");
    free(f);
}

static void test_signals(void) {
    const char *text = "Latency fell 43% to 180ms on 12 nodes. It's not magic, it's caching.";
    ScoreResult r;
    score_text(NULL, text, strlen(text), 1, &r);
    CHECK(r.signal_counts[SIG_PERCENT] == 1 && r.signal_counts[SIG_DURATION] == 1 && r.signal_counts[SIG_NUMBER_UNIT] == 1);
    CHECK(r.signal_counts[SIG_ITS_NOT] == 1);
    CHECK(r.sentences == 2 && r.anchored_sentences == 1);
    for (size_t k = 1; k < r.nsignals; k++) CHECK(r.signals[k - 1].start <= r.signals[k].start);
    score_result_free(&r);
}

int main(void) {
    RUN(test_matches_and_spans);
    RUN(test_compile_errors);
    RUN(test_invalid_utf8_and_edges);
    RUN(test_fold);
    RUN(test_signals);
    return TEST_SUMMARY("score");
}
