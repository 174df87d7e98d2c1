# Skarbnica: non-recursive GNU Makefile. Each module has a module.mk that
# adds its archive; `make` leaves the binary at ./skarbnica.
.DEFAULT_GOAL := all
BUILD    ?= build/$(if $(SANITIZE),san,dev)
OPT      ?= -O2 -g
WARN     := -Wall -Wextra -Wformat=2 -Wshadow -Wvla -Wwrite-strings \
            -Wstrict-prototypes -Wmissing-prototypes \
            -Werror=implicit-function-declaration
CPPFLAGS += -I. -D_GNU_SOURCE -MMD -MP
CFLAGS   += -std=c11 $(OPT) $(WARN) -pthread
CXXFLAGS += -std=c++17 $(OPT) -Wall -Wextra -pthread
LDFLAGS  += -pthread
ifdef SANITIZE
SANFLAGS := -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
CFLAGS   += $(SANFLAGS)
CXXFLAGS += $(SANFLAGS)
LDFLAGS  += $(SANFLAGS)
CPPFLAGS += -DSK_ARENA_DEBUG
endif
ifdef WERROR
CFLAGS   += -Werror
CXXFLAGS += -Werror
endif

pc = $(shell pkg-config $(1) $(2) 2>/dev/null)
PKGS := sqlite3 xapian-core libmicrohttpd libutf8proc icu-uc icu-i18n \
        libxml-2.0 libcmark jansson libsodium inih libzip gnutls libseccomp

# A fresh machine: install what is missing before computing flags, so the
# README's two commands work on a new Debian 12 system.
ifeq ($(filter deps clean lint,$(MAKECMDGOALS)),)
DEPS_OK := $(shell pkg-config --exists $(PKGS) libetpan cmocka && \
             test -f /usr/share/hunspell/pl_PL.dic && command -v pdftotext >/dev/null && echo yes)
ifneq ($(DEPS_OK),yes)
$(info skarbnica: installing missing Debian packages with scripts/install-deps ...)
DEPS_RC := $(shell sh scripts/install-deps >&2; echo $$?)
ifneq ($(DEPS_RC),0)
$(error scripts/install-deps failed; run it by hand to see why)
endif
endif
endif
CPPFLAGS += $(call pc,--cflags,$(PKGS)) $(filter-out -specs=%,$(call pc,--cflags,libetpan))
LIBS := $(filter-out -specs=%,$(call pc,--libs,libetpan)) \
        $(call pc,--libs,$(PKGS)) -lhunspell -lm
LIBS_cmocka := $(call pc,--libs,cmocka)

obj = $(patsubst %,$(BUILD)/%.o,$(basename $(1)))
BINS :=
TESTS :=
include lib/module.mk schema/module.mk index/module.mk ingest/module.mk \
        web/module.mk mailer/module.mk
# Link order: dependents first.
MODULE_LIBS := $(web_LIB) $(mailer_LIB) $(ingest_LIB) $(index_LIB) \
               $(schema_LIB) $(lib_LIB)
include cmd/module.mk tests/module.mk bench/module.mk tests/fuzz/module.mk

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@
$(BUILD)/%.o: %.cc
	@mkdir -p $(@D)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c $< -o $@
$(BUILD)/%.o: %.S
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -c $< -o $@
%.a:
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

.PHONY: all check check-san lint clean deps demo bench fuzz fuzz-short
.SECONDARY:
all: skarbnica
# Replace atomically: a running ./skarbnica keeps its old file.
skarbnica: $(BUILD)/skarbnica
	cp $< $@.tmp && mv -f $@.tmp $@

deps:
	sh scripts/install-deps

# Every test program prints cmocka's summary; the last line counts programs.
check: $(TESTS) skarbnica
	@sh tests/run-tests.sh $(TESTS)
	@sh tests/browser/run.sh
	@sh tests/lint.sh

check-san:
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_odr_violation=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	$(MAKE) SANITIZE=address,undefined OPT='-O1 -g' san-check

san-check: $(TESTS) $(BUILD)/skarbnica
	@SKARBNICA_BIN=$(BUILD)/skarbnica sh tests/run-tests.sh $(TESTS)

lint:
	@sh tests/lint.sh

demo: skarbnica
	./skarbnica demo

clean:
	rm -rf build skarbnica

-include $(shell find build -name '*.d' 2>/dev/null)
