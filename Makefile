# conclave — build, test and run.
#
#   make            build the server (build/conclave) and the web app (build/web)
#   make run        install what is missing, build, start a server, print a link
#   make test       install what is missing, build, run every test
#   make asan       the server and unit tests with AddressSanitizer + UBSan
#   make fuzz       the libFuzzer campaign (1 CPU-hour per target; FUZZ_CPU=s)
#                   make fuzz-smoke: a short run of each (make test runs it)
#   make soak       an hour of churn and a misbehaving client, then kills and
#                   restarts (SOAK_MINUTES=n; not in make test)
#
# Every C file under src/<module>/ is part of the server; src/main/main.c
# holds main(). Tests and fuzz targets link the same objects.

CC       ?= cc
CLANG    ?= clang
PKGS     := libwebsockets jansson libsrtp2 sqlite3 openssl nettle
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

VERSION  := 0.1.0
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS   ?= -O2 -g
ALL_CFLAGS := -std=c17 $(WARN) -D_GNU_SOURCE -DCONCLAVE_VERSION='"$(VERSION)"' \
              -Isrc $(PKG_CFLAGS) $(CFLAGS)
LDLIBS   := $(PKG_LIBS) -lev -lz -lpthread

SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
             -fno-omit-frame-pointer

LIB_SRC  := $(filter-out src/main/main.c,$(sort $(wildcard src/*/*.c)))
MAIN_SRC := src/main/main.c
TEST_SRC := $(sort $(wildcard tests/unit/*.c))
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
# headers are tracked per object through -MMD dependency files
HDRS     :=
DEPFLAGS  = -MMD -MP

B        := build
OBJ      := $(LIB_SRC:%.c=$(B)/obj/%.o)
AOBJ     := $(LIB_SRC:%.c=$(B)/asan/obj/%.o)
FOBJ     := $(LIB_SRC:%.c=$(B)/fuzz/obj/%.o)

WEB_SRC  := $(shell find web/src web/index.html web/public -type f 2>/dev/null) \
            web/package.json web/vite.config.ts web/tsconfig.json

-include $(OBJ:.o=.d) $(AOBJ:.o=.d) $(FOBJ:.o=.d)

.PHONY: all server web asan test unit deps run fuzz fuzz-smoke fuzz-build \
        clean bench bench-smoke srtp-bench gso-bench integration browser webtest media hardening soak

all: server web

server: $(B)/conclave $(B)/test_conclave

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(B)/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -O1 $(DEPFLAGS) -c $< -o $@

$(B)/conclave: $(OBJ) $(MAIN_SRC) $(wildcard src/*/*.h)
	$(CC) $(ALL_CFLAGS) $(MAIN_SRC) $(OBJ) -o $@ $(LDLIBS)

$(B)/test_conclave: $(OBJ) $(TEST_SRC) $(wildcard src/*/*.h tests/unit/*.h)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(TEST_SRC) $(OBJ) -o $@ $(LDLIBS)

$(B)/asan/conclave: $(AOBJ) $(MAIN_SRC) $(wildcard src/*/*.h)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -O1 $(MAIN_SRC) $(AOBJ) -o $@ $(LDLIBS)

$(B)/asan/test_conclave: $(AOBJ) $(TEST_SRC) $(wildcard src/*/*.h tests/unit/*.h)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -O1 -Itests/unit $(TEST_SRC) $(AOBJ) -o $@ $(LDLIBS)

asan: $(B)/asan/conclave $(B)/asan/test_conclave

# ---- web app -------------------------------------------------------------
web: $(B)/web/index.html

$(B)/web/index.html: $(WEB_SRC)
	cd web && npm run --silent build

# ---- fuzzing (clang + libFuzzer) -----------------------------------------
FUZZ_CFLAGS := -std=c17 -Wall -Wextra -Werror -D_GNU_SOURCE -DCONCLAVE_VERSION='"$(VERSION)"' \
               -Isrc $(PKG_CFLAGS) \
               -g -O1 -fsanitize=fuzzer-no-link,address,undefined
FUZZ_BINS := $(FUZZ_SRC:fuzz/%.c=$(B)/fuzz/%)

$(B)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(B)/fuzz/%: fuzz/%.c $(FOBJ) $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FOBJ) -o $@ $(LDLIBS)

fuzz-build: $(FUZZ_BINS)
# the objects are shared by every target: keep them between builds
.PRECIOUS: $(B)/fuzz/obj/%.o

FUZZ_SECONDS ?= 15
fuzz-smoke: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZ_BINS)

# The campaign (scripts/fuzz-campaign.sh, docs/security.md "Fuzzing"):
# FUZZ_CPU CPU seconds per target, in turns of FUZZ_SLICE, one niced fuzzer
# at a time; results go to the ledger fuzz/campaign.tsv and the corpora.
# FUZZ_TOPUP=1 counts the ledger, so that a campaign continues where it was.
FUZZ_CPU ?= 3600
FUZZ_SLICE ?= 900
fuzz: fuzz-build
	FUZZ_CPU=$(FUZZ_CPU) FUZZ_SLICE=$(FUZZ_SLICE) scripts/fuzz-campaign.sh $(FUZZ_BINS)

# ---- tests ---------------------------------------------------------------
deps:
	scripts/deps.sh

unit: $(B)/asan/test_conclave $(B)/test_conclave
	$(B)/test_conclave
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(B)/asan/test_conclave

integration: $(B)/asan/conclave $(B)/conclave web
	cd tests && node --test --test-concurrency=1 integration/

# media tests: an independent WebRTC stack through the SFU, inside a
# network namespace of their own (no ICE candidates on loopback)
media: $(B)/asan/conclave
	cd tests && ../scripts/netns.sh node --test --test-concurrency=1 media/

# ---- benchmark (bench/README.md) -----------------------------------------
$(B)/bench/loadgen: bench/loadgen.c $(OBJ) $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) bench/loadgen.c $(OBJ) -o $@ $(LDLIBS)

bench: $(B)/conclave $(B)/bench/loadgen
	bench/deps.sh
	node bench/run.mjs

bench-smoke: $(B)/conclave $(B)/bench/loadgen
	BENCH_SMOKE=1 node bench/run.mjs

# µs per SRTP protect, libsrtp2 vs the EVP path (not part of make test)
$(B)/bench/srtp_bench: bench/srtp_bench.c $(OBJ) $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) bench/srtp_bench.c $(OBJ) -o $@ $(LDLIBS)

srtp-bench: $(B)/bench/srtp_bench
	$(B)/bench/srtp_bench

# kernel CPU per datagram, sendmmsg vs UDP GSO (not part of make test)
$(B)/bench/gso_bench: bench/gso_bench.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) bench/gso_bench.c -o $@ -lpthread

gso-bench: $(B)/bench/gso_bench
	$(B)/bench/gso_bench

# hardening: floods during a meeting, kills during writes, limits
hardening: $(B)/asan/conclave
	cd tests && ../scripts/netns.sh node --test --test-concurrency=1 hardening/

# soak and chaos (not in `make test`): an hour of joins, leaves, reconnects
# and a misbehaving client, then kills and restarts; docs/operations.md
soak: $(B)/conclave
	nice -n 10 scripts/soak.sh $(B)/conclave

webtest:
	cd web && npm run --silent test

browser: $(B)/asan/conclave $(B)/conclave web
	cd tests && CONCLAVE_BIN=$(CURDIR)/$(B)/asan/conclave \
	  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ../scripts/netns.sh node --test --test-concurrency=1 browser/

test: deps
	$(MAKE) all asan
	$(MAKE) unit
	$(MAKE) webtest
	$(MAKE) integration
	$(MAKE) media
	$(MAKE) hardening
	$(MAKE) browser
	$(MAKE) bench-smoke
	$(MAKE) fuzz-smoke

run: deps
	$(MAKE) all
	scripts/run.sh

clean:
	rm -rf $(B)
