// Command mobyipvs drives the IPVS table through github.com/moby/ipvs, the library that
// Kubernetes' kube-proxy (IPVS mode) and Docker Swarm's routing mesh program it with, so the
// guest selftests can compare rust_ipvs with the C ip_vs as those clients see them. Each
// invocation opens a handle in the current network namespace, runs one command and prints
// what the library returned, one line per service or destination.
//
//	mobyipvs list
//	mobyipvs add-service|update-service|del-service|get-service SERVICE
//	mobyipvs add-dest|update-dest|del-dest SERVICE DEST
//	mobyipvs flush
//	mobyipvs get-config
//	mobyipvs set-config TCP TCPFIN UDP        (seconds)
//
// SERVICE is PROTO:ADDR:PORT[:SCHED[:FLAGS[:TIMEOUT[:NETMASK]]]] or fwmark:MARK[:...] (PROTO
// tcp, udp or sctp; ADDR v4 or [v6]); DEST is ADDR:PORT[:WEIGHT[:FWD]] with FWD masq, route or
// tunnel. Errors go to stdout as "error: <errno text>", as kube-proxy would log them.
package main

import (
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/moby/ipvs"
	"github.com/sirupsen/logrus"
)

func main() {
	// The library logs (through logrus) a failed `modprobe ip_vs`, which is expected with
	// rust_ipvs loaded instead.
	logrus.SetLevel(logrus.FatalLevel)
	if len(os.Args) < 2 {
		usage()
	}
	h, err := ipvs.New("")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	defer h.Close()
	if err := run(h, os.Args[1], os.Args[2:]); err != nil {
		fmt.Println("error:", describe(err))
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: mobyipvs list|add-service|update-service|del-service|get-service|add-dest|update-dest|del-dest|flush|get-config|set-config ...")
	os.Exit(2)
}

// describe prints an errno by its name, the same whatever the C library's wording.
func describe(err error) string {
	if errno, ok := err.(syscall.Errno); ok {
		return fmt.Sprintf("%s (errno %d)", errno.Error(), int(errno))
	}
	return err.Error()
}

func run(h *ipvs.Handle, cmd string, args []string) error {
	switch cmd {
	case "list":
		return list(h)
	case "flush":
		return h.Flush()
	case "get-config":
		c, err := h.GetConfig()
		if err != nil {
			return err
		}
		fmt.Printf("config tcp=%v tcpfin=%v udp=%v\n", c.TimeoutTCP, c.TimeoutTCPFin, c.TimeoutUDP)
		return nil
	case "set-config":
		if len(args) != 3 {
			usage()
		}
		var secs [3]time.Duration
		for i, a := range args {
			n, err := strconv.Atoi(a)
			if err != nil {
				return err
			}
			secs[i] = time.Duration(n) * time.Second
		}
		return h.SetConfig(&ipvs.Config{TimeoutTCP: secs[0], TimeoutTCPFin: secs[1], TimeoutUDP: secs[2]})
	}
	if len(args) < 1 {
		usage()
	}
	svc, err := parseService(args[0])
	if err != nil {
		return err
	}
	switch cmd {
	case "add-service":
		return h.NewService(svc)
	case "update-service":
		return h.UpdateService(svc)
	case "del-service":
		return h.DelService(svc)
	case "get-service":
		s, err := h.GetService(svc)
		if err != nil {
			return err
		}
		printService(s)
		return nil
	}
	if len(args) != 2 {
		usage()
	}
	dst, err := parseDest(args[1])
	if err != nil {
		return err
	}
	switch cmd {
	case "add-dest":
		return h.NewDestination(svc, dst)
	case "update-dest":
		return h.UpdateDestination(svc, dst)
	case "del-dest":
		return h.DelDestination(svc, dst)
	}
	usage()
	return nil
}

// list prints every service and its destinations as kube-proxy's sync loop reads them.
func list(h *ipvs.Handle) error {
	svcs, err := h.GetServices()
	if err != nil {
		return err
	}
	// The C ip_vs dumps services in the order of its hash table, whose key is random per
	// namespace; destinations come in the kernel's order (newest first).
	sort.SliceStable(svcs, func(a, b int) bool { return serviceName(svcs[a]) < serviceName(svcs[b]) })
	for _, s := range svcs {
		printService(s)
		dsts, err := h.GetDestinations(s)
		if err != nil {
			return err
		}
		for _, d := range dsts {
			// Not the counters (Stats): C's are its estimator's, as of its last 2 s run.
			fmt.Printf("  dest %s weight=%d fwd=%#x af=%d thresholds=%d/%d active=%d inactive=%d\n",
				hostPort(d.Address, d.Port), d.Weight, d.ConnectionFlags, d.AddressFamily,
				d.UpperThreshold, d.LowerThreshold, d.ActiveConnections, d.InactiveConnections)
		}
	}
	return nil
}

// serviceName is "TCP 10.0.0.1:80" or "fwmark 7".
func serviceName(s *ipvs.Service) string {
	if s.FWMark != 0 {
		return fmt.Sprintf("fwmark %d", s.FWMark)
	}
	return fmt.Sprintf("%s %s", protoName(s.Protocol), hostPort(s.Address, s.Port))
}

func printService(s *ipvs.Service) {
	fmt.Printf("service %s af=%d sched=%s flags=%#x timeout=%d netmask=%#x pe=%q\n",
		serviceName(s), s.AddressFamily, s.SchedName, s.Flags, s.Timeout, s.Netmask, s.PEName)
}

func hostPort(ip net.IP, port uint16) string {
	if ip == nil {
		return fmt.Sprintf("-:%d", port)
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(int(port)))
}

func protoName(p uint16) string {
	switch p {
	case syscall.IPPROTO_TCP:
		return "TCP"
	case syscall.IPPROTO_UDP:
		return "UDP"
	case 132:
		return "SCTP"
	}
	return strconv.Itoa(int(p))
}

// splitSpec splits a colon-separated spec whose address may be a bracketed IPv6 address.
func splitSpec(spec string) []string {
	if i := strings.Index(spec, "["); i >= 0 {
		if j := strings.Index(spec, "]"); j > i {
			head := strings.Split(strings.TrimSuffix(spec[:i], ":"), ":")
			tail := strings.Split(strings.TrimPrefix(spec[j+1:], ":"), ":")
			out := append([]string{}, head...)
			if spec[:i] == "" {
				out = nil
			}
			out = append(out, spec[i+1:j])
			return append(out, tail...)
		}
	}
	return strings.Split(spec, ":")
}

func parseService(spec string) (*ipvs.Service, error) {
	f := splitSpec(spec)
	s := &ipvs.Service{AddressFamily: syscall.AF_INET, Netmask: 0xffffffff, SchedName: "rr"}
	rest := f
	if f[0] == "fwmark" {
		if len(f) < 2 {
			return nil, fmt.Errorf("bad service %q", spec)
		}
		m, err := strconv.ParseUint(f[1], 10, 32)
		if err != nil {
			return nil, err
		}
		s.FWMark = uint32(m)
		rest = f[2:]
	} else {
		if len(f) < 3 {
			return nil, fmt.Errorf("bad service %q", spec)
		}
		switch f[0] {
		case "tcp":
			s.Protocol = syscall.IPPROTO_TCP
		case "udp":
			s.Protocol = syscall.IPPROTO_UDP
		case "sctp":
			s.Protocol = 132
		default:
			return nil, fmt.Errorf("bad protocol %q", f[0])
		}
		s.Address = net.ParseIP(f[1])
		if s.Address == nil {
			return nil, fmt.Errorf("bad address %q", f[1])
		}
		if s.Address.To4() == nil {
			s.AddressFamily = syscall.AF_INET6
			s.Netmask = 128
		}
		p, err := strconv.ParseUint(f[2], 10, 16)
		if err != nil {
			return nil, err
		}
		s.Port = uint16(p)
		rest = f[3:]
	}
	if len(rest) > 0 && rest[0] != "" {
		s.SchedName = rest[0]
	}
	if len(rest) > 1 {
		v, err := strconv.ParseUint(rest[1], 0, 32)
		if err != nil {
			return nil, err
		}
		s.Flags = uint32(v)
	}
	if len(rest) > 2 {
		v, err := strconv.ParseUint(rest[2], 10, 32)
		if err != nil {
			return nil, err
		}
		s.Timeout = uint32(v)
	}
	if len(rest) > 3 {
		v, err := strconv.ParseUint(rest[3], 0, 32)
		if err != nil {
			return nil, err
		}
		s.Netmask = uint32(v)
	}
	return s, nil
}

func parseDest(spec string) (*ipvs.Destination, error) {
	f := splitSpec(spec)
	if len(f) < 2 {
		return nil, fmt.Errorf("bad destination %q", spec)
	}
	d := &ipvs.Destination{Weight: 1, ConnectionFlags: ipvs.ConnectionFlagMasq}
	d.Address = net.ParseIP(f[0])
	if d.Address == nil {
		return nil, fmt.Errorf("bad address %q", f[0])
	}
	d.AddressFamily = syscall.AF_INET
	if d.Address.To4() == nil {
		d.AddressFamily = syscall.AF_INET6
	}
	p, err := strconv.ParseUint(f[1], 10, 16)
	if err != nil {
		return nil, err
	}
	d.Port = uint16(p)
	if len(f) > 2 {
		w, err := strconv.Atoi(f[2])
		if err != nil {
			return nil, err
		}
		d.Weight = w
	}
	if len(f) > 3 {
		switch f[3] {
		case "masq":
			d.ConnectionFlags = ipvs.ConnectionFlagMasq
		case "route":
			d.ConnectionFlags = ipvs.ConnectionFlagDirectRoute
		case "tunnel":
			d.ConnectionFlags = ipvs.ConnectionFlagTunnel
		default:
			return nil, fmt.Errorf("bad forwarding method %q", f[3])
		}
	}
	return d, nil
}
