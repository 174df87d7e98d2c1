schema_LIB := $(BUILD)/schema/libsk_schema.a
schema_GEN := $(BUILD)/schema/migrations.c
$(schema_GEN): schema/gen-migrations.sh $(wildcard schema/migrations/*.sql) schema/taxonomy.txt
	@mkdir -p $(@D)
	sh schema/gen-migrations.sh $@
$(BUILD)/schema/migrations.o: $(schema_GEN)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@
$(schema_LIB): $(call obj,$(wildcard schema/*.c)) $(BUILD)/schema/migrations.o
