/*
 * common.h - the pieces every strata module shares: error codes and the
 * error object, a growable byte buffer, and the arena the document model
 * allocates from.
 *
 * Errors follow libgit2/sqlite: functions return 0 on success and a
 * negative STRATA_E* code on failure; the message travels in a caller-owned
 * strata_error that carries the file, line and column it refers to.  The
 * first error recorded wins, so a low-level message is never overwritten by
 * a vaguer one on the way up.
 */
#ifndef STRATA_COMMON_H
#define STRATA_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef STRATA_VERSION_STRING
#define STRATA_VERSION_STRING "0.1.0"
#endif

/* Error codes.  The CLI maps them to exit codes (src/cli/exitcodes.h). */
enum {
	STRATA_OK = 0,
	STRATA_ERROR = -1,      /* generic failure */
	STRATA_ENOMEM = -2,     /* out of memory */
	STRATA_EUSAGE = -3,     /* bad arguments from the caller */
	STRATA_ECONFIG = -4,    /* strata.ini is invalid */
	STRATA_EPARSE = -5,     /* YAML that does not parse / is not a resource */
	STRATA_ELIMIT = -6,     /* a size, depth or alias budget was exceeded */
	STRATA_EUNSAFE = -7,    /* a path or symlink leaves the repository */
	STRATA_ENOTFOUND = -8,  /* patch target, environment or file not found */
	STRATA_EAMBIGUOUS = -9, /* a patch matches more than one resource */
	STRATA_ECONFLICT = -10, /* two resources with one identity */
	STRATA_EUNDEFVAR = -11, /* undefined variable */
	STRATA_EIO = -12,       /* reading or writing files failed */
	STRATA_EGIT = -13,      /* libgit2 failed */
	STRATA_EREFUSED = -14,  /* publish refused (protected / foreign branch) */
	STRATA_EREJECTED = -15, /* push rejected by the remote */
	STRATA_ECHECK = -16,    /* strata check found errors */
};

typedef struct strata_error {
	int code;        /* 0 when no error is recorded */
	int line;        /* 1-based; 0 when unknown */
	int col;         /* 1-based; 0 when unknown */
	char file[512];  /* repository-relative path; "" when unknown */
	char msg[1536];  /* one line, lowercase, no trailing period */
	/* The `strata check` rule the error breaks, a static string such as
	 * "ini-unknown-key"; NULL when its maker did not name one.  Lets check
	 * classify an error without reading its message. */
	const char *rule;
} strata_error;

void strata_error_clear(strata_error *err);

/*
 * Record an error unless one is already recorded (the first one wins).
 * file may be NULL.  Returns code, so callers can `return strata_error_set(...)`.
 * err may be NULL, in which case only code is returned.
 */
int strata_error_set(strata_error *err, int code, const char *file, int line,
		     int col, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
int strata_error_vset(strata_error *err, int code, const char *file, int line,
		      int col, const char *fmt, va_list ap);

/*
 * The same, naming the check rule (a static string, or NULL).  The rule is
 * stored only when this call records the error, so the first error keeps
 * its own rule.
 */
int strata_error_set_rule(strata_error *err, const char *rule, int code,
			  const char *file, int line, int col, const char *fmt,
			  ...) __attribute__((format(printf, 7, 8)));
int strata_error_vset_rule(strata_error *err, const char *rule, int code,
			   const char *file, int line, int col, const char *fmt,
			   va_list ap);

/*
 * Format as one line: "file:line:col: msg", "file: msg" when there is no
 * position, or just "msg" when there is no file.  Always NUL-terminates.
 */
void strata_error_format(const strata_error *err, char *buf, size_t size);

/* A growable byte buffer; always NUL-terminated after any successful put. */
typedef struct strata_buf {
	char *ptr;
	size_t len;
	size_t cap;
	int foreign;  /* ptr is the caller's memory (strata_buf_over) */
} strata_buf;

#define STRATA_BUF_INIT { NULL, 0, 0, 0 }

int strata_buf_grow(strata_buf *b, size_t extra);
int strata_buf_put(strata_buf *b, const char *data, size_t len);
int strata_buf_puts(strata_buf *b, const char *s);
int strata_buf_putc(strata_buf *b, char c);
int strata_buf_printf(strata_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hand the buffer's memory to the caller (malloc'ed, NUL-terminated). */
char *strata_buf_detach(strata_buf *b, size_t *len);
void strata_buf_free(strata_buf *b);
/*
 * Start b empty over size bytes (size >= 1) of the caller's memory: puts
 * fill it in place, and a put that needs more moves b to malloc'ed
 * memory, leaving the caller's as it was.  strata_buf_free and
 * strata_buf_detach never free the caller's memory; the caller frees it
 * once b is done with it.
 */
void strata_buf_over(strata_buf *b, char *mem, size_t size);

/*
 * Arena: bump allocation in large chunks, freed all at once.  The document
 * model lives here so a render can drop everything with one call.
 */
typedef struct strata_arena strata_arena;

strata_arena *strata_arena_new(void);
void strata_arena_free(strata_arena *a); /* NULL is a no-op */
/* Zeroed, 8-byte aligned memory; NULL on out of memory. */
void *strata_arena_alloc(strata_arena *a, size_t size);
/* A NUL-terminated copy of s[0..len); NULL on out of memory. */
char *strata_arena_strndup(strata_arena *a, const char *s, size_t len);
char *strata_arena_strdup(strata_arena *a, const char *s);
char *strata_arena_printf(strata_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Bytes handed out so far (for memory accounting and limits). */
size_t strata_arena_used(const strata_arena *a);
/*
 * Move everything from's memory holds into a, then free from: what was
 * allocated in from lives until a is freed.  (Threads each fill an arena
 * of their own; the results end up in one.)
 */
void strata_arena_adopt(strata_arena *a, strata_arena *from);
/*
 * Give the kernel back the memory a has reserved but not handed out (the
 * rest of its current chunk), keeping a usable: call it when a is done
 * growing for a while (a finished render, a loaded base).  Chunks come
 * from huge pages, which are resident as a whole once touched; an
 * arena's half-used last chunk would otherwise stay resident with it.
 */
void strata_arena_trim(strata_arena *a);
/*
 * a is about to grow by megabytes (a render of thousands of resources):
 * its next chunks are full-size at once, one huge page each, instead of
 * growing through the smaller ones (pages.c keeps only a few pages of
 * small chunks huge; past them, small chunks fault in 4 KiB at a time).
 */
void strata_arena_expect_big(strata_arena *a);
/*
 * A copy-on-write arena edits trees it shares with others without
 * changing them: a map or sequence marked STRATA_NODE_SHARED (doc.h) is
 * copied into it before an edit (strata_node_own, strata_cur_own).  Off
 * for a new arena: edits then happen in place.
 */
void strata_arena_set_cow(strata_arena *a, bool on);
bool strata_arena_cow(const strata_arena *a);

/*
 * An unlinked temporary file in dir, read-write, mode 0600, closed on
 * exec: O_TMPFILE, or where the kernel or file system has none, a file
 * named dir/name-XXXXXX unlinked at once.  It goes with the process,
 * however that ends.  The descriptor, or -1 with errno set.  (publish's
 * spill, the CLI's held-back output.)
 */
int strata_tmpfile(const char *dir, const char *name);
/* Write all of p[0..len) to fd, retrying short writes and EINTR.  0, or -1
 * with errno set. */
int strata_write_all(int fd, const char *p, size_t len);
/* Read len bytes at offset off of fd (pread: no file offset moves, so
 * threads need no lock).  A file that ends first is EIO.  0, or -1 with
 * errno set. */
int strata_pread_all(int fd, char *p, size_t len, uint64_t off);

/*
 * Edit distance used for "did you mean" suggestions.  Returns the best of
 * candidates[0..n) within a distance of max(2, len/3) of word, or NULL.
 */
const char *strata_suggest(const char *word, const char *const *candidates,
			   size_t n);

#ifdef __cplusplus
}
#endif
#endif
