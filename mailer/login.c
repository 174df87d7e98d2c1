/* mailer/login.c: the mail that carries a one-time login link (the web's
 * "Wyślij link"): plain Polish text, auto-generated, to one person. */
#include "mailer/sk_mailer.h"

#include <string.h>

enum sk_status
sk_mail_login_compose(void *ctx, struct sk_arena *a,
		      const struct sk_login_mail *lm, struct sk_composed *out,
		      struct sk_err *err)
{
	const struct sk_mail_settings *ms = ctx;
	struct sk_mail m = { 0 };
	const char *at, *mid;
	char *raw;
	size_t len;
	long minutes;
	enum sk_status rc;

	if (!ms || !ms->from || !*ms->from)
		return sk_err_set(err, SK_EINVAL,
				  "smtp.from is not configured");
	if (!lm->to_addr || !*lm->to_addr || !lm->url || !*lm->url)
		return sk_err_set(err, SK_EINVAL,
				  "a login mail needs an address and a link");
	minutes = (long)((lm->expires_at - lm->date + 59) / 60);
	if (minutes < 1)
		minutes = 1;
	at = strchr(ms->from, '@');
	m.from_name = ms->from_name ? ms->from_name : "Skarbnica";
	m.from_addr = ms->from;
	m.to_name = lm->to_name && *lm->to_name ? lm->to_name : NULL;
	m.to_addr = lm->to_addr;
	m.subject = "Link do logowania w Skarbnicy";
	m.message_id = sk_mail_message_id_new(
		a, ms->msgid_domain ? ms->msgid_domain : at ? at + 1 : NULL);
	m.date = lm->date;
	m.auto_generated = true;
	m.text = sk_arena_printf(
		a,
		"Dzień dobry,\n\n"
		"ktoś (zapewne Pani lub Pan) poprosił o link do logowania w "
		"Skarbnicy\n— archiwum dobrych praktyk partnerstwa — dla "
		"adresu %s.\n\n"
		"Aby się zalogować, otwórz ten link w przeglądarce:\n\n"
		"%s\n\n"
		"Link działa jeden raz i wygasa po %ld min.\n"
		"Jeśli to nie Ty prosiłeś/prosiłaś o link, zignoruj tę "
		"wiadomość:\nbez linku nikt się nie zaloguje.\n\n"
		"-- \nSkarbnica (wiadomość wysłana automatycznie)\n",
		lm->to_addr, lm->url, minutes);
	rc = sk_mail_compose(a, &m, &raw, &len, &mid, err);
	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	out->raw = raw;
	out->raw_len = len;
	out->message_id = mid;
	out->sender = ms->from;
	out->recipients = sk_arena_strdup(a, lm->to_addr);
	return SK_OK;
}
