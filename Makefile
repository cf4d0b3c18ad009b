# tickd build. `make` builds the daemon, `make test` runs every test (unit, toml-test, integration),
# `make test SANITIZE=1` does the same under AddressSanitizer + UndefinedBehaviorSanitizer.
# Sources are found by wildcard: a new module is a new file, not a Makefile edit.

PKGS     := libcurl libwebsockets libuv hiredis librabbitmq openssl jansson libsystemd
SANITIZE ?= 0
FUZZING  ?= 0
ifeq ($(FUZZING),1)
# libFuzzer harnesses (fuzz/): the library built with clang, coverage-instrumented, under ASan+UBSan.
FUZZ_CC  ?= clang
override CC := $(FUZZ_CC)
BUILD    ?= build-fuzz
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT      ?= -O1
else ifeq ($(SANITIZE),1)
BUILD    ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT      ?= -O1
else
BUILD    ?= build
SANFLAGS :=
OPT      ?= -O2
endif

PREFIX   ?= /usr/local
DESTDIR  ?=
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Iinclude -DTICKD_VERSION='"$(VERSION)"' $(PKG_CFLAGS) $(SANFLAGS) -MMD -MP
LDFLAGS += $(SANFLAGS)
LDLIBS  += $(PKG_LIBS) -lm -lpthread

LIB_SRC   := $(sort $(filter-out src/app/main.c,$(wildcard src/*/*.c)))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FAKEX_SRC := $(sort $(wildcard tests/fakex/*.c))
FAKEX_OBJ := $(FAKEX_SRC:%.c=$(BUILD)/%.o)
TOOLS_SRC := $(sort $(wildcard tests/tools/*.c))
TOOLS_BIN := $(TOOLS_SRC:tests/tools/%.c=$(BUILD)/tools/%)
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
FUZZ_SRC  := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BIN  := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/%)

.SECONDARY:
.PHONY: all tickd tools test check unit deps install demo bench fuzz fuzz-build fuzz-bins clean
all: tickd tools
tickd: $(BUILD)/tickd
tools: $(BUILD)/toml-decoder $(if $(FAKEX_SRC),$(BUILD)/fakex) $(UNIT_BIN) $(BENCH_BIN) $(TOOLS_BIN)

# V=1 shows whole command lines.
Q := $(if $(V),,@)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC    $<")
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libtickd.a: $(LIB_OBJ)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

$(BUILD)/tickd: $(BUILD)/src/app/main.o $(BUILD)/libtickd.a
	@$(if $(V),,echo "  LINK  $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/toml-decoder: $(BUILD)/tests/toml-decoder.o $(BUILD)/libtickd.a
	@$(if $(V),,echo "  LINK  $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fakex: $(FAKEX_OBJ) $(BUILD)/libtickd.a
	@$(if $(V),,echo "  LINK  $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libtickd.a
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LINK  $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tools/%: $(BUILD)/tests/tools/%.o $(BUILD)/libtickd.a
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LINK  $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(BUILD)/libtickd.a
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LINK  $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz/%: $(BUILD)/fuzz/%.o $(BUILD)/libtickd.a
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LINK  $@")
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

fuzz-bins: $(FUZZ_BIN)

# The harnesses alone, in build-fuzz (`make fuzz` runs them).
fuzz-build:
	@$(MAKE) --no-print-directory FUZZING=1 BUILD=build-fuzz fuzz-bins

# Each harness for FUZZ_SECONDS (60), one after the other; prints executions and crashes per harness.
fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@scripts/fuzz.sh run

# Installs missing Debian packages (quick no-op when all are present).
deps:
	@scripts/deps.sh

# The whole suite: unit tests, toml-test conformance, integration tests against real servers.
test: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) scripts/run-tests.sh

# README's test command: the suite, then the suite again under ASan+UBSan.
check: deps
	@scripts/check.sh

# Unit tests only, no servers.
unit: all
	@BUILD=$(BUILD) TICKD_TEST_ONLY=unit scripts/run-tests.sh

# The unit names /usr/local paths; they follow PREFIX. tickd.toml stays 0644 (the dynamic user reads it):
# passwords belong in credential files.
install: $(BUILD)/tickd
	install -D -m 0755 $(BUILD)/tickd $(DESTDIR)$(PREFIX)/bin/tickd
	install -d -m 0755 $(DESTDIR)/lib/systemd/system $(DESTDIR)/etc/tickd
	sed 's#/usr/local/#$(PREFIX)/#g' systemd/tickd.service > $(DESTDIR)/lib/systemd/system/tickd.service
	chmod 0644 $(DESTDIR)/lib/systemd/system/tickd.service
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/tickd/README.md
	@if [ -e $(DESTDIR)/etc/tickd/tickd.toml ]; then \
	  echo "keeping existing $(DESTDIR)/etc/tickd/tickd.toml"; \
	else install -D -m 0644 config/tickd.toml $(DESTDIR)/etc/tickd/tickd.toml; fi

demo: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) scripts/bench.sh

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
