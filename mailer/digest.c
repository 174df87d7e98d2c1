/* mailer/digest.c: topic digests — for each user subscribed for a period,
 * the practice records of their topics published in the period and the
 * threads active in it, as a mail with links and a one-click unsubscribe
 * link, queued once per user and period (the outbox's dedup key). Periods
 * are Warsaw calendar days and Monday-to-Sunday weeks. Nothing is sent
 * here: the outbox loop sends. The queries are in index/outbox.c. */
#include "mailer/sk_mailer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

void
sk_digest_window(enum sk_period p, time_t now, time_t *from_out,
		 time_t *to_out)
{
	struct tm tm;
	int y, m, d;

	/* Civil dates, not multiples of 86400 s: around the switches to and
	 * from summer time a day has 23 or 25 hours. */
	sk_warsaw_tm(now, &tm, NULL);
	y = tm.tm_year + 1900;
	m = tm.tm_mon + 1;
	d = tm.tm_mday;
	if (p == SK_PERIOD_WEEKLY) {
		d -= (tm.tm_wday + 6) % 7; /* back to Monday */
		*to_out = sk_warsaw_midnight(y, m, d);
		*from_out = sk_warsaw_midnight(y, m, d - 7);
	} else {
		*to_out = sk_warsaw_midnight(y, m, d);
		*from_out = sk_warsaw_midnight(y, m, d - 1);
	}
}

void
sk_digest_period_key(enum sk_period p, time_t now, char out[11])
{
	time_t from, to;
	struct tm tm;

	sk_digest_window(p, now, &from, &to);
	sk_warsaw_tm(from, &tm, NULL);
	if (strftime(out, 11, "%Y-%m-%d", &tm) == 0)
		SK_BUG("year out of range"); /* time_t past year 9999 */
}

/* ---- Polish words ------------------------------------------------------------ */

static const char *const months_gen[12] = {
	"stycznia", "lutego",	 "marca",    "kwietnia", "maja",      "czerwca",
	"lipca",    "sierpnia", "września", "października", "listopada",
	"grudnia",
};

/* 1 wątek, 2 wątki, 5 wątków; 12 wątków, 22 wątki. */
static const char *
plural(int64_t n, const char *one, const char *few, const char *many)
{
	int64_t d = n % 10, t = n % 100;
	if (n == 1)
		return one;
	if (d >= 2 && d <= 4 && (t < 12 || t > 14))
		return few;
	return many;
}

/* "3 czerwca 2024", or the range "3–9 czerwca 2024" / "27 maja – 2
 * czerwca 2024" / "30 grudnia 2024 – 5 stycznia 2025" for [from, to)
 * (Warsaw days). */
static char *
polish_span(struct sk_arena *a, time_t from, time_t to)
{
	struct tm f, l;
	sk_warsaw_tm(from, &f, NULL);
	sk_warsaw_tm(to - 1, &l, NULL);
	if (f.tm_year == l.tm_year && f.tm_yday == l.tm_yday)
		return sk_arena_printf(a, "%d %s %d", f.tm_mday,
				       months_gen[f.tm_mon], f.tm_year + 1900);
	if (f.tm_year != l.tm_year)
		return sk_arena_printf(a, "%d %s %d – %d %s %d", f.tm_mday,
				       months_gen[f.tm_mon], f.tm_year + 1900,
				       l.tm_mday, months_gen[l.tm_mon],
				       l.tm_year + 1900);
	if (f.tm_mon != l.tm_mon)
		return sk_arena_printf(a, "%d %s – %d %s %d", f.tm_mday,
				       months_gen[f.tm_mon], l.tm_mday,
				       months_gen[l.tm_mon], l.tm_year + 1900);
	return sk_arena_printf(a, "%d–%d %s %d", f.tm_mday, l.tm_mday,
			       months_gen[l.tm_mon], l.tm_year + 1900);
}

/* Markdown text that stays text: every ASCII punctuation character
 * backslash-escaped (CommonMark allows it for all of them). */
static void
add_md_text(struct sk_buf *b, const char *s)
{
	for (const char *p = s ? s : ""; *p; p++) {
		if (strchr("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", *p))
			sk_buf_addc(b, '\\');
		sk_buf_addc(b, *p == '\n' || *p == '\r' ? ' ' : *p);
	}
}

/* 32 random bytes, base64url without padding (43 characters). */
static char *
new_token(struct sk_arena *a)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
				 "qrstuvwxyz0123456789-_";
	unsigned char r[33] = { 0 };
	char *t = sk_arena_alloc(a, 45), *o = t;
	size_t got = 0;

	while (got < 32) {
		ssize_t k = getrandom(r + got, 32 - got, 0);
		if (k < 0)
			SK_BUG("getrandom failed");
		got += (size_t)k;
	}
	for (size_t i = 0; i < 33; i += 3) {
		uint32_t v = (uint32_t)r[i] << 16 | (uint32_t)r[i + 1] << 8 |
			     r[i + 2];
		*o++ = al[(v >> 18) & 63];
		*o++ = al[(v >> 12) & 63];
		*o++ = al[(v >> 6) & 63];
		*o++ = al[v & 63];
	}
	t[43] = '\0';
	return t;
}

/* ---- one digest ------------------------------------------------------------------ */

struct digest {
	const struct sk_mail_settings *ms;
	const char *base; /* base_url without a final / */
	enum sk_period p;
	time_t from, to, now;
};

/* "2 wątki i 1 nowa dobra praktyka", "3 nowe dobre praktyki". */
static char *
summary(struct sk_arena *a, size_t threads, size_t practices)
{
	const char *t = sk_arena_printf(
		a, "%zu %s", threads,
		plural((int64_t)threads, "wątek", "wątki", "wątków"));
	const char *p = sk_arena_printf(
		a, "%zu %s", practices,
		plural((int64_t)practices, "nowa dobra praktyka",
		       "nowe dobre praktyki", "nowych dobrych praktyk"));
	if (!practices)
		return sk_arena_strdup(a, t);
	if (!threads)
		return sk_arena_strdup(a, p);
	return sk_arena_printf(a, "%s i %s", t, p);
}

/* The records first: they are what the partnership has checked. Title,
 * municipality, topics and a link; never the contact person. */
static void
add_practices(struct sk_arena *a, const struct digest *d, struct sk_buf *text,
	      struct sk_buf *md, const struct sk_digest_practice *pr, size_t n)
{
	if (!n)
		return;
	sk_buf_adds(text, "\nNowe dobre praktyki\n");
	sk_buf_adds(md, "\n## Nowe dobre praktyki\n\n");
	for (size_t i = 0; i < n; i++) {
		const char *url = sk_arena_printf(a, "%s/praktyka/%lld", d->base,
						  (long long)pr[i].id);
		const char *who = pr[i].partner_name && *pr[i].partner_name
					  ? pr[i].partner_name
					  : NULL;
		const char *topics = pr[i].topics && *pr[i].topics
					     ? pr[i].topics
					     : NULL;

		sk_buf_addf(text, "  * %s", pr[i].title);
		if (who || topics)
			sk_buf_addf(text, " (%s%s%s%s)", who ? who : "",
				    who && topics ? "; " : "",
				    topics ? "tematy: " : "",
				    topics ? topics : "");
		sk_buf_addf(text, "\n    %s\n", url);
		sk_buf_adds(md, "- [");
		add_md_text(md, pr[i].title);
		sk_buf_addf(md, "](%s)", url);
		if (who || topics)
			sk_buf_adds(md, " — ");
		if (who)
			add_md_text(md, who);
		if (who && topics)
			sk_buf_adds(md, "; ");
		if (topics) {
			sk_buf_adds(md, "tematy: ");
			add_md_text(md, topics);
		}
		sk_buf_addc(md, '\n');
	}
}

static enum sk_status
compose_digest(struct sk_arena *a, const struct digest *d,
	       const struct sk_digest_user *u, const struct sk_digest_item *it,
	       size_t n, const struct sk_digest_practice *pr, size_t n_pr,
	       const char *token, char **raw_out, size_t *len_out,
	       const char **mid_out, struct sk_err *err)
{
	struct sk_mail m = { 0 };
	struct sk_buf text, md;
	const char *span = polish_span(a, d->from, d->to);
	const char *unsub = sk_arena_printf(a, "%s/wypisz?t=%s", d->base, token);
	const char *what = summary(a, n, n_pr);
	const char *topic = NULL;
	enum sk_status rc;

	sk_buf_init(&text, 8 << 20);
	sk_buf_init(&md, 8 << 20);
	if (u->name && *u->name) {
		sk_buf_addf(&text, "Dzień dobry, %s!\n\n", u->name);
		sk_buf_adds(&md, "Dzień dobry, ");
		add_md_text(&md, u->name);
		sk_buf_adds(&md, "!\n\n");
	} else {
		sk_buf_adds(&text, "Dzień dobry!\n\n");
		sk_buf_adds(&md, "Dzień dobry!\n\n");
	}
	sk_buf_addf(&text, "W obserwowanych przez Ciebie tematach: %s (%s).\n",
		    what, span);
	sk_buf_addf(&md, "W obserwowanych przez Ciebie tematach: %s (%s).\n",
		    what, span);
	/* The records, then the threads under their topics. */
	add_practices(a, d, &text, &md, pr, n_pr);
	for (size_t i = 0; i < n; i++) {
		const char *url = sk_arena_printf(a, "%s/watek/%lld", d->base,
						  (long long)it[i].thread_id);
		const char *count = sk_arena_printf(
			a, "%lld %s", (long long)it[i].messages,
			plural(it[i].messages, "wiadomość", "wiadomości",
			       "wiadomości"));
		if (!topic || strcmp(topic, it[i].topic_slug)) {
			topic = it[i].topic_slug;
			sk_buf_addf(&text, "\n%s\n", it[i].topic_name);
			sk_buf_adds(&md, "\n## ");
			add_md_text(&md, it[i].topic_name);
			sk_buf_adds(&md, "\n\n");
		}
		sk_buf_addf(&text, "  * %s%s (%s%s%s)\n    %s\n",
			    it[i].is_new ? "[nowy] " : "", it[i].subject,
			    it[i].partner_name ? it[i].partner_name : "",
			    it[i].partner_name ? ", " : "", count, url);
		sk_buf_addf(&md, "- %s[", it[i].is_new ? "**nowy:** " : "");
		add_md_text(&md, it[i].subject);
		sk_buf_addf(&md, "](%s) — ", url);
		if (it[i].partner_name) {
			add_md_text(&md, it[i].partner_name);
			sk_buf_adds(&md, ", ");
		}
		sk_buf_addf(&md, "%s\n", count);
	}
	sk_buf_addf(&text,
		    "\n-- \nTen przegląd wysyła Skarbnica, bo obserwujesz te "
		    "tematy.\nWypisz się z przeglądów %s: %s\n",
		    d->p == SK_PERIOD_DAILY ? "dziennych" : "tygodniowych",
		    unsub);
	sk_buf_addf(&md,
		    "\n---\n\nTen przegląd wysyła Skarbnica, bo obserwujesz te "
		    "tematy. [Wypisz się z przeglądów %s](%s).\n",
		    d->p == SK_PERIOD_DAILY ? "dziennych" : "tygodniowych",
		    unsub);
	if (sk_buf_status(&text) || sk_buf_status(&md)) {
		sk_buf_release(&text);
		sk_buf_release(&md);
		return sk_err_set(err, SK_ETOOBIG, "digest too big");
	}

	m.from_name = d->ms->from_name ? d->ms->from_name : "Skarbnica";
	m.from_addr = d->ms->from;
	m.to_name = u->name;
	m.to_addr = u->email;
	m.subject = d->p == SK_PERIOD_DAILY
			    ? sk_arena_printf(a, "Skarbnica: nowości z %s", span)
			    : sk_arena_printf(a,
					      "Skarbnica: przegląd tygodnia %s",
					      span);
	m.date = d->now;
	m.text = sk_arena_strndup(a, text.p, text.len);
	m.markdown = sk_arena_strndup(a, md.p, md.len);
	m.auto_generated = true;
	/* RFC 8058 wants https; over http the link is in the text only. */
	if (sk_istarts_with(d->base, "https://"))
		m.list_unsubscribe_url = unsub;
	if (d->ms->msgid_domain)
		m.message_id = sk_mail_message_id_new(a, d->ms->msgid_domain);
	sk_buf_release(&text);
	sk_buf_release(&md);
	rc = sk_mail_compose(a, &m, raw_out, len_out, mid_out, err);
	return rc;
}

enum sk_status
sk_digest_run(struct sk_index *ix, const struct sk_mail_settings *ms,
	      enum sk_period p, time_t now, struct sk_digest_counts *counts,
	      struct sk_err *err)
{
	struct sk_digest_counts local = { 0 };
	struct sk_arena *a;
	struct sk_digest_user *users;
	struct digest d = { .ms = ms, .p = p, .now = now };
	size_t n_users;
	enum sk_status rc;
	char day[11];

	if (!counts)
		counts = &local;
	memset(counts, 0, sizeof(*counts));
	if (!ms->from || !*ms->from)
		return sk_err_set(err, SK_EINVAL, "smtp.from is not configured");
	if (!ms->base_url || !*ms->base_url)
		return sk_err_set(err, SK_EINVAL,
				  "web.base_url is not configured (digests "
				  "link to the web)");
	sk_digest_window(p, now, &d.from, &d.to);
	sk_digest_period_key(p, now, day);

	a = sk_arena_new(0);
	d.base = sk_arena_strdup(a, ms->base_url);
	{
		size_t bl = strlen(d.base);
		while (bl && d.base[bl - 1] == '/')
			((char *)d.base)[--bl] = '\0';
	}
	rc = sk_index_digest_users(ix, a, p, &users, &n_users, err);
	counts->users = (int64_t)n_users;
	for (size_t i = 0; i < n_users && !rc; i++) {
		struct sk_arena *ua = sk_arena_new(0);
		struct sk_digest_item *items;
		struct sk_digest_practice *prs = NULL;
		struct sk_outbox_new q = { 0 };
		size_t n_items, n_prs = 0;
		char *raw;
		size_t len;
		const char *mid, *token;
		const char *key = sk_arena_printf(ua, "digest:%lld:%s:%s",
						  (long long)users[i].id,
						  sk_period_name(p), day);

		/* Cheap check first; the unique key below is the guarantee. */
		if (sk_index_outbox_has(ix, key)) {
			counts->already++;
			sk_arena_free(&ua);
			continue;
		}
		rc = sk_index_digest_items(ix, ua, users[i].id, p, d.from, d.to,
					   &items, &n_items, err);
		if (!rc)
			rc = sk_index_digest_practices(ix, ua, users[i].id, p,
						       d.from, d.to, &prs,
						       &n_prs, err);
		if (!rc && !n_items && !n_prs) {
			counts->empty++;
			sk_arena_free(&ua);
			continue;
		}
		token = new_token(ua);
		if (!rc)
			rc = compose_digest(ua, &d, &users[i], items, n_items,
					    prs, n_prs, token, &raw, &len, &mid,
					    err);
		if (rc == SK_EINVAL) {
			/* One bad address must not stop everybody's digest. */
			sk_log(SK_LOG_WARNING, "digest for '%s' skipped: %s",
			       users[i].email, err ? err->msg : "");
			rc = SK_OK;
			sk_arena_free(&ua);
			continue;
		}
		if (!rc) {
			q.kind = SK_OUTBOX_DIGEST;
			q.message_id = mid;
			q.dedup_key = key;
			q.sender = ms->from;
			q.recipients = users[i].email;
			q.raw = raw;
			q.raw_len = len;
			q.user_id = users[i].id;
			q.unsubscribe_token = token;
			q.period = p;
			rc = sk_index_outbox_queue(ix, &q, now, NULL, err);
			if (rc == SK_EEXIST) {
				counts->already++;
				rc = SK_OK;
			} else if (!rc) {
				counts->queued++;
			}
		}
		sk_arena_free(&ua);
	}
	sk_arena_free(&a);
	return rc;
}
