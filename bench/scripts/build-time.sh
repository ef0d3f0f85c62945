#!/usr/bin/env bash
# Clean release build times (issue 15.5): respec without and with its default `tls`
# feature, against redis-rs with its default features and with `tokio-comp` (what an
# async user builds). Each is a fresh crate depending on one client, built into a
# fresh target directory, one after the other; prints wall time and CPU time (user +
# system, less sensitive to other load on the machine) and the number of crates.
#
#   bench/scripts/build-time.sh [REPS]   (default 1 rep per build; run from anywhere)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
reps="${1:-1}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
redis_version="$(grep -A1 '^name = "redis"$' "$root/Cargo.lock" | sed -n 's/^version = "\(.*\)"/\1/p' | head -1)"

make_crate() { # name, dependency line
    mkdir -p "$work/$1/src"
    printf '[package]\nname = "bt-%s"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\n%s\n\n[workspace]\n' "$1" "$2" >"$work/$1/Cargo.toml"
    echo '' >"$work/$1/src/lib.rs"
    # The same versions as the workspace where they overlap.
    cp "$root/Cargo.lock" "$work/$1/Cargo.lock"
}
make_crate respec-no-tls "respec = { path = \"$root/client\", default-features = false }"
make_crate respec-default "respec = { path = \"$root/client\" }"
make_crate redis-rs-default "redis = \"=$redis_version\""
make_crate redis-rs-tokio "redis = { version = \"=$redis_version\", features = [\"tokio-comp\"] }"

echo "| build | wall s | CPU s (user+sys) | crates compiled |"
echo "|---|---:|---:|---:|"
for rep in $(seq "$reps"); do
    for name in respec-no-tls respec-default redis-rs-default redis-rs-tokio; do
        dir="$work/$name"
        rm -rf "$dir/target"
        (cd "$dir" && cargo fetch -q --offline 2>/dev/null || cargo fetch -q)
        out="$( { cd "$dir" && /usr/bin/time -f '%e %U %S' cargo build --release --offline 2>&1 >/dev/null; } | tail -1)"
        crates="$(find "$dir/target/release/deps" -name '*.rlib' | sed 's/-[0-9a-f]*\.rlib$//' | sort -u | wc -l)"
        read -r wall user sys <<<"$out"
        echo "| $name (rep $rep) | $wall | $(echo "$user + $sys" | bc) | $crates |"
    done
done
