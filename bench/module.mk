# bench/: the side-by-side benchmark (bench/README.md). `make bench` runs
# bench/run.sh; the in-process driver links the module archives.
BENCH_BINS := $(BUILD)/bench/inproc
$(BUILD)/bench/inproc: $(BUILD)/bench/inproc.o $(MODULE_LIBS)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LIBS)

bench: skarbnica $(BENCH_BINS)
	SKARBNICA=$(CURDIR)/skarbnica INPROC=$(CURDIR)/$(BUILD)/bench/inproc \
	bash bench/run.sh
