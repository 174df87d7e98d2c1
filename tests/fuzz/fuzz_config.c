/* tests/fuzz/fuzz_config.c: sk_config_load() on a temporary file holding
 * the input. Every input gives SK_OK or SK_EINVAL (with "FILE:LINE: ..."
 * for bad lines); nothing leaks on either path. */
#include "fuzz_common.h"

#include <stdint.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void
remove_file(void)
{
	if (path[0])
		unlink(path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "/tmp/sk-fuzz-config.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		abort();
	}
	close(fd);
	atexit(remove_file);
	sk_log_set_level(SK_LOG_ERR);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sk_config c;
	struct sk_err err = { 0 };
	enum sk_status rc;
	FILE *f;

	if (size > 65536)
		return 0;
	f = fopen(path, "w");
	FUZZ_CHECK(f);
	FUZZ_CHECK(fwrite(data, 1, size, f) == size);
	FUZZ_CHECK(fclose(f) == 0);
	sk_config_init(&c);
	rc = sk_config_load(&c, path, &err);
	FUZZ_CHECK(rc == SK_OK || rc == SK_EINVAL);
	if (rc != SK_OK)
		FUZZ_CHECK(err.msg[0]);
	if (rc == SK_OK) {
		struct sk_limits l = sk_limits_effective(&c.limits);
		FUZZ_CHECK(l.message_bytes && l.parts && l.depth);
		for (size_t i = 0; i < c.n_partners; i++)
			FUZZ_CHECK(c.partners[i].slug);
	}
	sk_config_release(&c);
	sk_log_set_level(SK_LOG_ERR); /* log.level = debug would flood */
	return 0;
}
