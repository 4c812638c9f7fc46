#!/bin/bash
# A flush of a configuration larger than one kmalloc can hold the trash of: 1,000 services of
# 140 real servers each, restored by `ipvsadm -R` (a message per service and real server, as
# kube-proxy programs them), then `ipvsadm -C`, which moves all 140,000 real servers to the
# trash (C links them in a list; ours is an array of 32-byte entries, past kmalloc's 4 MB at
# 131,072, so it comes from kvmalloc). The flush succeeds, nothing is left listed, and the
# namespace goes away cleanly. Differential against the C ip_vs.
. ./lib.sh
. ./topology.sh

services=1000
per_service=140

# The configuration as `ipvsadm -R` reads it; the real servers are on the real servers'
# subnet (a routed unicast address each, which an IPv4 real server must be).
rules() {
	awk -v n=$services -v m=$per_service 'BEGIN {
		for (i = 0; i < n; i++) {
			vip = sprintf("10.%d.%d.%d", 100 + int(i / 65536), int(i / 256) % 256, i % 256)
			printf "-A -t %s:80 -s rr\n", vip
			for (r = 0; r < m; r++) printf "-a -t %s:80 -r 172.16.0.%d:8080 -m -w 1\n", vip, 11 + r
		}
	}'
}

# Services and real servers `ipvsadm -Ln` lists.
listed() {
	in_director ipvsadm -Ln | awk '$1 == "TCP" { s++ } $1 == "->" && $2 != "RemoteAddress:Port" { d++ }
		END { printf "services=%d real_servers=%d\n", s, d }'
}

scenario() {
	topo_up
	rules >/tmp/bigflush.$$
	in_director ipvsadm -R </tmp/bigflush.$$ && echo "restored" || echo "restore failed"
	rm -f /tmp/bigflush.$$
	echo "listed: $(listed)"
	in_director ipvsadm -C && echo "flushed" || echo "flush failed"
	echo "after the flush: $(listed)"
	topo_down
}

differential "flush of 140,000 real servers" scenario
exit $ksft_pass
