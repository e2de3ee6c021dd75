/* run_corpus.c: runs the fuzz target (fuzz_score.c) once over every regular
 * file of a directory, so the seed corpus and saved crash reproducers are a
 * plain regression test (built with ASan+UBSan by `make test`, no libFuzzer).
 * Usage: run_corpus DIR [FILE...]. A broken invariant aborts; a sanitizer
 * report ends the process; otherwise it prints
 * "fuzz corpus: N passed, 0 failed". */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Under ASan/UBSan this names the input a report came from; absent otherwise. */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static const char *current;       /* the file being run */

static void name_current(void) {
    if (!current) return;
    /* async-signal-safe: write(2) only */
    static const char pre[] = "fuzz corpus: failed on ";
    if (write(2, pre, sizeof pre - 1) < 0 || write(2, current, strlen(current)) < 0 || write(2, "\n", 1) < 0) return;
}

static void on_abort(int sig) {
    name_current();
    signal(sig, SIG_DFL);
    raise(sig);
}

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return -1; }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
    }
    int failed = ferror(f);
    fclose(f);
    if (!buf || failed) { fprintf(stderr, "%s: cannot read\n", path); free(buf); return -1; }
    /* an exact-size copy, so a read past the end is caught as it is under libFuzzer */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) { free(buf); return -1; }
    memcpy(exact, buf, n);
    free(buf);
    current = path;
    LLVMFuzzerTestOneInput(exact, n);
    current = NULL;
    free(exact);
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [FILE...]\n", argv[0]);
        return 2;
    }
    signal(SIGABRT, on_abort);    /* a broken invariant aborts */
    signal(SIGSEGV, on_abort);
    if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(name_current);
    size_t passed = 0, failed = 0;
    DIR *d = opendir(argv[1]);
    if (!d) { perror(argv[1]); return 2; }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) { closedir(d); return 2; }
            names = nn;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_str);   /* a stable order: reproducible runs */
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], names[i]);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(path) == 0) passed++;
            else failed++;
        }
        free(names[i]);
    }
    free(names);
    for (int i = 2; i < argc; i++) {
        if (run_file(argv[i]) == 0) passed++;
        else failed++;
    }
    if (passed + failed == 0) { fprintf(stderr, "%s: no inputs\n", argv[1]); failed = 1; }
    printf("fuzz corpus: %zu passed, %zu failed\n", passed, failed);
    return failed ? 1 : 0;
}
