lib_LIB := $(BUILD)/lib/libsk_lib.a
$(lib_LIB): $(call obj,$(wildcard lib/*.c))
