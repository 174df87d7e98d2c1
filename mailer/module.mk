mailer_LIB := $(BUILD)/mailer/libsk_mailer.a
$(mailer_LIB): $(call obj,$(wildcard mailer/*.c))
