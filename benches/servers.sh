# Sourced by the benchmark scripts that start servers (benches/gateway/run.sh,
# benches/load/run.sh): builds the release iamc, installs kinesalite and boto3
# (tests/gateway/setup.sh, pinned, into target/e2e), makes a work folder $work with a copy of the
# gateway's fixtures, and stops every process whose pid is in $pids (and removes $work) on exit.
# Needs $repo (the repository's root, the current folder) and $1: the work folder's name.

cargo build --release --quiet
bash tests/gateway/setup.sh "$repo/target/e2e"

work="$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
cp tests/gateway/store.json tests/gateway/credentials.json "$work/"

# Waits for the first line of $1 to start with $2 and prints what follows.
first_line() {
  local file=$1 prefix=$2 line
  for _ in $(seq 1 300); do
    line="$(head -n1 "$file" 2>/dev/null || true)"
    if [ -n "$line" ]; then
      case "$line" in
        "$prefix"*) echo "${line#"$prefix"}"; return 0 ;;
        *) echo "unexpected first line in $file: $line" >&2; return 1 ;;
      esac
    fi
    sleep 0.1
  done
  echo "no first line in $file after 30 s" >&2
  return 1
}
