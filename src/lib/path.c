/*
 * path.c - repository-relative paths and the source interface's shared
 * helpers.
 *
 * Every path strata reads is relative to the config repository.  Before a
 * source looks anything up, the path is normalised lexically here: empty
 * and "." components vanish, ".." removes the previous component, and a
 * path that is absolute or climbs above the root is refused.  Both source
 * implementations (filesystem and git tree) rely on this one definition.
 *
 * What the two sources share beyond that lives here too, so each keeps only
 * its own walk: the head of every operation (normalise, walk, judge what
 * was found: strata_path_lookup), the symlink rules (hop count, the
 * lexical splice of a target), joining a listed name to its directory, and
 * the per-file size cap.
 */
#include "path.h"

#include <stdlib.h>
#include <string.h>

/*
 * Does path climb above the root?  Counts depth component by component,
 * so "a/../../b" is caught even though it ends inside.
 */
static int normalize_check(const char *path)
{
	size_t depth = 0;
	const char *p = path;

	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (depth == 0)
				return -1;
			depth--;
		} else if (len > 0 && !(len == 1 && p[0] == '.')) {
			depth++;
		}
		p += len;
		if (*p == '/')
			p++;
	}
	return 0;
}

/*
 * The lexical walk, for a relative path normalize_check accepted.  out may
 * alias path: the output never overtakes the input.
 */
static int normalize(char *out, const char *path)
{
	size_t o = 0;
	const char *p = path;

	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == 0 || (len == 1 && p[0] == '.')) {
			/* "a//b" and "./": nothing to keep */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--; /* the separator before the dropped name */
		} else {
			if (o > 0)
				out[o++] = '/';
			memmove(out + o, p, len);
			o += len;
		}
		p += len;
		if (*p == '/')
			p++;
	}
	out[o] = '\0';
	return 0;
}

int strata_path_normalize(char *out, const char *path, strata_error *err)
{
	int rc;

	/*
	 * Judge the path before writing anything, so that on failure the
	 * message can quote it even when out aliases path.
	 */
	if (path[0] == '/')
		rc = strata_error_set(err, STRATA_EUNSAFE, NULL, 0, 0,
				      "absolute path not allowed: '%s'", path);
	else if (normalize_check(path) < 0)
		rc = strata_error_set(err, STRATA_EUNSAFE, NULL, 0, 0,
				      "path leaves the repository: '%s'", path);
	else
		return normalize(out, path);
	out[0] = '\0';
	return rc;
}

void strata_source_entries_free(strata_source_entry *e, size_t n)
{
	if (!e)
		return;
	for (size_t i = 0; i < n; i++)
		free(e[i].name);
	free(e);
}

void strata_source_free(strata_source *s)
{
	if (s && s->free)
		s->free(s);
}

int strata_path_normalized_dup(const char *path, char **out, strata_error *err)
{
	char *p;
	int rc;

	if (!path)
		path = "";
	p = malloc(strlen(path) + 1);
	if (!p)
		return strata_error_set(err, STRATA_ENOMEM, NULL, 0, 0, "out of memory");
	rc = strata_path_normalize(p, path, err);
	if (rc < 0) {
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int strata_path_lookup(strata_source *s, const char *path,
		       enum strata_want want, strata_path_resolve_fn resolve,
		       void *res, int *type, char **norm, strata_error *err)
{
	char *p = NULL;
	int rc, found;

	if (type)
		*type = 0;
	if (norm)
		*norm = NULL;
	rc = strata_path_normalized_dup(path, &p, err);
	if (rc < 0)
		return rc;
	rc = resolve(s, p, want, res, err);
	if (rc < 0)
		goto done;
	found = *(const int *)res; /* the result's first member */
	if (found == 0 && want != STRATA_WANT_STAT)
		rc = strata_error_set(err, STRATA_ENOTFOUND, p[0] ? p : ".",
				      0, 0, want == STRATA_WANT_FILE ?
						    "no such file" :
						    "no such directory");
	else if (want == STRATA_WANT_FILE && found == STRATA_ENTRY_DIR)
		rc = strata_error_set(err, STRATA_EIO, p[0] ? p : ".", 0, 0,
				      "is a directory");
	else if (want == STRATA_WANT_DIR && found == STRATA_ENTRY_FILE)
		rc = strata_error_set(err, STRATA_EIO, p, 0, 0,
				      "not a directory");
	else if (type)
		*type = found;
done:
	if (norm)
		*norm = p;
	else
		free(p);
	return rc;
}

char strata_path_cut(char *path, size_t start, size_t *end)
{
	size_t e = start;
	char save;

	while (path[e] && path[e] != '/')
		e++;
	save = path[e];
	path[e] = '\0';
	*end = e;
	return save;
}

int strata_path_hop(int *hops, const char *linkpath, strata_error *err)
{
	if (++*hops > STRATA_SYMLINK_HOPS)
		return strata_error_set(err, STRATA_EUNSAFE, linkpath, 0, 0,
					"too many levels of symbolic links");
	return 0;
}

int strata_path_follow_link(char **path, size_t link_start, size_t link_end,
			    char save, const char *target, size_t tlen,
			    strata_error *err)
{
	char *old = *path;
	const char *rest = old + link_end; /* "" or "/more/components" */
	size_t rlen;
	strata_error scratch;
	char *joined;

	/* While *path is cut at link_end, it names the link (for messages). */
	if (tlen == 0 || target[0] == '/' || memchr(target, '\0', tlen))
		return strata_error_set(err, STRATA_EUNSAFE, old, 0, 0,
					"symlink leaves the repository");
	old[link_end] = save;
	rlen = strlen(rest);
	joined = malloc(link_start + tlen + rlen + 1);
	if (!joined) {
		old[link_end] = '\0';
		return strata_error_set(err, STRATA_ENOMEM, NULL, 0, 0, "out of memory");
	}
	memcpy(joined, old, link_start);
	memcpy(joined + link_start, target, tlen);
	memcpy(joined + link_start + tlen, rest, rlen + 1);
	strata_error_clear(&scratch);
	if (strata_path_normalize(joined, joined, &scratch) < 0) {
		free(joined);
		old[link_end] = '\0';
		return strata_error_set(err, STRATA_EUNSAFE, old, 0, 0,
					"symlink leaves the repository");
	}
	free(old);
	*path = joined;
	return 0;
}

int strata_path_join(const char *dir, const char *name, char **out,
		     strata_error *err)
{
	size_t dlen = strlen(dir), nlen = strlen(name);
	char *p = malloc(dlen + nlen + 2);

	*out = NULL;
	if (!p)
		return strata_error_set(err, STRATA_ENOMEM, NULL, 0, 0, "out of memory");
	if (dlen) {
		memcpy(p, dir, dlen);
		p[dlen] = '/';
		memcpy(p + dlen + 1, name, nlen + 1);
	} else {
		memcpy(p, name, nlen + 1);
	}
	*out = p;
	return 0;
}

int strata_path_check_size(const strata_source *s, const char *path,
			   uintmax_t size, strata_error *err)
{
	if (s->max_file && size > s->max_file)
		return strata_error_set(err, STRATA_ELIMIT, path, 0, 0,
					"file too large (%ju bytes, limit %zu)",
					size, s->max_file);
	return 0;
}
