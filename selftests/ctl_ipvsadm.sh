#!/bin/bash
# Debian's unmodified ipvsadm against rust_ipvs, with the C ip_vs as the oracle: the same script
# of ipvsadm commands runs once with each module loaded (never both) and every command's output
# and exit status must be identical, and so must what the module logs meanwhile. /proc/net/ip_vs is compared too, byte for byte, each service
# with its real servers as one block and the blocks sorted: C lists them in the order of its
# randomly keyed service hash.
. ./lib.sh

# Runs every ipvsadm command the tools use, printing each with its output and status.
ipvsadm_script() {
	local save logged
	save=$(mktemp)
	logged=$(dmesg | wc -l)
	while IFS= read -r line; do
		[ -z "$line" ] && continue
		echo "\$ $line"
		bash -c "$line" 2>&1
		echo "[exit $?]"
	done <<'EOS'
ipvsadm -Ln
ipvsadm -A -t 10.0.0.1:80 -s rr
ipvsadm -a -t 10.0.0.1:80 -r 10.0.1.1:8080 -m -w 1
ipvsadm -a -t 10.0.0.1:80 -r 10.0.1.2:8080 -m -w 2
ipvsadm -a -t 10.0.0.1:80 -r 10.0.1.3:8080 -g -w 0 -x 10 -y 5
ipvsadm -a -t 10.0.0.1:80 -r 10.0.1.4:8080 -i -w 3
ipvsadm -A -u 10.0.0.1:53 -s wrr -p 600
ipvsadm -a -u 10.0.0.1:53 -r 10.0.1.1:53 -m
ipvsadm -A -t 10.0.0.2:443 -s sh -b sh-port,sh-fallback -p 60 -M 255.255.255.0
ipvsadm -A -f 7 -s sh
ipvsadm -a -f 7 -r 10.0.1.9 -m -w 4
ipvsadm -A -t [2001:db8::1]:80 -s rr
ipvsadm -a -t [2001:db8::1]:80 -r [2001:db8::10]:80 -m
ipvsadm -A -u [2001:db8::1]:53 -s wlc -p 120 -M 64
ipvsadm -a -u [2001:db8::1]:53 -r [2001:db8::11]:53 -g -w 2
ipvsadm -a -u [2001:db8::1]:53 -r 10.0.1.7:53 -i --tun-type gue --tun-port 6080 --tun-csum
ipvsadm -a -u [2001:db8::1]:53 -r 10.0.1.8:53 -m
ipvsadm -a -u [2001:db8::1]:53 -r 10.0.1.8:53 -g
ipvsadm -A -f 8 -6 -s rr -p 30 -M 48
ipvsadm -a -f 8 -6 -r [2001:db8::12] -g
ipvsadm -a -f 8 -6 -r 10.0.1.9 -i --tun-type gre
ipvsadm -a -t 10.0.0.1:80 -r [2001:db8::13]:8080 -i
ipvsadm -a -t 10.0.0.1:80 -r [2001:db8::14]:8080 -m
ipvsadm -A -t [2001:db8::2]:0 -s sh -p 60
ipvsadm -A -t 10.0.0.3:80 -s none
ipvsadm -A -t 10.0.0.4:80 -s lblcr
ipvsadm -a -t 10.0.0.4:80 -r 10.0.1.5:80 -m
ipvsadm -E -t 10.0.0.4:80 -s lblc
ipvsadm -A -t 10.0.0.5:80 -s lblc -b flag-1
ipvsadm -A -u 10.0.0.6:53 -s rr -o
ipvsadm -A -t 10.0.0.6:80 -s rr -o
ipvsadm -A -f 9 -s wlc -o
ipvsadm -A -f 4294967295 -s rr -p 5 -M 0.0.0.0
ipvsadm -a -f 4294967295 -r 10.0.1.9:0 -m -w 65536
ipvsadm -a -f 4294967295 -r 0.0.0.0:80 -m
ipvsadm -Ln
cat /proc/net/ip_vs | awk 'NR <= 3 { print; next } /^  ->/ { b = b "|" $0; next } { if (b) print b; b = $0 } END { if (b) print b }' | sort
ipvsadm -Ln --nosort -t 10.0.0.1:80
ipvsadm -Ln --stats
ipvsadm -Ln --rate
ipvsadm -Ln --thresholds
ipvsadm -Ln --persistent-conn
ipvsadm -Ln -t 10.0.0.1:80
ipvsadm -Ln -u 10.0.0.1:53 --exact
ipvsadm -Ln -u [2001:db8::1]:53
ipvsadm -Ln -f 8 -6 --stats
ipvsadm -Ln -t [2001:db8::2]:0 --persistent-conn
ipvsadm -Ln --sort -t [2001:db8::9]:80
ipvsadm -S -n
ipvsadm -A -t 10.0.0.1:80 -s rr
ipvsadm -A -t 10.0.0.9:80 -s nosuchsched
ipvsadm -E -t 10.0.0.99:80 -s rr
ipvsadm -D -t 10.0.0.99:80
ipvsadm -a -t 10.0.0.1:80 -r 10.0.1.1:8080 -m
ipvsadm -a -t 10.0.0.99:80 -r 10.0.1.1:8080 -m
ipvsadm -d -t 10.0.0.1:80 -r 10.0.7.7:1
ipvsadm -a -t 10.0.0.1:80 -r 224.0.0.5:80 -m
ipvsadm -a -t 10.0.0.1:80 -r 255.255.255.255:80 -m
ipvsadm -a -t 10.0.0.1:80 -r 127.0.0.1:80 -m
ipvsadm -d -t 10.0.0.1:80 -r 127.0.0.1:80
ipvsadm -e -t 10.0.0.1:80 -r 10.0.7.7:1 -m
ipvsadm -e -t 10.0.0.1:80 -r 10.0.1.1:8080 -m -x 5 -y 10
ipvsadm -e -u [2001:db8::1]:53 -r 10.0.1.7:53 -i --tun-type ipip -w 7
ipvsadm -e -u [2001:db8::1]:53 -r 10.0.1.7:53 -m
ipvsadm -d -u [2001:db8::1]:53 -r [2001:db8::11]:53
ipvsadm -d -f 8 -6 -r 10.0.1.9
ipvsadm -E -t [2001:db8::1]:80 -s rr -p 10 -M 129
ipvsadm -E -t 10.0.0.1:80 -s wrr -p 300 -M 255.255.255.0
ipvsadm -E -t 10.0.0.2:443 -s rr
ipvsadm -e -t 10.0.0.1:80 -r 10.0.1.1:8080 -m -w 5
ipvsadm -e -t 10.0.0.1:80 -r 10.0.1.4:8080 -m -w 0
ipvsadm -d -t 10.0.0.1:80 -r 10.0.1.2:8080
ipvsadm -Ln
ipvsadm -Ln --nosort -t 10.0.0.1:80
ipvsadm --set 100 20 30
ipvsadm -L --timeout
ipvsadm --set 3000000 0 0
ipvsadm --set 0 0 8589934
ipvsadm --set 0 8589935 0
ipvsadm -L --timeout
ipvsadm --set 0 0 0
ipvsadm -L --timeout
ipvsadm -Z -t 10.0.0.1:80
ipvsadm -Z
ipvsadm -Z -t 10.0.0.99:80
ipvsadm -L -n -c
ipvsadm -L --daemon
ipvsadm -D -f 7
ipvsadm -S -n > /tmp/ipvs.save; cat /tmp/ipvs.save
ipvsadm -C
ipvsadm -Ln
ipvsadm -R < /tmp/ipvs.save
ipvsadm -Ln
ipvsadm -D -t 10.0.0.1:80
ipvsadm -Ln
ipvsadm -C
ipvsadm -Ln
EOS
	rm -f "$save"
	# What the module logged meanwhile (C: the refused schedulers and real-server settings),
	# but for C's estimator calibration ("using max N ests per chain", a measurement, logged
	# when it ends).
	echo "logged:"
	dmesg | tail -n +$((logged + 1)) | grep 'IPVS: ' | grep -v 'ests per chain' |
		sed -E 's/^\[[^]]*\] //'
}

IPVS_IMPL=c ipvs_load
want=$(ipvsadm_script)
ipvs_unload
IPVS_IMPL=rust ipvs_load
got=$(ipvsadm_script)
ipvs_unload
echo "$got"
if [ "$want" != "$got" ]; then
	diff <(echo "$want") <(echo "$got") | head -80
	fail "ipvsadm output differs between ip_vs (C, <) and rust_ipvs (>)"
fi
log "ipvsadm: $(echo "$got" | grep -c '^\$') commands, output identical to the C ip_vs"
exit $ksft_pass
