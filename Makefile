# mrtc: ONNX -> C compiler.  `make` builds ./mrtc; `make test` runs every
# test tier and ends with "N passed, N failed"; `make demo` compiles and runs
# the example; `make install PREFIX=/usr/local DESTDIR=`.
#
# SAN=1 builds mrtc and the test programs with AddressSanitizer and
# UndefinedBehaviorSanitizer.

CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   := build

# Warnings: all and extra, but not unused-parameter (op hooks share one
# signature and many ignore an argument).
WARN    := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wno-sign-compare
CFLAGS  ?= -O2 -g
ifeq ($(SAN),1)
CFLAGS  := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDSAN   := -fsanitize=address,undefined
export MRTC_TEST_CFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -g
endif
CPPFLAGS := -Icompiler -Iruntime -I$(BUILD) -I/usr/include/openblas
LDLIBS  := -lprotobuf-c -lcjson -lopenblas -lm

PROTO   := /usr/include/onnx/onnx.proto
OPS     := $(wildcard compiler/ops/*.c)
SRCS    := compiler/util.c compiler/ir.c compiler/onnx_load.c compiler/npy.c compiler/ops.c \
           compiler/shape.c compiler/fuse.c compiler/pass_layout.c compiler/pass_bn.c compiler/pass_add.c compiler/pass_act.c compiler/pass_pool.c compiler/config.c compiler/calibrate.c compiler/quantize.c compiler/interp.c compiler/plan.c compiler/emit_c.c compiler/blas.c \
           compiler/main.c $(OPS)
OBJS    := $(SRCS:%.c=$(BUILD)/%.o) $(BUILD)/onnx.pb-c.o $(BUILD)/embedded.o
RUNTIME := $(wildcard runtime/*.h)
TEMPLATES := $(wildcard templates/*)

MRTC_BIN ?= mrtc

all: $(MRTC_BIN)

$(MRTC_BIN): $(OBJS)
	$(CC) $(CFLAGS) $(LDSAN) -o $@ $(OBJS) $(LDLIBS)

# one rule makes both files: the header depends on the source, so a parallel
# make never runs protoc-c twice at once
$(BUILD)/onnx.pb-c.c: $(PROTO)
	@mkdir -p $(BUILD)
	cp -f $(PROTO) $(BUILD)/onnx.proto
	cd $(BUILD) && protoc-c --c_out=. onnx.proto

$(BUILD)/onnx.pb-c.h: $(BUILD)/onnx.pb-c.c
	@test -f $@ || { rm -f $<; $(MAKE) --no-print-directory $<; }

$(BUILD)/onnx.pb-c.o: $(BUILD)/onnx.pb-c.c
	$(CC) $(CFLAGS) -I$(BUILD) -c -o $@ $<

$(BUILD)/embedded.c: $(RUNTIME) $(TEMPLATES) tools/embed.sh
	@mkdir -p $(BUILD)
	sh tools/embed.sh $@ $(RUNTIME) $(TEMPLATES)

$(BUILD)/embedded.o: $(BUILD)/embedded.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/compiler/%.o: compiler/%.c compiler/mrtc.h compiler/ops.def $(RUNTIME) $(BUILD)/onnx.pb-c.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(CPPFLAGS) -c -o $@ $<

deps:
	@sh tools/deps.sh

test: $(MRTC_BIN)
	@sh tests/run_all.sh

check-all: $(MRTC_BIN)
	@MRTC_FULL=1 sh tests/run_all.sh

demo:
	@sh tools/deps.sh
	@$(MAKE) --no-print-directory $(MRTC_BIN)
	@sh examples/demo.sh

bench: $(MRTC_BIN)
	@bash bench/run.sh

install: mrtc
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include/mrtc $(DESTDIR)$(PREFIX)/share/mrtc/templates $(DESTDIR)$(PREFIX)/share/mrtc/runtime
	install -m 755 mrtc $(DESTDIR)$(PREFIX)/bin/mrtc
	install -m 644 include/*.h $(DESTDIR)$(PREFIX)/include/mrtc/
	install -m 644 templates/* $(DESTDIR)$(PREFIX)/share/mrtc/templates/
	install -m 644 runtime/*.h $(DESTDIR)$(PREFIX)/share/mrtc/runtime/

clean:
	rm -rf $(BUILD) mrtc

.PHONY: all test check-all demo bench install clean deps
