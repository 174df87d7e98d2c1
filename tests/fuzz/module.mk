# tests/fuzz/module.mk: libFuzzer targets (clang). `make fuzz` runs each
# target for FUZZ_SECONDS (60) on seeds from tests/data, demo/*.mbox and
# ../shared/corpora; `make fuzz-short` is the CI pass (10 s each).
# The module archives are built by a separate make with clang and
# -fsanitize=fuzzer-no-link,address,undefined into build/fuzz/; each
# target links them with -fsanitize=fuzzer. Crashes are left in
# build/fuzz/crashes/TARGET/ (make it a regression test: tests/data/regress/
# and tests/test_regress.c; see docs/security.md).
# FUZZ_BUILD=build/NAME-fuzz keeps a second build, corpus and crashes apart
# (several people on one tree).
FUZZ_BUILD    ?= build/fuzz
FUZZ_TARGETS  := fuzz_mime fuzz_query fuzz_http fuzz_config
FUZZ_SECONDS  ?= 60
FUZZ_CFLAGS   := -std=c11 -O1 -g -fno-omit-frame-pointer -D_GNU_SOURCE \
                 -DSK_ARENA_DEBUG -I. -fsanitize=fuzzer,address,undefined \
                 -fno-sanitize-recover=all
FUZZ_ARCHIVES := $(patsubst $(BUILD)/%,$(FUZZ_BUILD)/%,$(MODULE_LIBS))
FUZZ_BINS     := $(patsubst %,$(FUZZ_BUILD)/tests/fuzz/%,$(FUZZ_TARGETS))
# Extra libFuzzer flags for every target, e.g. FUZZ_FLAGS='-jobs=2'.
FUZZ_FLAGS    ?=
# Per target: mail is slow to parse (attachment extractors run), so its
# inputs are kept to 64 KiB (longer seeds are cut).
FUZZ_FLAGS_fuzz_mime := -max_len=65536
# Messages taken from each mbox of demo/ and ../shared/corpora.
FUZZ_CORPUS_MAX ?= 500

.PHONY: fuzz fuzz-short fuzz-build fuzz-archives fuzz-seeds
fuzz-archives:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang CXX=clang++ OPT='-O1 -g' \
	    SANITIZE=address,undefined,fuzzer-no-link WERROR= $(FUZZ_ARCHIVES)

# The archives hold C++ (index/xap.cc): link with clang++.
$(FUZZ_BUILD)/tests/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h fuzz-archives
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) $(call pc,--cflags,$(PKGS)) -c $< -o $@.o
	clang++ -fsanitize=fuzzer,address,undefined -pthread -o $@ $@.o \
	    $(FUZZ_ARCHIVES) $(LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz-seeds:
	FUZZ_CORPUS_MAX=$(FUZZ_CORPUS_MAX) sh tests/fuzz/seeds.sh $(FUZZ_BUILD)/seeds

# Each target: a working corpus (build/fuzz/corpus/T, kept between runs)
# seeded from build/fuzz/seeds/T; crashes into build/fuzz/crashes/T/.
define FUZZ_RUN
@fail=0; for t in $(FUZZ_TARGETS); do \
    mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/crashes/$$t; \
    echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
    ASAN_OPTIONS=detect_leaks=1 \
    LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    $(FUZZ_BUILD)/tests/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) \
        -timeout=25 -rss_limit_mb=2560 -print_final_stats=1 \
        -artifact_prefix=$(FUZZ_BUILD)/crashes/$$t/ \
        -dict=tests/fuzz/$$t.dict $(FUZZ_FLAGS) \
        $$(case $$t in fuzz_mime) echo '$(FUZZ_FLAGS_fuzz_mime)';; esac) \
        $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/seeds/$$t \
        > $(FUZZ_BUILD)/$$t.log 2>&1 \
    || { fail=$$((fail+1)); echo "fuzz: $$t FAILED: see $(FUZZ_BUILD)/$$t.log"; \
         tail -40 $(FUZZ_BUILD)/$$t.log; }; \
    grep -h -E '^stat::(number_of_executed_units|new_units_added)' \
        $(FUZZ_BUILD)/$$t.log | sed "s/^/fuzz: $$t /"; \
done; echo "fuzz: $$(( $(words $(FUZZ_TARGETS)) - fail )) clean, $$fail crashed"; \
test $$fail -eq 0
endef

fuzz: fuzz-build fuzz-seeds
	$(FUZZ_RUN)

# CI: 10 s each on a smaller seed set (the working corpus is kept).
fuzz-short: FUZZ_SECONDS = 10
fuzz-short: FUZZ_CORPUS_MAX = 20
fuzz-short: fuzz-build fuzz-seeds
	$(FUZZ_RUN)
