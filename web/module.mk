web_LIB := $(BUILD)/web/libsk_web.a
$(web_LIB): $(call obj,$(wildcard web/*.c))
