/*
 * output.c - writing a rendered tree to disk, all or nothing.
 *
 * Files go to a fresh temporary directory beside the target; only when
 * every byte is written does it replace the target with rename(2).  A
 * target that exists must be empty or an earlier strata output (it holds
 * the marker file), so `--out` can never wipe a directory strata did not
 * make.
 */
#include "strata/render.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#define MARKER ".strata-render"

int strata_filelist_add(strata_filelist *l, const char *path, char *data,
			size_t len)
{
	char *p;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		strata_file *items = realloc(l->items, cap * sizeof(*items));
		if (!items) {
			free(data);
			return STRATA_ENOMEM;
		}
		l->items = items;
		l->cap = cap;
	}
	p = strdup(path);
	if (!p) {
		free(data);
		return STRATA_ENOMEM;
	}
	l->items[l->n].path = p;
	l->items[l->n].data = data;
	l->items[l->n].len = len;
	l->n++;
	return 0;
}

void strata_filelist_free(strata_filelist *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].path);
		free(l->items[i].data);
	}
	free(l->items);
	l->items = NULL;
	l->n = l->cap = 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

static void rm_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* mkdir -p for the directories of rel under root */
static int make_parents(const char *root, const char *rel)
{
	char path[4096];
	size_t rl = strlen(root);

	if (snprintf(path, sizeof(path), "%s/%s", root, rel) >= (int)sizeof(path))
		return -1;
	for (char *p = path + rl + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

static int write_all(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);

	if (fd < 0)
		return -1;
	while (len) {
		ssize_t w = write(fd, data, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		data += w;
		len -= (size_t)w;
	}
	return close(fd);
}

/* 1 when dir may be replaced, 0 when not, -1 when it does not exist */
static int replaceable(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool empty = true, marker = false;

	if (!d)
		return errno == ENOENT ? -1 : 0;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		empty = false;
		if (!strcmp(e->d_name, MARKER))
			marker = true;
	}
	closedir(d);
	return empty || marker;
}

int strata_output_write(const char *dir, const strata_filelist *files,
			strata_error *err)
{
	char tmp[4096], old[4096] = "", path[8192];
	struct stat st;
	int state, rc = 0;

	if (strlen(dir) + 32 >= sizeof(tmp))
		return strata_error_set(err, STRATA_EUSAGE, dir, 0, 0, "path too long");
	if (lstat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
		return strata_error_set(err, STRATA_EREFUSED, dir, 0, 0,
					"output path exists and is not a directory");
	state = replaceable(dir);
	if (state == 0)
		return strata_error_set(err, STRATA_EREFUSED, dir, 0, 0,
					"refusing to replace a non-empty directory that strata did not write (no %s in it)",
					MARKER);
	snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", dir);
	if (!mkdtemp(tmp))
		return strata_error_set(err, STRATA_EIO, dir, 0, 0,
					"cannot create a temporary directory: %s",
					strerror(errno));
	for (size_t i = 0; i < files->n; i++) {
		const strata_file *f = &files->items[i];
		if (make_parents(tmp, f->path) < 0) {
			rc = strata_error_set(err, STRATA_EIO, dir, 0, 0,
					      "cannot create directory for '%s': %s",
					      f->path, strerror(errno));
			goto fail;
		}
		if (snprintf(path, sizeof(path), "%s/%s", tmp, f->path) >= (int)sizeof(path) ||
		    write_all(path, f->data, f->len) < 0) {
			rc = strata_error_set(err, STRATA_EIO, dir, 0, 0,
					      "cannot write '%s': %s", f->path,
					      strerror(errno));
			goto fail;
		}
	}
	if (snprintf(path, sizeof(path), "%s/%s", tmp, MARKER) >= (int)sizeof(path) ||
	    write_all(path, "strata render output: replaced as a whole on every render\n", 58) < 0) {
		rc = strata_error_set(err, STRATA_EIO, dir, 0, 0, "cannot write marker: %s",
				      strerror(errno));
		goto fail;
	}
	if (state == 1) {
		/* move the old tree aside, put the new one in, drop the old */
		snprintf(old, sizeof(old), "%s.old-XXXXXX", dir);
		if (!mkdtemp(old) || rename(dir, old) < 0) {
			rc = strata_error_set(err, STRATA_EIO, dir, 0, 0,
					      "cannot move the previous output aside: %s",
					      strerror(errno));
			if (old[0])
				rmdir(old);
			goto fail;
		}
		if (rename(tmp, dir) < 0) {
			rc = strata_error_set(err, STRATA_EIO, dir, 0, 0,
					      "cannot move the new output into place: %s",
					      strerror(errno));
			rename(old, dir);
			goto fail;
		}
		rm_tree(old);
	} else if (rename(tmp, dir) < 0) {
		rc = strata_error_set(err, STRATA_EIO, dir, 0, 0,
				      "cannot move the new output into place: %s",
				      strerror(errno));
		goto fail;
	}
	return 0;
fail:
	rm_tree(tmp);
	return rc;
}
