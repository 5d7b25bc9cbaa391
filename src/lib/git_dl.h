/*
 * git_dl.h - libgit2, mapped into the process only when a command needs git.
 *
 * A render from the working tree, `check` and `diff` of two environments
 * never touch git, yet linking libgit2 makes every process map it and the
 * twenty libraries it pulls in (TLS, ssh, Kerberos, pcre, zlib): 2.5 ms and
 * about 200 page faults per process, an eighth of a 100-application render.
 *
 * With STRATA_GIT_DLOPEN (the default; see CMakeLists.txt) libstrata does not
 * link libgit2.  The files that use it include this header instead of
 * <git2.h>: each git_* function they call becomes a call through a table
 * that strata_git_init() fills from dlopen() once per process.  The compiler
 * keeps the real prototypes (the table's members are __typeof__ the
 * functions), and because libstrata is linked without -lgit2, a function
 * missing from STRATA_GIT_FUNCTIONS fails the build instead of the run.
 *
 * Every entry into git starts with strata_git_init() (which also counts a
 * git_libgit2_init()); a call through the table before it is a bug and
 * aborts with a message rather than jumping to NULL.
 */
#ifndef STRATA_GIT_DL_H
#define STRATA_GIT_DL_H

#include "strata/common.h"

#include <git2.h>
#include <git2/sys/config.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>
#include <git2/sys/repository.h>
#include <git2/sys/transport.h>

/*
 * Load libgit2 if it is not yet (thread-safe, once per process) and call
 * git_libgit2_init().  Returns 0, or STRATA_EGIT with a message naming the
 * library when it cannot be loaded; pair each success with one
 * git_libgit2_shutdown().
 */
int strata_git_init(strata_error *err);

#ifdef STRATA_GIT_DLOPEN

/* Every libgit2 function libstrata calls, in name order. */
#define STRATA_GIT_FUNCTIONS(X) \
	X(git_blob_create_from_buffer) \
	X(git_blob_free) \
	X(git_blob_lookup) \
	X(git_blob_rawcontent) \
	X(git_blob_rawsize) \
	X(git_branch_is_checked_out) \
	X(git_commit_create) \
	X(git_commit_free) \
	X(git_commit_id) \
	X(git_commit_lookup) \
	X(git_commit_message) \
	X(git_commit_summary) \
	X(git_commit_time) \
	X(git_commit_time_offset) \
	X(git_commit_tree) \
	X(git_commit_tree_id) \
	X(git_config_add_backend) \
	X(git_config_free) \
	X(git_config_get_string) \
	X(git_config_init_backend) \
	X(git_config_new) \
	X(git_credential_ssh_key_from_agent) \
	X(git_credential_username_new) \
	X(git_credential_userpass_plaintext_new) \
	X(git_error_last) \
	X(git_error_set_oom) \
	X(git_error_set_str) \
	X(git_fetch_options_init) \
	X(git_graph_descendant_of) \
	X(git_libgit2_init) \
	X(git_libgit2_opts) \
	X(git_libgit2_shutdown) \
	X(git_mempack_new) \
	X(git_mempack_reset) \
	X(git_message_trailer_array_free) \
	X(git_message_trailers) \
	X(git_object_dup) \
	X(git_object_free) \
	X(git_object_peel) \
	X(git_odb_add_backend) \
	X(git_odb_backend_data_alloc) \
	X(git_odb_backend_data_free) \
	X(git_odb_exists) \
	X(git_odb_exists_ext) \
	X(git_odb_free) \
	X(git_odb_hash) \
	X(git_odb_init_backend) \
	X(git_odb_new) \
	X(git_odb_object_data) \
	X(git_odb_object_free) \
	X(git_odb_object_size) \
	X(git_odb_read) \
	X(git_odb_read_header) \
	X(git_odb_refresh) \
	X(git_odb_write_pack) \
	X(git_oid_cmp) \
	X(git_oid_cpy) \
	X(git_oid_equal) \
	X(git_oid_fromstr) \
	X(git_oid_tostr) \
	X(git_packbuilder_foreach) \
	X(git_packbuilder_free) \
	X(git_packbuilder_insert) \
	X(git_packbuilder_new) \
	X(git_packbuilder_object_count) \
	X(git_packbuilder_set_threads) \
	X(git_push_options_init) \
	X(git_reference_create) \
	X(git_reference_create_matching) \
	X(git_reference_free) \
	X(git_reference_lookup) \
	X(git_reference_name_is_valid) \
	X(git_reference_peel) \
	X(git_reference_resolve) \
	X(git_reference_symbolic_target) \
	X(git_reference_target) \
	X(git_reference_type) \
	X(git_remote_connect) \
	X(git_remote_create_anonymous) \
	X(git_remote_disconnect) \
	X(git_remote_download) \
	X(git_remote_free) \
	X(git_remote_init_callbacks) \
	X(git_remote_lookup) \
	X(git_remote_ls) \
	X(git_remote_push) \
	X(git_remote_pushurl) \
	X(git_remote_url) \
	X(git_repository_commondir) \
	X(git_repository_config_snapshot) \
	X(git_repository_free) \
	X(git_repository_head_unborn) \
	X(git_repository_is_bare) \
	X(git_repository_odb) \
	X(git_repository_open_ext) \
	X(git_repository_path) \
	X(git_repository_set_config) \
	X(git_repository_workdir) \
	X(git_repository_wrap_odb) \
	X(git_revparse_single) \
	X(git_revwalk_free) \
	X(git_revwalk_new) \
	X(git_revwalk_next) \
	X(git_revwalk_push) \
	X(git_revwalk_simplify_first_parent) \
	X(git_revwalk_sorting) \
	X(git_signature_free) \
	X(git_signature_new) \
	X(git_transport_register) \
	X(git_transport_smart) \
	X(git_tree_entry_byindex) \
	X(git_tree_entry_byname) \
	X(git_tree_entry_bypath) \
	X(git_tree_entry_filemode) \
	X(git_tree_entry_free) \
	X(git_tree_entry_id) \
	X(git_tree_entry_name) \
	X(git_tree_entry_type) \
	X(git_tree_entrycount) \
	X(git_tree_free) \
	X(git_tree_id) \
	X(git_tree_lookup) \
	X(git_tree_walk) \
	X(git_treebuilder_free) \
	X(git_treebuilder_get) \
	X(git_treebuilder_insert) \
	X(git_treebuilder_new) \
	X(git_treebuilder_write)

struct strata_git_fns {
#define STRATA_GIT_MEMBER(f) __typeof__(f) *f;
	STRATA_GIT_FUNCTIONS(STRATA_GIT_MEMBER)
#undef STRATA_GIT_MEMBER
};

/* The table, filled by strata_git_init(); aborts if it has not run. */
const struct strata_git_fns *strata_git_fns(void);

#ifndef STRATA_GIT_DL_TABLE /* git_dl.c fills the table by name */
#define git_blob_create_from_buffer (strata_git_fns()->git_blob_create_from_buffer)
#define git_blob_free (strata_git_fns()->git_blob_free)
#define git_blob_lookup (strata_git_fns()->git_blob_lookup)
#define git_blob_rawcontent (strata_git_fns()->git_blob_rawcontent)
#define git_blob_rawsize (strata_git_fns()->git_blob_rawsize)
#define git_branch_is_checked_out (strata_git_fns()->git_branch_is_checked_out)
#define git_commit_create (strata_git_fns()->git_commit_create)
#define git_commit_free (strata_git_fns()->git_commit_free)
#define git_commit_id (strata_git_fns()->git_commit_id)
#define git_commit_lookup (strata_git_fns()->git_commit_lookup)
#define git_commit_message (strata_git_fns()->git_commit_message)
#define git_commit_summary (strata_git_fns()->git_commit_summary)
#define git_commit_time (strata_git_fns()->git_commit_time)
#define git_commit_time_offset (strata_git_fns()->git_commit_time_offset)
#define git_commit_tree (strata_git_fns()->git_commit_tree)
#define git_commit_tree_id (strata_git_fns()->git_commit_tree_id)
#define git_config_add_backend (strata_git_fns()->git_config_add_backend)
#define git_config_free (strata_git_fns()->git_config_free)
#define git_config_get_string (strata_git_fns()->git_config_get_string)
#define git_config_init_backend (strata_git_fns()->git_config_init_backend)
#define git_config_new (strata_git_fns()->git_config_new)
#define git_credential_ssh_key_from_agent (strata_git_fns()->git_credential_ssh_key_from_agent)
#define git_credential_username_new (strata_git_fns()->git_credential_username_new)
#define git_credential_userpass_plaintext_new (strata_git_fns()->git_credential_userpass_plaintext_new)
#define git_error_last (strata_git_fns()->git_error_last)
#define git_error_set_oom (strata_git_fns()->git_error_set_oom)
#define git_error_set_str (strata_git_fns()->git_error_set_str)
#define git_fetch_options_init (strata_git_fns()->git_fetch_options_init)
#define git_graph_descendant_of (strata_git_fns()->git_graph_descendant_of)
#define git_libgit2_init (strata_git_fns()->git_libgit2_init)
#define git_libgit2_opts (strata_git_fns()->git_libgit2_opts)
#define git_libgit2_shutdown (strata_git_fns()->git_libgit2_shutdown)
#define git_mempack_new (strata_git_fns()->git_mempack_new)
#define git_mempack_reset (strata_git_fns()->git_mempack_reset)
#define git_message_trailer_array_free (strata_git_fns()->git_message_trailer_array_free)
#define git_message_trailers (strata_git_fns()->git_message_trailers)
#define git_object_dup (strata_git_fns()->git_object_dup)
#define git_object_free (strata_git_fns()->git_object_free)
#define git_object_peel (strata_git_fns()->git_object_peel)
#define git_odb_add_backend (strata_git_fns()->git_odb_add_backend)
#define git_odb_backend_data_alloc (strata_git_fns()->git_odb_backend_data_alloc)
#define git_odb_backend_data_free (strata_git_fns()->git_odb_backend_data_free)
#define git_odb_exists (strata_git_fns()->git_odb_exists)
#define git_odb_exists_ext (strata_git_fns()->git_odb_exists_ext)
#define git_odb_free (strata_git_fns()->git_odb_free)
#define git_odb_hash (strata_git_fns()->git_odb_hash)
#define git_odb_init_backend (strata_git_fns()->git_odb_init_backend)
#define git_odb_new (strata_git_fns()->git_odb_new)
#define git_odb_object_data (strata_git_fns()->git_odb_object_data)
#define git_odb_object_free (strata_git_fns()->git_odb_object_free)
#define git_odb_object_size (strata_git_fns()->git_odb_object_size)
#define git_odb_read (strata_git_fns()->git_odb_read)
#define git_odb_read_header (strata_git_fns()->git_odb_read_header)
#define git_odb_refresh (strata_git_fns()->git_odb_refresh)
#define git_odb_write_pack (strata_git_fns()->git_odb_write_pack)
#define git_oid_cmp (strata_git_fns()->git_oid_cmp)
#define git_oid_cpy (strata_git_fns()->git_oid_cpy)
#define git_oid_equal (strata_git_fns()->git_oid_equal)
#define git_oid_fromstr (strata_git_fns()->git_oid_fromstr)
#define git_oid_tostr (strata_git_fns()->git_oid_tostr)
#define git_packbuilder_foreach (strata_git_fns()->git_packbuilder_foreach)
#define git_packbuilder_free (strata_git_fns()->git_packbuilder_free)
#define git_packbuilder_insert (strata_git_fns()->git_packbuilder_insert)
#define git_packbuilder_new (strata_git_fns()->git_packbuilder_new)
#define git_packbuilder_object_count (strata_git_fns()->git_packbuilder_object_count)
#define git_packbuilder_set_threads (strata_git_fns()->git_packbuilder_set_threads)
#define git_push_options_init (strata_git_fns()->git_push_options_init)
#define git_reference_create (strata_git_fns()->git_reference_create)
#define git_reference_create_matching (strata_git_fns()->git_reference_create_matching)
#define git_reference_free (strata_git_fns()->git_reference_free)
#define git_reference_lookup (strata_git_fns()->git_reference_lookup)
#define git_reference_name_is_valid (strata_git_fns()->git_reference_name_is_valid)
#define git_reference_peel (strata_git_fns()->git_reference_peel)
#define git_reference_resolve (strata_git_fns()->git_reference_resolve)
#define git_reference_symbolic_target (strata_git_fns()->git_reference_symbolic_target)
#define git_reference_target (strata_git_fns()->git_reference_target)
#define git_reference_type (strata_git_fns()->git_reference_type)
#define git_remote_connect (strata_git_fns()->git_remote_connect)
#define git_remote_create_anonymous (strata_git_fns()->git_remote_create_anonymous)
#define git_remote_disconnect (strata_git_fns()->git_remote_disconnect)
#define git_remote_download (strata_git_fns()->git_remote_download)
#define git_remote_free (strata_git_fns()->git_remote_free)
#define git_remote_init_callbacks (strata_git_fns()->git_remote_init_callbacks)
#define git_remote_lookup (strata_git_fns()->git_remote_lookup)
#define git_remote_ls (strata_git_fns()->git_remote_ls)
#define git_remote_push (strata_git_fns()->git_remote_push)
#define git_remote_pushurl (strata_git_fns()->git_remote_pushurl)
#define git_remote_url (strata_git_fns()->git_remote_url)
#define git_repository_commondir (strata_git_fns()->git_repository_commondir)
#define git_repository_config_snapshot (strata_git_fns()->git_repository_config_snapshot)
#define git_repository_free (strata_git_fns()->git_repository_free)
#define git_repository_head_unborn (strata_git_fns()->git_repository_head_unborn)
#define git_repository_is_bare (strata_git_fns()->git_repository_is_bare)
#define git_repository_odb (strata_git_fns()->git_repository_odb)
#define git_repository_open_ext (strata_git_fns()->git_repository_open_ext)
#define git_repository_path (strata_git_fns()->git_repository_path)
#define git_repository_set_config (strata_git_fns()->git_repository_set_config)
#define git_repository_workdir (strata_git_fns()->git_repository_workdir)
#define git_repository_wrap_odb (strata_git_fns()->git_repository_wrap_odb)
#define git_revparse_single (strata_git_fns()->git_revparse_single)
#define git_revwalk_free (strata_git_fns()->git_revwalk_free)
#define git_revwalk_new (strata_git_fns()->git_revwalk_new)
#define git_revwalk_next (strata_git_fns()->git_revwalk_next)
#define git_revwalk_push (strata_git_fns()->git_revwalk_push)
#define git_revwalk_simplify_first_parent (strata_git_fns()->git_revwalk_simplify_first_parent)
#define git_revwalk_sorting (strata_git_fns()->git_revwalk_sorting)
#define git_signature_free (strata_git_fns()->git_signature_free)
#define git_signature_new (strata_git_fns()->git_signature_new)
#define git_transport_register (strata_git_fns()->git_transport_register)
#define git_transport_smart (strata_git_fns()->git_transport_smart)
#define git_tree_entry_byindex (strata_git_fns()->git_tree_entry_byindex)
#define git_tree_entry_byname (strata_git_fns()->git_tree_entry_byname)
#define git_tree_entry_bypath (strata_git_fns()->git_tree_entry_bypath)
#define git_tree_entry_filemode (strata_git_fns()->git_tree_entry_filemode)
#define git_tree_entry_free (strata_git_fns()->git_tree_entry_free)
#define git_tree_entry_id (strata_git_fns()->git_tree_entry_id)
#define git_tree_entry_name (strata_git_fns()->git_tree_entry_name)
#define git_tree_entry_type (strata_git_fns()->git_tree_entry_type)
#define git_tree_entrycount (strata_git_fns()->git_tree_entrycount)
#define git_tree_free (strata_git_fns()->git_tree_free)
#define git_tree_id (strata_git_fns()->git_tree_id)
#define git_tree_lookup (strata_git_fns()->git_tree_lookup)
#define git_tree_walk (strata_git_fns()->git_tree_walk)
#define git_treebuilder_free (strata_git_fns()->git_treebuilder_free)
#define git_treebuilder_get (strata_git_fns()->git_treebuilder_get)
#define git_treebuilder_insert (strata_git_fns()->git_treebuilder_insert)
#define git_treebuilder_new (strata_git_fns()->git_treebuilder_new)
#define git_treebuilder_write (strata_git_fns()->git_treebuilder_write)
#endif

#endif /* STRATA_GIT_DLOPEN */

#endif
