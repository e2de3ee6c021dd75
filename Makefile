# Candor build. `make` builds build/candor; `make test` runs every test;
# `make demo` runs the main job; `make deps` installs missing Debian packages.

PREFIX  ?= /usr/local
CC      ?= cc
PKGS    := lua5.4 lua5.4-luv lua5.4-cjson libuv libcurl sqlite3 libcrypto libcrypt libedit
# Debian packages that provide the above (and the tools the tests and benchmarks use).
DEBS    := build-essential pkg-config liblua5.4-dev lua-cjson lua-cjson-dev lua-luv-dev \
           libuv1-dev libcurl4-openssl-dev libsqlite3-dev libssl-dev libcrypt-dev libedit-dev \
           libncurses-dev libbsd-dev libmd-dev tzdata poppler-utils bsdutils patch

WARN    := -Wall -Wextra -Werror
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
# build/candor links Debian's static archives, not PIE: a dynamic link spent most of
# `candor version` relocating libcrypto's symbols, and PIE relocations dirty pages
# (see bench/startup.lua). Lua's API stays exported for C modules a user requires;
# the other libraries' symbols are hidden.
STATIC_ARCHIVES := liblua5.4-luv.a liblua5.4-cjson.a liblua5.4.a libuv_a.a libsqlite3.a \
           libcrypto.a libcrypt.a libedit.a libtinfo.a libbsd.a libmd.a
HIDDEN  := $(subst $(eval) ,:,$(filter-out liblua5.4.a,$(STATIC_ARCHIVES)))
BIN_LIBS = -no-pie -Wl,-Bstatic $(addprefix -l:,$(STATIC_ARCHIVES)) -Wl,-Bdynamic \
           -lm -ldl -lpthread -Wl,--export-dynamic -Wl,--exclude-libs,$(HIDDEN)
# libcurl is not linked: src/http.c loads it with dlopen on the first request.
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

SRC     := $(wildcard src/*.c)
LIBSRC  := $(filter-out src/main.c,$(SRC))
OBJ     := $(SRC:src/%.c=build/obj/%.o)
LIBOBJ  := $(LIBSRC:src/%.c=build/obj/%.o)
SANOBJ  := $(LIBSRC:src/%.c=build/san/%.o)
CTESTS  := $(patsubst tests/c/%.c,build/tests/%,$(wildcard tests/c/test_*.c))
SANTESTS:= $(patsubst tests/c/%.c,build/san-tests/%,$(wildcard tests/c/test_*.c))

.SECONDARY:
.PHONY: all deps test test-c test-san test-lua demo bench fuzz install clean
all: build/candor

build/candor: $(OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $(OBJ) $(BIN_LIBS)

build/obj/%.o: src/%.c $(wildcard src/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

build/san/%.o: src/%.c $(wildcard src/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 -c -o $@ $<

build/tests/%: tests/c/%.c tests/c/test.h $(LIBOBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(LIBOBJ) $(LIBS)

build/san/candor: $(SANOBJ) build/san/main.o
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 -o $@ $^ $(LIBS) -Wl,--export-dynamic

# The fuzz target's seed corpus, run once per input under ASan+UBSan (no libFuzzer).
build/san-tests/fuzz_corpus: tests/fuzz/run_corpus.c tests/fuzz/fuzz_score.c build/san/score.o
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 -Isrc -o $@ tests/fuzz/run_corpus.c tests/fuzz/fuzz_score.c \
	  build/san/score.o $(LIBS)

# libFuzzer with Debian's clang: make fuzz FUZZ_SECONDS=600
FUZZ_SECONDS ?= 600
fuzz:
	@mkdir -p build/fuzz-work build/fuzz-artifacts && cp tests/fuzz/corpus/* build/fuzz-work/
	clang -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -g -O1 \
	  -Isrc $(shell pkg-config --cflags lua5.4) tests/fuzz/fuzz_score.c src/score.c \
	  $(shell pkg-config --libs lua5.4) -lm -lpthread -o build/fuzz_score
	build/fuzz_score -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
	  -artifact_prefix=build/fuzz-artifacts/ build/fuzz-work

build/san-tests/%: tests/c/%.c tests/c/test.h $(SANOBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 -Isrc -o $@ $< $(SANOBJ) $(LIBS)

# Installs only what is missing; runs apt-get update only when it has to.
deps:
	@missing=""; for p in $(DEBS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory test-c test-san test-lua

test-c: $(CTESTS)
	@for t in $(CTESTS); do echo "== $$t"; $$t || exit 1; done

# The C tests under ASan+UBSan (leaks checked), then the whole Lua suite on an
# instrumented binary, so every C path the Lua tests reach is checked too.
test-san: $(SANTESTS) build/san/candor build/san-tests/fuzz_corpus
	@for t in $(SANTESTS); do echo "== $$t (asan+ubsan)"; \
	  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $$t || exit 1; done
	@echo "== fuzz corpus (asan+ubsan)"
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 build/san-tests/fuzz_corpus tests/fuzz/corpus
	@echo "== Lua tests on build/san/candor (asan+ubsan)"
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 CANDOR_TEST_BINARY=build/san/candor \
	  build/san/candor lua tests/run.lua

test-lua: build/candor
	@build/candor lua tests/run.lua

demo: deps
	@$(MAKE) --no-print-directory all
	@sh tests/demo.sh

bench: build/candor
	@command -v hyperfine >/dev/null 2>&1 || { SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get install -y -qq hyperfine || { $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq hyperfine; }; }
	@for b in bench/*.lua; do case $$b in */common.lua|*/gen_corpus.lua) continue;; esac; \
	  echo "== $$b"; build/candor lua $$b || exit 1; done

install: build/candor
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/candor
	install -m 755 build/candor $(DESTDIR)$(PREFIX)/bin/candor
	cp -R lua workflows prompts $(DESTDIR)$(PREFIX)/share/candor/

clean:
	rm -rf build
