/* web/state.c: what all requests share — request counters and latency
 * histograms for /metrics, and the login throttle. Counters are atomics;
 * the throttle table takes a mutex (logins are rare). */
#include "web/private.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* One label per route name web/ sets (tests/lint.sh checks that none is
 * missing); "other" last: what no route claimed. */
static const char *const route_labels[] = {
	"start",          "search",          "topic",
	"partner",        "thread",          "thread_mbox",
	"thread_similar", "message",         "message_raw",
	"attachment",     "meetings",        "practices",
	"practice",       "onboarding",      "glossary",
	"quarters",       "quarter",         "feed_topic",
	"feed_search",    "feed_practices",  "api_search",
	"api_topics",     "api_thread",      "api_practices",
	"api_practice",   "login",           "login_link_request",
	"login_link",     "logout",          "account",
	"unsubscribe",    "note_new",        "note_requeue",
	"curate_thread",  "curate_held",     "curate_audit",
	"curate_undo",    "curate_topics",   "practice_new",
	"practice_edit",  "practice_status", "healthz",
	"metrics",        "static",          "not_found",
	"other",
};
#define N_ROUTES SK_ARRAY_SIZE(route_labels)

static const int status_codes[] = { 200, 301, 303, 304, 400, 403, 404,
	                            405, 413, 415, 429, 500, 503, 0 };
#define N_STATUS SK_ARRAY_SIZE(status_codes) /* the last: any other */

static const double buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
	                          0.5,   1,    2.5,   5,    10 };
#define N_BUCKETS SK_ARRAY_SIZE(buckets)

#define THROTTLE_SLOTS 512

struct throttle_slot {
	uint64_t key; /* FNV-1a of the key string; 0 = free */
	time_t window_start;
	unsigned fails;
};

struct sk_web_state {
	atomic_uint_fast64_t requests[N_ROUTES][N_STATUS];
	atomic_uint_fast64_t hist[N_ROUTES][N_BUCKETS + 1]; /* not cumulative */
	atomic_uint_fast64_t micros[N_ROUTES];              /* sum of latency */
	atomic_int verifying;
	pthread_mutex_t lock;
	struct throttle_slot slots[THROTTLE_SLOTS];
};

struct sk_web_state *
sk_web_state_new(void)
{
	struct sk_web_state *st = sk_xcalloc(1, sizeof(*st));
	pthread_mutex_init(&st->lock, NULL);
	return st;
}

void
sk_web_state_free(struct sk_web_state **stp)
{
	if (!*stp)
		return;
	pthread_mutex_destroy(&(*stp)->lock);
	free(*stp);
	*stp = NULL;
}

static size_t
route_index(const char *route)
{
	for (size_t i = 0; i < N_ROUTES; i++)
		if (route && strcmp(route, route_labels[i]) == 0)
			return i;
	return N_ROUTES - 1;
}

void
sk_web_state_record(struct sk_web_state *st, const char *route, int status,
                    double seconds)
{
	size_t r, s, bkt;

	if (!st)
		return;
	r = route_index(route);
	for (s = 0; s < N_STATUS - 1; s++)
		if (status_codes[s] == status)
			break;
	for (bkt = 0; bkt < N_BUCKETS; bkt++)
		if (seconds <= buckets[bkt])
			break;
	if (seconds < 0)
		seconds = 0;
	atomic_fetch_add(&st->requests[r][s], 1);
	atomic_fetch_add(&st->hist[r][bkt], 1);
	atomic_fetch_add(&st->micros[r], (uint_fast64_t)(seconds * 1e6));
}

void
sk_web_metrics_requests(struct sk_web_state *st, struct sk_buf *b)
{
	sk_buf_adds(b, "# HELP skarbnica_http_requests_total HTTP requests "
	               "answered, by route and status.\n"
	               "# TYPE skarbnica_http_requests_total counter\n");
	if (!st)
		return;
	for (size_t r = 0; r < N_ROUTES; r++) {
		for (size_t s = 0; s < N_STATUS; s++) {
			uint64_t v = atomic_load(&st->requests[r][s]);
			if (!v)
				continue;
			if (status_codes[s])
				sk_buf_addf(
				    b,
				    "skarbnica_http_requests_total{"
				    "route=\"%s\",status=\"%d\"} %llu\n",
				    route_labels[r], status_codes[s],
				    (unsigned long long)v);
			else
				sk_buf_addf(b,
				            "skarbnica_http_requests_total{"
				            "route=\"%s\",status=\"other\"} "
				            "%llu\n",
				            route_labels[r],
				            (unsigned long long)v);
		}
	}
	sk_buf_adds(b, "# HELP skarbnica_http_request_duration_seconds Time "
	               "from the request line to the end of the response.\n"
	               "# TYPE skarbnica_http_request_duration_seconds "
	               "histogram\n");
	for (size_t r = 0; r < N_ROUTES; r++) {
		uint64_t cum = 0, total = 0;
		for (size_t k = 0; k <= N_BUCKETS; k++)
			total += atomic_load(&st->hist[r][k]);
		if (!total)
			continue;
		for (size_t k = 0; k < N_BUCKETS; k++) {
			cum += atomic_load(&st->hist[r][k]);
			sk_buf_addf(b,
			            "skarbnica_http_request_duration_seconds_"
			            "bucket{route=\"%s\",le=\"%g\"} %llu\n",
			            route_labels[r], buckets[k],
			            (unsigned long long)cum);
		}
		sk_buf_addf(b,
		            "skarbnica_http_request_duration_seconds_bucket{"
		            "route=\"%s\",le=\"+Inf\"} %llu\n"
		            "skarbnica_http_request_duration_seconds_sum{"
		            "route=\"%s\"} %.6f\n"
		            "skarbnica_http_request_duration_seconds_count{"
		            "route=\"%s\"} %llu\n",
		            route_labels[r], (unsigned long long)total,
		            route_labels[r],
		            (double)atomic_load(&st->micros[r]) / 1e6,
		            route_labels[r], (unsigned long long)total);
	}
}

/* ---- login throttle ------------------------------------------------------ */

static uint64_t
key_hash(const char *key)
{
	uint64_t h = 1469598103934665603ull;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		h ^= *p;
		h *= 1099511628211ull;
	}
	return h ? h : 1;
}

/* The slot for key: its own, else a free or stale one, else the oldest.
 * Called with the lock held. */
static struct throttle_slot *
slot_for(struct sk_web_state *st, uint64_t h, time_t now, bool create)
{
	struct throttle_slot *oldest = NULL;
	size_t start = (size_t)(h % THROTTLE_SLOTS);

	for (size_t i = 0; i < 16; i++) {
		struct throttle_slot *s =
		    &st->slots[(start + i) % THROTTLE_SLOTS];
		if (s->key == h)
			return s;
	}
	if (!create)
		return NULL;
	for (size_t i = 0; i < 16; i++) {
		struct throttle_slot *s =
		    &st->slots[(start + i) % THROTTLE_SLOTS];
		if (!s->key || now - s->window_start >= SK_WEB_LOGIN_WINDOW) {
			memset(s, 0, sizeof(*s));
			return s;
		}
		if (!oldest || s->window_start < oldest->window_start)
			oldest = s;
	}
	memset(oldest, 0, sizeof(*oldest));
	return oldest;
}

bool
sk_web_throttled(struct sk_web_state *st, const char *key, time_t now)
{
	bool out = false;
	uint64_t h;

	if (!st || !key)
		return false;
	h = key_hash(key);
	pthread_mutex_lock(&st->lock);
	struct throttle_slot *s = slot_for(st, h, now, false);
	if (s && now - s->window_start < SK_WEB_LOGIN_WINDOW &&
	    s->fails >= SK_WEB_LOGIN_FAILS)
		out = true;
	pthread_mutex_unlock(&st->lock);
	return out;
}

void
sk_web_throttle_fail(struct sk_web_state *st, const char *key, time_t now)
{
	uint64_t h;

	if (!st || !key)
		return;
	h = key_hash(key);
	pthread_mutex_lock(&st->lock);
	struct throttle_slot *s = slot_for(st, h, now, true);
	if (s->key != h || now - s->window_start >= SK_WEB_LOGIN_WINDOW) {
		s->key = h;
		s->window_start = now;
		s->fails = 0;
	}
	s->fails++;
	pthread_mutex_unlock(&st->lock);
}

void
sk_web_throttle_reset(struct sk_web_state *st, const char *key)
{
	if (!st || !key)
		return;
	uint64_t h = key_hash(key);
	pthread_mutex_lock(&st->lock);
	struct throttle_slot *s = slot_for(st, h, 0, false);
	if (s)
		memset(s, 0, sizeof(*s));
	pthread_mutex_unlock(&st->lock);
}

bool
sk_web_verify_begin(struct sk_web_state *st)
{
	if (!st)
		return true;
	if (atomic_fetch_add(&st->verifying, 1) >= SK_WEB_LOGIN_CONCURRENT) {
		atomic_fetch_sub(&st->verifying, 1);
		return false;
	}
	return true;
}

void
sk_web_verify_end(struct sk_web_state *st)
{
	if (st)
		atomic_fetch_sub(&st->verifying, 1);
}
