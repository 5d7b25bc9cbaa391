/*
 * common.c - errors, byte buffers, arenas and did-you-mean suggestions:
 * the small pieces every other module leans on.
 */
#include "strata/common.h"
#include "arena_keys.h"
#include "arena_spare.h"
#include "pages.h"
#include "poison.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void strata_error_clear(strata_error *err)
{
	if (!err)
		return;
	err->code = 0;
	err->line = err->col = 0;
	err->file[0] = '\0';
	err->msg[0] = '\0';
	err->rule = NULL;
}

int strata_error_vset_rule(strata_error *err, const char *rule, int code,
			   const char *file, int line, int col, const char *fmt,
			   va_list ap)
{
	if (!err || err->code != 0)
		return code;
	err->code = code;
	err->rule = rule;
	err->line = line;
	err->col = col;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	/* One line, always: newlines in a message would break the format. */
	for (char *p = err->msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return code;
}

int strata_error_vset(strata_error *err, int code, const char *file, int line,
		      int col, const char *fmt, va_list ap)
{
	return strata_error_vset_rule(err, NULL, code, file, line, col, fmt, ap);
}

int strata_error_set(strata_error *err, int code, const char *file, int line,
		     int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = strata_error_vset_rule(err, NULL, code, file, line, col, fmt, ap);
	va_end(ap);
	return code;
}

int strata_error_set_rule(strata_error *err, const char *rule, int code,
			  const char *file, int line, int col, const char *fmt,
			  ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = strata_error_vset_rule(err, rule, code, file, line, col, fmt, ap);
	va_end(ap);
	return code;
}

void strata_error_format(const strata_error *err, char *buf, size_t size)
{
	if (!size)
		return;
	if (!err->file[0])
		snprintf(buf, size, "%s", err->msg);
	else if (err->line > 0)
		snprintf(buf, size, "%s:%d:%d: %s", err->file, err->line,
			 err->col > 0 ? err->col : 1, err->msg);
	else
		snprintf(buf, size, "%s: %s", err->file, err->msg);
}

/* ---- buffers ---- */

/* The text of b (over the caller's memory) in cap malloc'ed bytes. */
static char *buf_copy_out(const strata_buf *b, size_t cap)
{
	char *p = malloc(cap);

	if (p) {
		memcpy(p, b->ptr, b->len);
		p[b->len] = '\0';
	}
	return p;
}

int strata_buf_grow(strata_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX - b->len - 1)
		return STRATA_ENOMEM;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	/* the caller's memory stays the caller's: move out of it */
	p = b->foreign ? buf_copy_out(b, cap) : realloc(b->ptr, cap);
	if (!p)
		return STRATA_ENOMEM;
	b->foreign = 0;
	b->ptr = p;
	b->cap = cap;
	return 0;
}

void strata_buf_over(strata_buf *b, char *mem, size_t size)
{
	b->ptr = mem;
	b->len = 0;
	b->cap = size;
	b->foreign = 1;
	mem[0] = '\0';
}

int strata_buf_put(strata_buf *b, const char *data, size_t len)
{
	if (strata_buf_grow(b, len) < 0)
		return STRATA_ENOMEM;
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int strata_buf_puts(strata_buf *b, const char *s)
{
	return strata_buf_put(b, s, strlen(s));
}

int strata_buf_putc(strata_buf *b, char c)
{
	if (b->len + 1 < b->cap) {
		b->ptr[b->len++] = c;
		b->ptr[b->len] = '\0';
		return 0;
	}
	return strata_buf_put(b, &c, 1);
}

int strata_buf_printf(strata_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || strata_buf_grow(b, (size_t)n) < 0)
		return STRATA_ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

char *strata_buf_detach(strata_buf *b, size_t *len)
{
	char *p = b->ptr;

	if (b->foreign) {
		p = buf_copy_out(b, b->len + 1);
		b->foreign = 0;
	} else if (!p) {
		p = calloc(1, 1);
	}
	if (len)
		*len = b->len;
	b->ptr = NULL;
	b->len = b->cap = 0;
	return p;
}

void strata_buf_free(strata_buf *b)
{
	if (!b)
		return;
	if (!b->foreign)
		free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
	b->foreign = 0;
}

/* ---- arena ---- */

/*
 * Chunks grow geometrically up to one huge page (pages.h) so a small
 * render stays small and a big one does few allocations.  Requests larger
 * than a quarter chunk get a chunk of their own, so growing arrays do not
 * waste whole chunks.  Sizes here are a chunk's whole bytes, header
 * included: powers of two pack a page exactly.
 */
#define ARENA_MIN_CHUNK ((size_t)32 * 1024) /* pages.c's smallest block */
#define ARENA_MAX_CHUNK STRATA_PAGE_SIZE

struct arena_chunk {
	struct arena_chunk *next;
	size_t size, used;      /* data bytes */
	bool paged;             /* from strata_pages_alloc, else malloc */
	_Alignas(16) unsigned char data[];
};

/* the data bytes of a full-size chunk: the ones a spare store keeps */
#define ARENA_FULL_DATA (ARENA_MAX_CHUNK - sizeof(struct arena_chunk))

/*
 * The unused end of a full-size chunk from the huge pages back to the
 * kernel, when it is worth a system call: a huge page is resident as a
 * whole once touched (malloc's chunks are only resident where touched:
 * nothing to do).  Called where the chunk will not fill again, or not
 * soon: touching its end again would fault it in 4 KiB pages.  Only
 * full-size: smaller chunks share a page with others, which the split
 * would turn to small pages too (400 resources: 16.3 ms instead of 15.0
 * when every chunk was trimmed), and they are small arenas' few MB.
 */
#define TRIM_MIN ((size_t)64 * 1024)

static void chunk_trim(struct arena_chunk *c)
{
	if (c->paged && c->size == ARENA_FULL_DATA && c->size - c->used >= TRIM_MIN)
		strata_pages_discard(c->data + c->used, c->size - c->used);
}

static void chunk_free(struct arena_chunk *c)
{
	if (c->paged)
		strata_pages_free(c, sizeof(*c) + c->size);
	else
		free(c);
}

struct strata_arena {
	struct arena_chunk *head;
	size_t next_size;
	size_t used;
	void *keytab; /* doc.c's shared keys: one malloc'ed block */
	strata_spare *spare; /* chunks come from and go back to it */
	bool cow;     /* copy shared nodes before editing them (doc.h) */
};

void strata_arena_set_cow(strata_arena *a, bool on)
{
	a->cow = on;
}

bool strata_arena_cow(const strata_arena *a)
{
	return a->cow;
}

void **strata_arena_keytab(strata_arena *a)
{
	return &a->keytab;
}

strata_arena *strata_arena_new(void)
{
	strata_arena *a = calloc(1, sizeof(*a));

	if (a)
		a->next_size = ARENA_MIN_CHUNK;
	return a;
}

void strata_arena_use_spare(strata_arena *a, strata_spare *s)
{
	a->spare = s;
}

strata_arena *strata_arena_new_like(const strata_arena *a)
{
	strata_arena *b = strata_arena_new();

	if (b) {
		b->cow = a->cow;
		b->spare = a->spare;
	}
	return b;
}

static void spare_lock(strata_spare *s)
{
	/* held for a few pointer moves: spin, yielding if the holder is
	 * preempted (more threads than CPUs) */
	for (unsigned i = 1; atomic_exchange_explicit(&s->lock, true, memory_order_acquire); i++)
		if (!(i & 63))
			sched_yield();
}

static void spare_unlock(strata_spare *s)
{
	atomic_store_explicit(&s->lock, false, memory_order_release);
}

void strata_spare_close(strata_spare *s)
{
	struct arena_chunk *c, *next;

	spare_lock(s);
	c = s->head;
	s->head = NULL;
	s->n = 0;
	s->closed = true;
	spare_unlock(s);
	for (; c; c = next) {
		UNPOISON(c, sizeof(*c));
		UNPOISON(c, sizeof(*c) + c->size);
		next = c->next;
		chunk_free(c);
	}
}

void strata_arena_free(strata_arena *a)
{
	struct arena_chunk *c, *next;
	strata_spare *s;

	if (!a)
		return;
	s = a->spare;
	if (s) {
		/*
		 * The full-size chunks to the store, spliced in under the lock
		 * (poisoned before, while no other thread can see them); the
		 * rest, or all when the store is closed, freed unlocked.
		 */
		struct arena_chunk *keep = NULL, *last = NULL, *rest = NULL;
		size_t n = 0;
		for (c = a->head; c; c = next) {
			next = c->next;
			if (c->size == ARENA_FULL_DATA) {
				c->next = keep;
				keep = c;
				if (!last)
					last = c;
				n++;
			} else {
				c->next = rest;
				rest = c;
			}
		}
		if (keep) {
			bool kept = false;
			for (c = keep; c; c = next) {
				next = c->next;
				POISON(c, sizeof(*c) + c->size);
			}
			spare_lock(s);
			if (!s->closed) {
				UNPOISON(last, sizeof(*last));
				last->next = s->head;
				POISON(last, sizeof(*last));
				s->head = keep;
				s->n += n;
				kept = true;
			}
			spare_unlock(s);
			if (!kept) {
				for (c = keep; c; c = next) {
					UNPOISON(c, sizeof(*c)); /* then c->size reads */
					UNPOISON(c, sizeof(*c) + c->size);
					next = c->next;
					c->next = rest;
					rest = c;
				}
			}
		}
		a->head = rest;
	}
	for (c = a->head; c; c = next) {
		next = c->next;
		chunk_free(c);
	}
	free(a->keytab);
	free(a);
}

/*
 * A chunk of size bytes in all, header included (a multiple of 64): a
 * spare one when the arena has a store that holds one, the caller fills
 * it (spare) and the arena has grown to full-size chunks, else a new one.  A small arena grows from small
 * chunks as without a store: an overlay layer of a few patches, cached
 * for the repo's life, would otherwise pin a full-size chunk.
 */
static struct arena_chunk *arena_chunk_new(strata_arena *a, size_t size, bool spare)
{
	strata_spare *s = a->spare;
	struct arena_chunk *c;
	size_t blk;

	if (spare && size == ARENA_MAX_CHUNK && s) {
		spare_lock(s);
		c = s->head;
		if (c) {
			UNPOISON(c, ARENA_MAX_CHUNK);
			s->head = c->next;
			s->n--;
		}
		spare_unlock(s);
		if (c) {
			c->used = 0;
			c->next = NULL;
			return c;
		}
	}
	/*
	 * From the huge pages, the first chunk too: from malloc (16 KiB),
	 * the first chunks of a 100-app render's dozen arenas faulted in 19
	 * pages of fresh heap, at 10-14 us each, where the pages' blocks
	 * were already resident (faults 139 -> 120, 11.09 -> 10.85 ms over
	 * 600 alternating runs).  diff's per-pair scratch arenas (40,000 at
	 * 10,000 apps) take the same block back each time: pages.c hands a
	 * freed block out first.  Not an odd-sized chunk (a big request's)
	 * that would leave more than a quarter of its buddy block unused.
	 */
	blk = size >= ARENA_MIN_CHUNK ? strata_pages_block(size) : 0;
	c = blk && blk - size <= size / 4 ? strata_pages_alloc(size) : NULL;
	if (c) {
		c->paged = true;
	} else {
		c = malloc(size);
		if (!c)
			return NULL;
		c->paged = false;
	}
	c->size = size - sizeof(*c);
	c->used = 0;
	c->next = NULL;
	return c;
}

void *strata_arena_alloc(strata_arena *a, size_t size)
{
	struct arena_chunk *c = a->head;
	size_t rounded;
	void *p;

	/* 8-byte units: pointers and 64-bit integers are all the model holds */
	if (size > SIZE_MAX - 7)
		return NULL;
	rounded = (size + 7) & ~(size_t)7;
	if (!rounded)
		rounded = 8;
	if (!c || c->size - c->used < rounded) {
		if (rounded > a->next_size / 4) {
			/* big: own chunk, linked behind the current one */
			struct arena_chunk *big;
			if (rounded > SIZE_MAX - sizeof(*big) - 63)
				return NULL;
			big = arena_chunk_new(a, (sizeof(*big) + rounded + 63) & ~(size_t)63, false);
			if (!big)
				return NULL;
			big->used = rounded;
			if (c) {
				big->next = c->next;
				c->next = big;
			} else {
				a->head = big;
			}
			a->used += rounded;
			memset(big->data, 0, rounded);
			return big->data;
		}
		c = arena_chunk_new(a, a->next_size, true);
		if (!c)
			return NULL;
		if (a->head)
			chunk_trim(a->head); /* it will not fill again */
		c->next = a->head;
		a->head = c;
		if (a->next_size < ARENA_MAX_CHUNK)
			a->next_size *= 2;
	}
	p = c->data + c->used;
	c->used += rounded;
	a->used += rounded;
	memset(p, 0, rounded);
	return p;
}

char *strata_arena_strndup(strata_arena *a, const char *s, size_t len)
{
	char *p;

	if (len == SIZE_MAX)
		return NULL;
	p = strata_arena_alloc(a, len + 1);
	if (!p)
		return NULL;
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *strata_arena_strdup(strata_arena *a, const char *s)
{
	return strata_arena_strndup(a, s, strlen(s));
}

char *strata_arena_printf(strata_arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	p = strata_arena_alloc(a, (size_t)n + 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void strata_arena_adopt(strata_arena *a, strata_arena *from)
{
	struct arena_chunk *last;

	if (!from)
		return;
	if (from->head) {
		/* behind a's current chunk, which stays the one that fills */
		for (last = from->head; ; last = last->next) {
			chunk_trim(last);
			if (!last->next)
				break;
		}
		if (a->head) {
			last->next = a->head->next;
			a->head->next = from->head;
		} else {
			a->head = from->head;
		}
	}
	a->used += from->used;
	free(from->keytab);
	free(from);
}

void strata_arena_trim(strata_arena *a)
{
	if (!a)
		return;
	if (a->head)
		chunk_trim(a->head);
	/* what comes later (a repo's arena takes a little per environment)
	 * grows from small chunks again, not from a fresh 2 MiB page */
	a->next_size = ARENA_MIN_CHUNK;
}

void strata_arena_expect_big(strata_arena *a)
{
	if (a)
		a->next_size = ARENA_MAX_CHUNK;
}

size_t strata_arena_used(const strata_arena *a)
{
	return a ? a->used : 0;
}

/* ---- suggestions ---- */

/* Levenshtein distance, capped: words here are short identifiers. */
static size_t edit_distance(const char *s, const char *t)
{
	size_t ls = strlen(s), lt = strlen(t), i, j;
	size_t row[128];

	if (ls >= 127 || lt >= 127)
		return SIZE_MAX;
	for (j = 0; j <= lt; j++)
		row[j] = j;
	for (i = 1; i <= ls; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (j = 1; j <= lt; j++) {
			size_t cur = row[j];
			size_t best = prev + (s[i - 1] != t[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lt];
}

const char *strata_suggest(const char *word, const char *const *candidates,
			   size_t n)
{
	size_t best = SIZE_MAX, limit = strlen(word) / 3;
	const char *pick = NULL;

	if (limit < 2)
		limit = 2;
	for (size_t i = 0; i < n; i++) {
		size_t d;
		if (!candidates[i])
			continue;
		d = edit_distance(word, candidates[i]);
		if (d < best) {
			best = d;
			pick = candidates[i];
		}
	}
	return best <= limit ? pick : NULL;
}

int strata_tmpfile(const char *dir, const char *name)
{
	char *path;
	int fd = -1, e = EOPNOTSUPP;

#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	e = errno;
#endif
	/* only where O_TMPFILE is missing: a name, unlinked at once */
	if (e != EOPNOTSUPP && e != EISDIR && e != EINVAL) {
		errno = e;
		return -1;
	}
	path = malloc(strlen(dir) + strlen(name) + sizeof("/-XXXXXX"));
	if (!path) {
		errno = ENOMEM;
		return -1;
	}
	sprintf(path, "%s/%s-XXXXXX", dir, name);
	fd = mkostemp(path, O_CLOEXEC);
	e = errno;
	if (fd >= 0 && unlink(path) < 0) {
		e = errno;
		close(fd);
		fd = -1;
	}
	free(path);
	errno = e;
	return fd;
}

int strata_write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int strata_pread_all(int fd, char *p, size_t len, uint64_t off)
{
	while (len) {
		ssize_t r = pread(fd, p, len, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			return -1;
		}
		p += r;
		len -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}
