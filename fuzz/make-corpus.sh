#!/usr/bin/env bash
# make-corpus.sh - seed corpora for the fuzz targets, made from the
# repository's fixtures (nothing generated is committed).
#
# usage: fuzz/make-corpus.sh DEST
#
# DEST/yaml   every *.yaml / *.yml under fixtures/ and examples/
# DEST/ini    every strata.ini
# DEST/merge  base document "---%" overlay patch, for each overlay file
#             whose case has a base (first documents only)
# DEST/diff   pairs of YAML files of one case ("---%" between)
# DEST/vars   "NAME=value" lines from strata.ini var.* keys, an empty line,
#             then a scalar holding "${", one per file
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dest=$1
mkdir -p "$dest"/{yaml,ini,merge,diff,vars}
n=0
while IFS= read -r -d '' f; do
	n=$((n + 1))
	cp "$f" "$dest/yaml/$(printf '%05d' $n)-$(basename "$f")"
done < <(find "$top/fixtures" "$top/examples" -type f \( -name '*.yaml' -o -name '*.yml' \) -size -256k -print0 | sort -z)
n=0
while IFS= read -r -d '' f; do
	n=$((n + 1))
	cp "$f" "$dest/ini/$(printf '%05d' $n).ini"
done < <(find "$top/fixtures" "$top/examples" -type f -name strata.ini -print0 | sort -z)
# merge and diff pairs: files of one repo's base against its overlays
n=0
while IFS= read -r -d '' repo; do
	base=$(find "$repo/base" -type f -name '*.yaml' 2>/dev/null | sort | head -1)
	[ -n "$base" ] || continue
	while IFS= read -r -d '' ov; do
		n=$((n + 1))
		{ cat "$base"; printf '\n---%%\n'; cat "$ov"; } >"$dest/merge/$(printf '%05d' $n).yaml"
		{ cat "$base"; printf '\n---%%\n'; cat "$ov"; printf '\x03'; } >"$dest/diff/$(printf '%05d' $n).yaml"
	done < <(find "$repo" -path '*/overlays/*' -type f -name '*.yaml' -print0 2>/dev/null | sort -z | head -z -n 20)
done < <(find "$top/fixtures" "$top/examples" -type f -name strata.ini -printf '%h\0' | sort -zu)
n=0
while IFS= read -r -d '' f; do
	ini="$(dirname "$f")"
	while [ "$ini" != "$top" ] && [ ! -f "$ini/strata.ini" ]; do ini=$(dirname "$ini"); done
	n=$((n + 1))
	{
		[ -f "$ini/strata.ini" ] && sed -n 's/^[[:space:]]*var\.\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]]*=[[:space:]]*\(.*\)$/\1=\2/p' "$ini/strata.ini"
		printf '\n'
		grep -h '\${' "$f" | head -5
	} >"$dest/vars/$(printf '%05d' $n).txt"
done < <(grep -rlZ '\${' "$top/fixtures" "$top/examples" --include='*.yaml' | sort -z)
for t in yaml ini merge diff vars; do
	printf '%s: %s seeds\n' "$t" "$(ls "$dest/$t" | wc -l)"
done
