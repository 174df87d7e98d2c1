/* lib/arena.c: a bump allocator for request-shaped work. Under
 * SK_ARENA_DEBUG (the sanitizer build) every allocation is its own malloc
 * so that ASan sees overflows inside the arena. */
#include "lib/sk_base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct block {
	struct block *next;
	size_t size, used;
	max_align_t data[];
};

struct sk_arena {
	struct block *head;
	size_t block_size;
	size_t total;
};

#define ALIGN (sizeof(max_align_t))

struct sk_arena *
sk_arena_new(size_t block)
{
	struct sk_arena *a = sk_xcalloc(1, sizeof(*a));
	a->block_size = block ? block : 8192;
	return a;
}

void
sk_arena_free(struct sk_arena **ap)
{
	struct sk_arena *a = *ap;
	if (!a)
		return;
	for (struct block *b = a->head, *next; b; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
	*ap = NULL;
}

void *
sk_arena_alloc(struct sk_arena *a, size_t n)
{
	struct block *b = a->head;
	size_t need = (n + ALIGN - 1) / ALIGN * ALIGN;

	if (need < n)
		SK_BUG("arena allocation of %zu bytes overflows", n);
	a->total += n;
#ifdef SK_ARENA_DEBUG
	(void)need;
	b = sk_xcalloc(1, sizeof(*b) + (n ? n : 1));
	b->size = b->used = n;
	b->next = a->head;
	a->head = b;
	return b->data;
#else
	if (!b || b->size - b->used < need) {
		size_t size = need > a->block_size / 4 ? need : a->block_size;
		struct block *nb = sk_xmalloc(sizeof(*nb) + size);
		nb->size = size;
		nb->used = 0;
		if (size == need && b) {
			/* A big allocation: keep filling the current block. */
			nb->next = b->next;
			b->next = nb;
		} else {
			nb->next = b;
			a->head = nb;
		}
		b = nb;
	}
	{
		void *p = (char *)b->data + b->used;
		b->used += need;
		memset(p, 0, n);
		return p;
	}
#endif
}

size_t
sk_arena_used(const struct sk_arena *a)
{
	return a->total;
}

char *
sk_arena_strndup(struct sk_arena *a, const char *s, size_t n)
{
	char *p = sk_arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
sk_arena_strdup(struct sk_arena *a, const char *s)
{
	return s ? sk_arena_strndup(a, s, strlen(s)) : NULL;
}

void *
sk_arena_memdup(struct sk_arena *a, const void *p, size_t n)
{
	void *q = sk_arena_alloc(a, n ? n : 1);
	if (n)
		memcpy(q, p, n);
	return q;
}

char *
sk_arena_printf(struct sk_arena *a, const char *fmt, ...)
{
	va_list ap, ap2;
	int n;
	char *p;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		SK_BUG("bad format '%s'", fmt);
	p = sk_arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return p;
}
