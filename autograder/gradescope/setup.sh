#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image (Ubuntu 22.04, as root), with
# the zip unpacked in /autograder/source. It installs the toolchain, hides the reference
# code from the unprivileged uids tests run as, and warms the grading build tree by grading
# the reference solutions once: that compiles aio, the tests and both benchmark programs of
# every lab, so each submission only compiles its own files (the solution's benchmark
# programs never change and stay built).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
    g++-12 cmake ninja-build python3 catch2 nlohmann-json3-dev libbenchmark-dev liburing-dev pkg-config \
    bubblewrap util-linux procps ca-certificates

SOURCE=/autograder/source
# Tests run as uids 61000+ (see autograder/README.md); the build runs as root.
chmod -R o-rwx "$SOURCE/solutions" "$SOURCE/autograder/hidden" 2>/dev/null || true

python3 "$SOURCE/autograder/grade" "$SOURCE/solutions" --build-dir /autograder/build \
    --cxx g++-12 --output /tmp/warm-up.json --quiet || true
