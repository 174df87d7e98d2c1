# bench/: the side-by-side benchmark (bench/README.md). `make bench` runs
# bench/run.sh; the in-process driver links the module archives.
BENCH_BINS := $(BUILD)/bench/inproc
$(BUILD)/bench/inproc: $(BUILD)/bench/inproc.o $(MODULE_LIBS)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LIBS)

bench: skarbnica $(BENCH_BINS)
	SKARBNICA=$(CURDIR)/skarbnica INPROC=$(CURDIR)/$(BUILD)/bench/inproc \
	bash bench/run.sh

# `make soak`: bench/soak.sh, the server under wrk for SOAK_SECONDS (300)
# while ingest feeds the same store; fails on an error answer or a
# growing heap.
.PHONY: soak
soak: $(BUILD)/skarbnica
	SKARBNICA_BIN=$(CURDIR)/$(BUILD)/skarbnica sh bench/soak.sh
