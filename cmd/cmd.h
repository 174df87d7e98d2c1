/* cmd/cmd.h: shared by the files of the skarbnica command (cmd/ only). */
#ifndef SK_CMD_H
#define SK_CMD_H

#include "lib/sk_base.h"
#include "index/sk_index.h"
#include "ingest/sk_ingest.h"
#include "web/sk_web.h"

#define SK_VERSION "0.1.0"

enum {
	CMD_OK = 0,
	CMD_FAIL = 1,
	CMD_USAGE = 2,
	CMD_DATAERR = 65,  /* sysexits EX_DATAERR: the MTA bounces */
	CMD_TEMPFAIL = 75, /* sysexits EX_TEMPFAIL: the MTA retries */
};

struct cmd_ctx {
	const char *data_dir;
	bool data_dir_given; /* -d or $SKARBNICA_DATA */
	const char *config_path;
	struct sk_config cfg;
};

void cmd_fail(const char *fmt, ...) SK_PRINTF(1, 2);
int cmd_usage(const char *text, bool error);
bool cmd_wants_help(int argc, char **argv);
enum sk_status cmd_load_config(struct cmd_ctx *c, struct sk_err *err);
enum sk_status cmd_open_store(struct cmd_ctx *c, unsigned extra_flags,
			      bool create, struct sk_index **ix_out,
			      struct sk_err *err);

int cmd_ingest(struct cmd_ctx *c, int argc, char **argv);
int cmd_search(struct cmd_ctx *c, int argc, char **argv);
int cmd_stats(struct cmd_ctx *c, int argc, char **argv);
int cmd_serve(struct cmd_ctx *c, int argc, char **argv);
int cmd_user(struct cmd_ctx *c, int argc, char **argv);
int cmd_reindex(struct cmd_ctx *c, int argc, char **argv);
int cmd_demo(struct cmd_ctx *c, int argc, char **argv);
int cmd_topics(struct cmd_ctx *c, int argc, char **argv);
int cmd_backup(struct cmd_ctx *c, int argc, char **argv);
int cmd_forget(struct cmd_ctx *c, int argc, char **argv);
int cmd_export_person(struct cmd_ctx *c, int argc, char **argv);
int cmd_purge(struct cmd_ctx *c, int argc, char **argv);
int cmd_check(struct cmd_ctx *c, int argc, char **argv);
int cmd_note(struct cmd_ctx *c, int argc, char **argv);
int cmd_mailer(struct cmd_ctx *c, int argc, char **argv);
int cmd_digest(struct cmd_ctx *c, int argc, char **argv);

#endif
