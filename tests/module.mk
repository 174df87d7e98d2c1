TESTS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
TEST_HELPERS := $(call obj,$(wildcard tests/helpers/*.c))
$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(TEST_HELPERS) $(MODULE_LIBS)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LIBS_cmocka) $(LIBS)
