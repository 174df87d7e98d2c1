ingest_LIB := $(BUILD)/ingest/libsk_ingest.a
$(ingest_LIB): $(call obj,$(wildcard ingest/*.c))
