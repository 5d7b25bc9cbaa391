/*
 * cmd_render.c - `strata render`: preview environments.
 *
 * An error never leaves half an output behind.  One environment to stdout
 * is rendered whole first, then emitted in blocks of documents on -j
 * threads (strata_render_emit) and handed to stdout in order, so its text
 * is never held in memory all at once.  With several
 * environments the output of those already rendered is held until the last
 * one succeeded: in memory up to SPILL_AT bytes, past that in an unlinked
 * temporary file (in $TMPDIR, else /tmp) that is copied to stdout at the
 * end.  --out collects the files in memory and writes them atomically.
 */
#include "cli.h"

#include "strata/git.h"
#include "strata/threads.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Output held in memory before it goes to a temporary file. */
#define SPILL_AT ((size_t)4 << 20)
/* The spill file is copied to stdout in pieces of this size. */
#define CHUNK ((size_t)1 << 20)

/*
 * Where the stdout output goes: straight to stdout (one environment) or
 * held (several): in mem, then in spill once mem would pass SPILL_AT.
 */
typedef struct out_sink {
	bool direct;
	strata_buf chunk;  /* text not yet handed on (an environment's header) */
	strata_buf mem;
	FILE *spill;
} out_sink;

/*
 * Hand text on: to stdout, to memory, or past SPILL_AT to the spill file.
 * EXIT_IO (message printed) when writing failed.
 */
static int sink_out(out_sink *s, const char *text, size_t len)
{
	int ret = EXIT_OK;

	if (!len)
		return EXIT_OK;
	if (s->direct) {
		if (fflush(stdout) != 0 || strata_write_all(STDOUT_FILENO, text, len) < 0) {
			fprintf(stderr, "strata render: cannot write to stdout\n");
			ret = EXIT_IO;
		}
	} else if (!s->spill && s->mem.len + len <= SPILL_AT) {
		if (strata_buf_put(&s->mem, text, len) < 0)
			ret = EXIT_INTERNAL;
	} else {
		if (!s->spill) {
			if (!(s->spill = cli_spill_open("strata-render"))) {
				fprintf(stderr,
					"strata render: cannot create a temporary file in '%s': %s\n",
					cli_tmp_dir(), strerror(errno));
				return EXIT_IO;
			}
			if (s->mem.len &&
			    fwrite(s->mem.ptr, 1, s->mem.len, s->spill) != s->mem.len)
				ret = EXIT_IO;
			strata_buf_free(&s->mem);
		}
		if (ret == EXIT_OK && fwrite(text, 1, len, s->spill) != len)
			ret = EXIT_IO;
		if (ret == EXIT_IO)
			fprintf(stderr,
				"strata render: cannot write to a temporary file: %s\n",
				strerror(errno));
	}
	return ret;
}

static int sink_flush(out_sink *s)
{
	int ret = sink_out(s, s->chunk.ptr, s->chunk.len);

	s->chunk.len = 0;
	return ret;
}

/* strata_render_emit's write(): pieces of the stream, in order. */
typedef struct sink_writer {
	out_sink *s;
	int ret;
} sink_writer;

static int sink_write(void *ctx, const char *text, size_t len)
{
	sink_writer *w = ctx;

	if ((w->ret = sink_flush(w->s)) != EXIT_OK ||
	    (w->ret = sink_out(w->s, text, len)) != EXIT_OK)
		return STRATA_ERROR;
	return 0;
}

/*
 * Emit r's documents, after header when set, into the sink: on -j threads
 * (strata_render_emit), handed on in order.
 */
static int sink_render(out_sink *s, const strata_render *r, const char *header)
{
	sink_writer w = { s, EXIT_OK };
	int rc;

	if (header && strata_buf_puts(&s->chunk, header) < 0)
		return EXIT_INTERNAL;
	rc = strata_render_emit(r, cli_limits.jobs, sink_write, &w);
	if (rc < 0)
		return w.ret != EXIT_OK ? w.ret : EXIT_INTERNAL;
	return sink_flush(s);
}

/* Every environment succeeded: write what was held to stdout. */
static int sink_finish(out_sink *s)
{
	int ret = EXIT_OK;

	if (s->spill) {
		char *buf = malloc(CHUNK);
		size_t n;

		if (!buf)
			return EXIT_INTERNAL;
		if (fflush(s->spill) != 0 || fseek(s->spill, 0, SEEK_SET) != 0) {
			fprintf(stderr, "strata render: cannot read a temporary file: %s\n",
				strerror(errno));
			free(buf);
			return EXIT_IO;
		}
		while (ret == EXIT_OK && (n = fread(buf, 1, CHUNK, s->spill)) > 0)
			if (fwrite(buf, 1, n, stdout) != n)
				ret = EXIT_IO;
		free(buf);
		if (ret == EXIT_OK && ferror(s->spill)) {
			fprintf(stderr, "strata render: cannot read a temporary file\n");
			return EXIT_IO;
		}
	} else if (s->mem.len && fwrite(s->mem.ptr, 1, s->mem.len, stdout) != s->mem.len) {
		ret = EXIT_IO;
	}
	if (ret == EXIT_OK && fflush(stdout) != 0)
		ret = EXIT_IO;
	if (ret != EXIT_OK)
		fprintf(stderr, "strata render: cannot write to stdout\n");
	return ret;
}

static void sink_free(out_sink *s)
{
	strata_buf_free(&s->chunk);
	strata_buf_free(&s->mem);
	if (s->spill)
		fclose(s->spill);
}

static void render_usage(FILE *f)
{
	fprintf(f,
		"usage: strata render [options] ENV...\n"
		"       strata render [options] --all\n\n"
		"Render environments of the config repository: base, then each overlay\n"
		"layer, variables, images, namespace, name prefix/suffix, labels.\n\n"
		"  ENV              environment(s) from strata.ini\n"
		"  -a, --all        every environment, in strata.ini order\n"
		"  -o, --out DIR    write one file per resource under DIR/<namespace>/\n"
		"                   (DIR/<env>/<namespace>/ for several environments);\n"
		"                   DIR is replaced atomically and must be empty, absent\n"
		"                   or an earlier strata output\n"
		"  -r, --rev REV    render revision REV of the config repository (read\n"
		"                   from git, no checkout) instead of the working directory\n"
		"  -L, --limit NAME=VALUE  raise or lower an input limit: alias-nodes,\n"
		"                   depth, scalar, file, total, files (K/M/G suffixes)\n"
		"  -j, --jobs N     threads that parse files and emit output (default:\n"
		"                   the number of CPUs, at most 8; output never depends on it)\n"
		"  -C, --repo DIR   the config repository (default: current directory)\n"
		"  -h, --help       show this help\n\n"
		"Without --out the documents go to stdout separated by '---'; with several\n"
		"environments each one starts with a '# env: NAME' comment.\n");
}

int cmd_render(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "out", required_argument, NULL, 'o' },
		{ "rev", required_argument, NULL, 'r' },
		{ "limit", required_argument, NULL, 'L' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "repo", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	strata_error err;
	strata_repo *repo = NULL;
	out_sink sink = { false, STRATA_BUF_INIT, STRATA_BUF_INIT, NULL };
	strata_filelist files = { 0 };
	const char *outdir = NULL, *repodir = NULL, *rev = NULL;
	const char **envs = NULL;
	size_t n_envs = 0;
	bool all = false;
	int c, rc, ret = EXIT_OK;

	strata_error_clear(&err);
	optind = 1;
	while ((c = getopt_long(argc, argv, "ao:r:C:L:j:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a': all = true; break;
		case 'o': outdir = optarg; break;
		case 'r': rev = optarg; break;
		case 'L':
			if (cli_parse_limit("render", optarg) != 0)
				return EXIT_USAGE;
			break;
		case 'j':
			if (cli_parse_jobs("render", optarg) != 0)
				return EXIT_USAGE;
			break;
		case 'C': repodir = optarg; break;
		case 'h': render_usage(stdout); return EXIT_OK;
		default: render_usage(stderr); return EXIT_USAGE;
		}
	}
	if (all && optind < argc)
		return cli_usage_error("render", "give environments or --all, not both");
	if (!all && optind >= argc) {
		render_usage(stderr);
		return cli_usage_error("render", "no environment given");
	}
	if (rev) {
		strata_source *src = NULL;

		if (rev[0] == '-' || !rev[0])
			return cli_usage_error("render", "invalid revision '%s'", rev);
		if ((ret = cli_git_needed()) != EXIT_OK)
			return ret;
		rc = strata_source_git_open(&src,
					    repodir ? repodir :
					    cli_global_repo ? cli_global_repo : ".",
					    rev, &err);
		if (rc == 0)
			rc = strata_repo_open(&repo, src, &cli_limits, &err);
	} else {
		rc = cli_open_repo(&repo, repodir, &err);
	}
	if (rc < 0)
		return cli_report(&err, rc);
	ret = cli_env_list(&envs, &n_envs, repo, all, argc - optind,
			   argv + optind, "render");
	if (ret != EXIT_OK)
		goto done;
	sink.direct = n_envs == 1;
	/* one environment after another: each reuses the last one's memory */
	if (n_envs > 1)
		strata_repo_reuse_memory(repo, true);

	for (size_t i = 0; i < n_envs; i++) {
		strata_render *r = NULL;
		/* the last render may edit the parsed base in place */
		if (i + 1 == n_envs)
			strata_repo_last_render(repo);
		rc = strata_render_env(&r, repo, envs[i], &err);
		if (rc < 0) {
			/* with several environments, say which one failed */
			if (n_envs > 1 && err.code) {
				size_t len = strlen(err.msg);
				snprintf(err.msg + len, sizeof(err.msg) - len,
					 " (env '%s')", envs[i]);
			}
			ret = cli_report(&err, rc);
			goto done;
		}
		if (outdir) {
			char prefix[300];
			snprintf(prefix, sizeof(prefix), "%s/", envs[i]);
			rc = strata_render_files(&files, r, n_envs > 1 ? prefix : "");
			strata_render_free(r);
			if (rc < 0) {
				ret = EXIT_INTERNAL;
				goto done;
			}
		} else {
			char *header = NULL;

			if (n_envs > 1 &&
			    asprintf(&header, "%s# env: %s\n", i ? "---\n" : "", envs[i]) < 0) {
				strata_render_free(r);
				ret = EXIT_INTERNAL;
				goto done;
			}
			/*
			 * The last environment's emission on the caller's thread
			 * alone is the last step: the helpers exit meanwhile,
			 * where stopping them after it cost 0.2-0.4 ms of a
			 * 100-app render's 11-14 (waking each to let it exit).
			 */
			if (i + 1 == n_envs &&
			    strata_render_emit_jobs(r, cli_limits.jobs) <= 1)
				strata_threads_retire();
			ret = sink_render(&sink, r, header);
			free(header);
			strata_render_free(r);
			if (ret != EXIT_OK)
				goto done;
		}
		/* the overlays only this environment used are not needed again */
		if (i + 1 < n_envs &&
		    (rc = strata_repo_trim(repo, envs + i + 1, n_envs - i - 1, &err)) < 0) {
			ret = cli_report(&err, rc);
			goto done;
		}
	}
	if (outdir) {
		rc = strata_output_write(outdir, &files, &err);
		if (rc < 0)
			ret = cli_report(&err, rc);
	} else if (sink.direct) {
		if (fflush(stdout) != 0) {
			fprintf(stderr, "strata render: cannot write to stdout\n");
			ret = EXIT_IO;
		}
	} else {
		ret = sink_finish(&sink);
	}
done:
	free(envs);
	strata_filelist_free(&files);
	sink_free(&sink);
	strata_repo_free(repo);
	return ret;
}
