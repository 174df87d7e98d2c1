TESTS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
# An archive, so a test links only the helpers it uses: the web helpers pull
# in web/ and index/, which the ingest tests replace with fakes.
TEST_HELPERS := $(BUILD)/tests/libsk_test.a
$(TEST_HELPERS): $(call obj,$(wildcard tests/helpers/*.c))
$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(TEST_HELPERS) $(MODULE_LIBS)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LIBS_cmocka) $(LIBS)
