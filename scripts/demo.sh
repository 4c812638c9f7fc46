#!/usr/bin/env bash
# The main job: set up (packages, toolchain, kernel), then boot a guest that loads rust_ipvs,
# balances real TCP and UDP traffic through a NAT virtual service and shows it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/setup.sh"
# The plain kernel: the demo needs none of the debug kernel's checks (the tests boot that one).
kdir=$("$here/kernel.sh" perf)
exec "$here/vm.sh" --kernel "$kdir" --demo "$@"
