#!/usr/bin/env bash
# Regenerate completions/ and man/ from the command-line definition.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
nk=target/debug/netkit
$nk completions bash > completions/netkit.bash
$nk completions zsh > completions/_netkit
$nk completions fish > completions/netkit.fish
$nk completions powershell > completions/_netkit.ps1
$nk completions elvish > completions/netkit.elv
rm -f man/*.1
$nk man --out-dir man
