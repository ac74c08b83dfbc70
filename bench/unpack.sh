#!/usr/bin/env bash
# bash bench/unpack.sh RESULTS_TGZ GPU_TAG: each question's folder of a device_run.sh archive becomes
# results/examples/<question>-<GPU_TAG>/ (e.g. precision-h200).
set -eu
tmp=$(mktemp -d); tar xzf "$1" -C "$tmp"
for d in "$tmp"/*/; do q=$(basename "$d"); dest="results/examples/$q-$2"; mkdir -p "$dest"; cp -r "$d". "$dest/"; echo "$dest"; done
