#!/bin/bash
# The figures of issue 10's goals and issue 12's NS -> NA, one after the other (never two polling processes at once),
# as benchmarks/RESULTS.md reports them: `npm run bench`. About 15 minutes on a 2-CPU VM.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== goal 1: replies per worker against testpmd macswap, hugepages, 4,096 senders"
node dist/benchmarks/replies.js --hugepages --sizes 65536,1048576 --frames 16384 --senders 4096
echo "== issue 12: Neighbor Solicitations answered per worker against testpmd macswap"
node dist/benchmarks/replies.js --nd --hugepages --sizes 65536 --frames 16384 --senders 4096
echo "== goal 2: two workers against one"
node dist/benchmarks/replies.js --hugepages --sizes 65536 --frames 16384 --senders 4096 --workers 2
echo "== goals 3 and 4: known-unicast forwarding; replies under a million updates a second, verified"
node dist/benchmarks/switching.js --churn 1000000
echo "== goals 4 and 7: loading bindings, and what they cost in memory"
node dist/benchmarks/bindings.js --count 1048576
