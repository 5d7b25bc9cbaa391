#!/usr/bin/env bash
# kustomize_diff.sh - differential test: strata render against kubectl kustomize.
#
# usage: kustomize_diff.sh STRATA YAMLCMP SOURCE_DIR [NAME...]
#
# Where strata and kustomize share a feature they must produce the same
# data.  Every equivalent kustomization is one comparison:
#
#   SOURCE_DIR/examples/<example>/kustomize/<env>/kustomization.yaml
#       compared with `strata -C examples/<example> render <env>`
#   SOURCE_DIR/fixtures/render/<case>/kustomize/<env>/kustomization.yaml
#       compared with `strata -C fixtures/render/<case>/repo render <env>`
#
# A kustomize/<dir> whose name is not an environment of the repo's
# strata.ini is a helper (a shared base) and is not compared by itself.
# kustomize has no variables: a vars.env (NAME=value lines) beside the
# kustomization is substituted into kustomize's output (${NAME},
# ${NAME:-default}, ${NAME:=default}, $${NAME}) before comparing, the way
# Flux substitutes after kustomize.
#
# The comparison is semantic (tests/yamlcmp.c): documents paired by
# identity, key order ignored, keyed lists compared by key.  Where strata
# deliberately differs from kustomize, the kustomization's directory holds
# a known-divergences file (yamlcmp -s format: "<kind glob> <path glob>",
# '#' comments giving the reason); those differences are skipped and
# counted.
#
# NAME... limits the run to comparisons whose name (examples/shop/dev,
# fixtures/merge-maps/dev) contains one of them.
#
# Prints one line per comparison and "N passed, N failed"; exits 1 on a
# difference, 77 (CTest's SKIP_RETURN_CODE) when kubectl is not installed.
#
# To add a comparison: write the kustomize/<env>/kustomization.yaml beside
# an example or a fixtures/render case (ctest: kustomize_diff).  The work
# directory and the tally come from runner_lib.sh.

set -u
. "$(dirname "$0")/runner_lib.sh"

if [ $# -lt 3 ]; then
	echo "usage: $0 STRATA YAMLCMP SOURCE_DIR [NAME...]" >&2
	exit 2
fi
strata=$1
yamlcmp=$2
src=$3
shift 3

if ! command -v kubectl >/dev/null 2>&1; then
	echo "SKIP: kubectl not found"
	exit 77
fi

runner_workdir strata-kdiff

# Known divergences: <kind glob> <path glob>, one per line (yamlcmp.c),
# where strata deliberately differs from kustomize (../shared/DEPS.md, the
# spec's "kustomize gets these wrong").  Rules that only concern one
# kustomization live beside it in known-divergences, with their reason,
# so that a broad rule can never hide a real difference elsewhere.
: >"$work/known"

matches() {
	local name=$1 pat
	[ ${#filters[@]} -eq 0 ] && return 0
	for pat in "${filters[@]}"; do
		case "$name" in *"$pat"*) return 0 ;; esac
	done
	return 1
}
filters=("$@")

is_env() { # repo env
	grep -q "^[[:space:]]*\[env \"$2\"\]" "$1/strata.ini" 2>/dev/null
}

# Substitute vars.env into stdin, the way strata substitutes (textually).
substitute() { # varsfile
	perl -e '
		my %v;
		open(my $f, "<", $ARGV[0]) or die "cannot read $ARGV[0]\n";
		while (<$f>) {
			chomp;
			next if /^\s*(#|$)/;
			my ($k, $val) = split(/=/, $_, 2);
			$v{$k} = $val;
		}
		close $f;
		local $/;
		my $s = <STDIN>;
		$s =~ s/\$(\$\{[^}]*\})|\$\{(\w+)(?::([-=])([^}]*))?\}/
			if (defined $1) { $1 }
			elsif (exists $v{$2}) { $v{$2} }
			elsif (defined $3) { $v{$2} = $4 if $3 eq "="; $4 }
			else { die "undefined variable $2\n" }
		/ge;
		print $s;
	' "$1"
}

compare() { # name repo env kdir
	local name=$1 repo=$2 env=$3 kdir=$4 out
	out="$work/$(echo "$name" | tr / _)"
	mkdir -p "$out"
	if ! "$strata" -C "$repo" render "$env" >"$out/strata.yaml" 2>"$out/strata.err"; then
		runner_fail "$name: strata render failed: $(head -1 "$out/strata.err")"
		return
	fi
	if ! kubectl kustomize --load-restrictor LoadRestrictionsNone "$kdir" \
		>"$out/kustomize.yaml" 2>"$out/kustomize.err"; then
		runner_fail "$name: kubectl kustomize failed: $(head -1 "$out/kustomize.err")"
		return
	fi
	if [ -f "$kdir/vars.env" ]; then
		if ! substitute "$kdir/vars.env" <"$out/kustomize.yaml" >"$out/kustomize.subst.yaml" 2>"$out/subst.err"; then
			runner_fail "$name: substituting vars.env: $(head -1 "$out/subst.err")"
			return
		fi
		mv "$out/kustomize.subst.yaml" "$out/kustomize.yaml"
	fi
	cat "$work/known" >"$out/known"
	[ -f "$kdir/known-divergences" ] && cat "$kdir/known-divergences" >>"$out/known"
	if "$yamlcmp" -s "$out/known" "$out/strata.yaml" "$out/kustomize.yaml" >"$out/diff" 2>&1; then
		runner_pass "$name$(grep -o "(.*skipped)" "$out/diff" | sed "s/^/ /")"
	else
		runner_fail "$name (left: strata, right: kustomize)"
		sed -e 's/^/  /' "$out/diff"
	fi
}

for kdir in "$src"/examples/*/kustomize/*/ "$src"/fixtures/render/*/kustomize/*/; do
	[ -f "$kdir/kustomization.yaml" ] || continue
	kdir=${kdir%/}
	env=$(basename "$kdir")
	top=$(dirname "$(dirname "$kdir")")
	case "$top" in
	*/examples/*) repo=$top; name="examples/$(basename "$top")/$env" ;;
	*) repo=$top/repo; name="fixtures/$(basename "$top")/$env" ;;
	esac
	is_env "$repo" "$env" || continue
	matches "$name" || continue
	compare "$name" "$repo" "$env" "$kdir"
done

runner_summary
