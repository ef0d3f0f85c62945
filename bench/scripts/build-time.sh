#!/usr/bin/env bash
# Clean release build times (issue 15.5): respec without and with its default `tls`
# feature, against redis-rs with its default features and with `tokio-comp` (what an
# async user builds). Each is a fresh crate depending on one client, built into a
# fresh target directory, one after the other; prints wall time and CPU time (user +
# system, less sensitive to other load on the machine) and the number of crates.
#
#   bench/scripts/build-time.sh [REPS]   (default 1 rep per build; run from anywhere)
#
# BASE=/path/to/another/respec/checkout adds its two respec builds to the same run
# (rows marked `base`), for a before/after on the same machine under the same load.
# BUILDS="respec-no-tls redis-rs-default" runs only the builds named (each about a
# minute of CPU; on a loaded machine the wall time is several times that).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
reps="${1:-1}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
redis_version="$(grep -A1 '^name = "redis"$' "$root/Cargo.lock" | sed -n 's/^version = "\(.*\)"/\1/p' | head -1)"

make_crate() { # name, dependency line[, checkout whose lock file to use]
    mkdir -p "$work/$1/src"
    printf '[package]\nname = "bt-%s"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\n%s\n\n[workspace]\n' "$1" "$2" >"$work/$1/Cargo.toml"
    echo '' >"$work/$1/src/lib.rs"
    # The same versions as the workspace where they overlap.
    cp "${3:-$root}/Cargo.lock" "$work/$1/Cargo.lock"
}
builds=()
respec_crates() { # suffix, checkout
    make_crate "respec-no-tls$1" "respec = { path = \"$2/client\", default-features = false }" "$2"
    make_crate "respec-default$1" "respec = { path = \"$2/client\" }" "$2"
    builds+=("respec-no-tls$1" "respec-default$1")
}
if [ -n "${BASE:-}" ]; then
    respec_crates -base "$(cd "$BASE" && pwd)"
fi
respec_crates "" "$root"
make_crate redis-rs-default "redis = \"=$redis_version\""
make_crate redis-rs-tokio "redis = { version = \"=$redis_version\", features = [\"tokio-comp\"] }"
builds+=(redis-rs-default redis-rs-tokio)
if [ -n "${BUILDS:-}" ]; then
    read -r -a builds <<<"$BUILDS"
fi

echo "| build | wall s | CPU s (user+sys) | crates compiled |"
echo "|---|---:|---:|---:|"
for rep in $(seq "$reps"); do
    for name in "${builds[@]}"; do
        dir="$work/$name"
        rm -rf "$dir/target"
        (cd "$dir" && cargo fetch -q --offline 2>/dev/null || cargo fetch -q)
        out="$( { cd "$dir" && /usr/bin/time -f '%e %U %S' cargo build --release --offline 2>&1 >/dev/null; } | tail -1)"
        crates="$(find "$dir/target/release/deps" -name '*.rlib' | sed 's/-[0-9a-f]*\.rlib$//' | sort -u | wc -l)"
        read -r wall user sys <<<"$out"
        echo "| $name (rep $rep) | $wall | $(echo "$user + $sys" | bc) | $crates |"
    done
done
