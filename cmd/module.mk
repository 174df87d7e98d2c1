# The skarbnica command; the only code that may use every module. The demo
# corpus is linked in (demo.S) so `skarbnica demo` needs no data files.
cmd_OBJS := $(call obj,$(wildcard cmd/*.c)) $(BUILD)/cmd/demo_data.o
$(BUILD)/cmd/demo_data.o: cmd/demo_data.S $(wildcard demo/*.mbox) demo/skarbnica.conf demo/curation.txt
$(BUILD)/skarbnica: $(cmd_OBJS) $(MODULE_LIBS)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LIBS)
BINS += $(BUILD)/skarbnica
