index_LIB := $(BUILD)/index/libsk_index.a
$(index_LIB): $(call obj,$(wildcard index/*.c index/*.cc))
