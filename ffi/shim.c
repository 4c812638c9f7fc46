// SPDX-License-Identifier: GPL-2.0
/*
 * What the kernel's Rust bindings cannot reach: the netfilter hook table, the pernet
 * operations, the generic netlink family, the proc files, the sysctl table, the timer and
 * one-line wrappers of static inline functions. No logic lives here; the callbacks named
 * below are the Rust functions ffi::callbacks! (ffi.rs) defines for the module's state.
 */
#include <linux/icmp.h>
#include <linux/ip_vs.h>
#include <linux/random.h>
#include <linux/rculist.h>
#include <linux/seqlock.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/sysctl.h>
#include <net/net_namespace.h>
#include <linux/timer.h>
#include <linux/workqueue.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <net/genetlink.h>
#include <net/gso.h>
#include <net/sctp/checksum.h>
#include <linux/netfilter_ipv6.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/ip6_checksum.h>
#include <net/netfilter/ipv6/nf_defrag_ipv6.h>
#include <net/addrconf.h>
#include <linux/icmpv6.h>
#include <net/icmp.h>
#include <net/ip.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_core.h>
#include <net/netfilter/nf_conntrack_zones.h>
#include <net/gre.h>
#include <net/ip_tunnels.h>
#include <net/udp.h>
#include <net/route.h>
#include <net/checksum.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/seq_file_net.h>
#include <net/netns/generic.h>
#include <linux/kthread.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/isolation.h>
#include <linux/inetdevice.h>
#include <linux/netdevice.h>

/*
 * The hooks' Rust side: the packet, its namespace, the hook point, the namespace's state and
 * the packet's hook flags (rust_ipvs_skb_hook_flags).
 */
unsigned int rust_ipvs_request_hook(struct sk_buff *skb, struct net *net, unsigned int hook,
				    void *ipvs, unsigned int flags);
unsigned int rust_ipvs_reply_hook(struct sk_buff *skb, struct net *net, unsigned int hook,
				  void *ipvs, unsigned int flags);
unsigned int rust_ipvs_forward_icmp_hook(struct sk_buff *skb, struct net *net, unsigned int hook,
					 void *ipvs, unsigned int flags);
int rust_ipvs_net_init(struct net *net);
void rust_ipvs_net_exit(struct net *net);
void rust_ipvs_net_pre_exit(struct net *net);
void rust_ipvs_netdev_down(struct net_device *dev);
int rust_ipvs_genl_doit(struct sk_buff *skb, struct genl_info *info);
int rust_ipvs_proc_services_show(struct seq_file *seq, void *v);
void *rust_ipvs_proc_list_start(struct seq_file *seq, loff_t *pos);
void *rust_ipvs_proc_list_next(struct seq_file *seq, void *v, loff_t *pos);
int rust_ipvs_proc_conns_show(struct seq_file *seq, void *v);
int rust_ipvs_proc_conns_sync_show(struct seq_file *seq, void *v);
int rust_ipvs_proc_stats_show(struct seq_file *seq, void *v);
int rust_ipvs_proc_stats_percpu_show(struct seq_file *seq, void *v);
int rust_ipvs_proc_sync_stats_show(struct seq_file *seq, void *v);
int rust_ipvs_proc_status_show(struct seq_file *seq, void *v);
int rust_ipvs_proc_app_show(struct seq_file *seq, void *v);
void rust_ipvs_tick(struct net *net);
void rust_ipvs_minute(struct net *net);
bool rust_ipvs_resize(struct net *net);
int rust_ipvs_sysctl_write(struct net *net, unsigned int index, int value);
int rust_ipvs_est_cpulist_write(struct net *net, const struct cpumask *cpus);
bool rust_ipvs_est_cpulist_read(struct net *net, struct cpumask *cpus);
int rust_ipvs_genl_dumpit(struct sk_buff *skb, struct netlink_callback *cb);

/* Called from Rust (ffi/shim.rs). */
int rust_ipvs_register_hooks(struct net *net, bool v6);
void rust_ipvs_unregister_hooks(struct net *net, bool v6);
int rust_ipvs_register_pernet(void);
void rust_ipvs_unregister_pernet(void);
void **rust_ipvs_net_slot(struct net *net);
int rust_ipvs_genl_register(void);
void rust_ipvs_genl_unregister(void);
int rust_ipvs_parse_service(struct nlattr **tb, const struct nlattr *nla);
int rust_ipvs_parse_dest(struct nlattr **tb, const struct nlattr *nla);
int rust_ipvs_parse_daemon(struct nlattr **tb, const struct nlattr *nla);
int rust_ipvs_parse_dump_request(struct nlattr **tb, struct netlink_callback *cb);
u8 rust_ipvs_info_cmd(const struct genl_info *info);
struct nlattr *rust_ipvs_info_attr(const struct genl_info *info, int type);
struct net *rust_ipvs_info_net(const struct genl_info *info);
u8 rust_ipvs_dump_cmd(struct netlink_callback *cb);
struct net *rust_ipvs_skb_net(const struct sk_buff *skb);
long *rust_ipvs_dump_args(struct netlink_callback *cb);
struct sk_buff *rust_ipvs_genlmsg_new(void);
void *rust_ipvs_genlmsg_put_reply(struct sk_buff *skb, struct genl_info *info, u8 cmd);
void *rust_ipvs_genlmsg_put_dump(struct sk_buff *skb, struct netlink_callback *cb, u8 cmd);
void rust_ipvs_genlmsg_end(struct sk_buff *skb, void *hdr);
void rust_ipvs_genlmsg_cancel(struct sk_buff *skb, void *hdr);
int rust_ipvs_genlmsg_reply(struct sk_buff *skb, struct genl_info *info);
void rust_ipvs_nlmsg_free(struct sk_buff *skb);
struct nlattr *rust_ipvs_nla_nest_start(struct sk_buff *skb, int type);
void rust_ipvs_nla_nest_end(struct sk_buff *skb, struct nlattr *start);
void rust_ipvs_nla_nest_cancel(struct sk_buff *skb, struct nlattr *start);
unsigned int rust_ipvs_skb_len(const struct sk_buff *skb);
int rust_ipvs_proc_register(struct net *net);
void rust_ipvs_proc_unregister(struct net *net);
struct net *rust_ipvs_seq_net(struct seq_file *seq);
struct net *rust_ipvs_seq_file_net(struct seq_file *seq);
void rust_ipvs_skb_set_ipvs_property(struct sk_buff *skb);
extern const size_t rust_ipvs_skb_refdst_at;
bool rust_ipvs_skb_from_local(const struct sk_buff *skb);
u32 rust_ipvs_skb_mark(const struct sk_buff *skb);
extern const size_t rust_ipvs_skb_network_header_at;
bool rust_ipvs_skb_csum_partial(const struct sk_buff *skb);
void rust_ipvs_skb_set_csum_unnecessary(struct sk_buff *skb);
bool rust_ipvs_skb_is_gso(const struct sk_buff *skb);
void rust_ipvs_sctp_nat_csum(struct sk_buff *skb, unsigned int off);
bool rust_ipvs_skb_dst_sctp_crc(const struct sk_buff *skb);
bool rust_ipvs_dst_sctp_crc(const struct dst_entry *dst);
bool rust_ipvs_skb_rt_is_input(const struct sk_buff *skb);
bool rust_ipvs_rt_sctp_crc(const struct rtable *rt);
void rust_ipvs_ip_send_check(void *iph);
bool rust_ipvs_skb_ct_confirmed(const struct sk_buff *skb);
void rust_ipvs_skb_notrack(struct sk_buff *skb);
void rust_ipvs_ct_alter_reply(struct sk_buff *skb, bool outin, const union nf_inet_addr *addr,
			      __be16 port);
bool rust_ipvs_skb_csum_ok(struct sk_buff *skb, unsigned int off, u8 proto, u16 af);
void rust_ipvs_icmpv6_update_csum(struct sk_buff *skb, unsigned int off);
void rust_ipvs_icmp_update_csum(struct sk_buff *skb, unsigned int off);
struct nf_conn *rust_ipvs_ct_find(struct net *net, u16 af, u8 protocol,
				  const union nf_inet_addr *caddr, __be16 cport,
				  const union nf_inet_addr *vaddr, __be16 vport);
void rust_ipvs_ct_kill(struct nf_conn *ct);
void rust_ipvs_ct_put(struct nf_conn *ct);
struct rtable *rust_ipvs_route_output(struct net *net, __be32 daddr, bool known_nh, bool connect,
				      __be32 *saddr);
bool rust_ipvs_skb_rt_is_local(const struct sk_buff *skb);
unsigned int rust_ipvs_rt_ll_reserved(const struct rtable *rt);
unsigned int rust_ipvs_dst_ll_reserved(const struct dst_entry *dst);
void rust_ipvs_maybe_update_pmtu(struct sk_buff *skb, unsigned int mtu);
struct sk_buff *rust_ipvs_skb_tunnel_headroom(struct sk_buff *skb, unsigned int max_headroom);
int rust_ipvs_iptunnel_handle_offloads(struct sk_buff *skb, int gso_type);
void rust_ipvs_skb_tunnel_inner(struct sk_buff *skb, u8 inner_proto);
unsigned int rust_ipvs_skb_headroom(const struct sk_buff *skb);
void rust_ipvs_skb_push_transport(struct sk_buff *skb, unsigned int len);
void rust_ipvs_skb_push_network(struct sk_buff *skb, unsigned int len);
int rust_ipvs_skb_csum_start_offset(const struct sk_buff *skb);
u16 rust_ipvs_skb_csum_offset(const struct sk_buff *skb);
void rust_ipvs_skb_remcsum_done(struct sk_buff *skb);
void rust_ipvs_udp_set_csum(bool nocheck, struct sk_buff *skb, __be32 saddr, __be32 daddr, int len);
void rust_ipvs_udp6_set_csum(bool nocheck, struct sk_buff *skb, const struct in6_addr *saddr,
			     const struct in6_addr *daddr, int len);
void rust_ipvs_gre_build_header(struct sk_buff *skb, bool csum, __be16 proto);
void rust_ipvs_kfree_skb(struct sk_buff *skb);
int rust_ipvs_gather_frags(struct net *net, struct sk_buff *skb, unsigned int hooknum);
__be16 rust_ipvs_udp_flow_src_port(struct net *net, struct sk_buff *skb);
void rust_ipvs_ip_select_ident(struct net *net, struct sk_buff *skb);
void rust_ipvs_tunnel_send(struct net *net, struct sk_buff *skb, bool nfct, bool v6);
bool rust_ipvs_rt_is_local(const struct rtable *rt);
unsigned int rust_ipvs_rt_mtu(const struct rtable *rt);
void rust_ipvs_skb_attach_dst(struct sk_buff *skb, struct dst_entry *dst, bool noref);
void rust_ipvs_dst_link_failure(struct sk_buff *skb);
bool rust_ipvs_skb_exceeds_mtu(const struct sk_buff *skb, unsigned int mtu);
int rust_ipvs_send_local_out(struct net *net, struct sk_buff *skb);
struct dst_entry *rust_ipvs_route_output6(struct net *net, const struct in6_addr *daddr,
					  bool known_nh, struct in6_addr *saddr);
bool rust_ipvs_dst_is_local6(const struct dst_entry *dst);
unsigned int rust_ipvs_dst_mtu(const struct dst_entry *dst);
void rust_ipvs_dst_release(struct dst_entry *dst);
struct dst_entry *rust_ipvs_rt_dst(struct rtable *rt);
struct rtable *rust_ipvs_dst_rtable(struct dst_entry *dst);
void rust_ipvs_dst_hold(struct dst_entry *dst);
bool rust_ipvs_dst_check(struct dst_entry *dst, u32 cookie);
bool rust_ipvs_dst_dev_is_down(struct dst_entry *dst);
bool rust_ipvs_dst_dev_is(const struct dst_entry *dst, const struct net_device *dev);
u32 rust_ipvs_dst_rt6_cookie(struct dst_entry *dst);
struct net *rust_ipvs_dev_net(const struct net_device *dev);
int rust_ipvs_register_netdev_notifier(void);
void rust_ipvs_unregister_netdev_notifier(void);
bool rust_ipvs_skb_dst_is_local6(const struct sk_buff *skb);
int rust_ipvs_send_local_out6(struct net *net, struct sk_buff *skb);
void rust_ipvs_icmpv6_send(struct net *net, struct sk_buff *skb, u8 type, u8 code, u32 info,
			   bool output_dev);
void rust_ipvs_dst_link_failure6(struct sk_buff *skb);
bool rust_ipvs_skb_exceeds_mtu6(const struct sk_buff *skb, unsigned int mtu);
void rust_ipvs_l4_csum_replace16(struct sk_buff *skb, unsigned int off, const __be32 *from,
				 const __be32 *to);
int rust_ipvs_route_me_harder6(struct net *net, struct sk_buff *skb);
void rust_ipvs_udp_csum_full(struct sk_buff *skb, unsigned int off, const union nf_inet_addr *saddr,
			     const union nf_inet_addr *daddr, bool v6);
void rust_ipvs_icmp_send(struct sk_buff *skb, int type, int code, __be32 info);
void rust_ipvs_consume_skb(struct sk_buff *skb);
int rust_ipvs_skb_pull_network(struct sk_buff *skb, unsigned int len, unsigned int linear);
void rust_ipvs_skb_set_transport_header(struct sk_buff *skb, int offset);
void rust_ipvs_ipv4_update_pmtu(struct net *net, struct sk_buff *skb, u32 mtu);
int rust_ipvs_route_me_harder(struct net *net, struct sk_buff *skb);
bool rust_ipvs_port_requires_bind_service(struct net *net, unsigned short port);
unsigned int rust_ipvs_inet_addr_type(struct net *net, __be32 addr);
int rust_ipvs_nf_defrag_ipv6_enable(struct net *net);
void rust_ipvs_seqcount_init(seqcount_t *s);
void *rust_ipvs_alloc_percpu(size_t size, size_t align);
void rust_ipvs_this_cpu_add_u64(u64 *p, u64 v);
void rust_ipvs_write_seqcount_begin(seqcount_t *s);
void rust_ipvs_write_seqcount_end(seqcount_t *s);
unsigned long rust_ipvs_totalram_pages(void);
void rust_ipvs_cond_resched(void);
struct task_struct *rust_ipvs_kthread_run(int (*fn)(void *), void *data, char kind, int gen,
					  int id, int nice, const struct cpumask *preferred);
void rust_ipvs_set_current_interruptible(void);
void rust_ipvs_set_current_idle(void);
void rust_ipvs_set_current_running(void);
bool rust_ipvs_sock_readable(struct socket *sock);
void rust_ipvs_sock_wait_readable(struct socket *sock);
void rust_ipvs_sock_wait_writable(struct socket *sock);
int rust_ipvs_sock_setsockopt(struct socket *sock, int level, int name, void *val, unsigned int len);
int rust_ipvs_sock_send(struct socket *sock, const void *buf, size_t len);
int rust_ipvs_sock_recv(struct socket *sock, void *buf, size_t len);
int rust_ipvs_dev_lookup(struct net *net, const char *name, int *ifindex, unsigned int *mtu,
			 __be32 *addr);
unsigned long rust_ipvs_nr_free_buffer_pages(void);
bool rust_ipvs_net_is_init(const struct net *net);
void rust_ipvs_hlist_add_head_rcu(struct hlist_node *n, struct hlist_head *h);
void rust_ipvs_hlist_del_rcu(struct hlist_node *n);
void rust_ipvs_hlist_add_head(struct hlist_node *n, struct hlist_head *h);
void rust_ipvs_hlist_del_init(struct hlist_node *n);
void rust_ipvs_hlist_move_list(struct hlist_head *old, struct hlist_head *new);
void rust_ipvs_spin_lock_bh(spinlock_t *lock);
void rust_ipvs_spin_unlock_bh(spinlock_t *lock);
int rust_ipvs_spin_trylock_bh(spinlock_t *lock);
struct rust_ipvs_gc *rust_ipvs_gc_start(struct net *net);
void rust_ipvs_gc_resize(struct rust_ipvs_gc *gc);
void rust_ipvs_gc_stop(struct rust_ipvs_gc *gc);
void rust_ipvs_gc_free(struct rust_ipvs_gc *gc);
int rust_ipvs_sysctl_register(struct net *net, int *const *data, unsigned int n, u64 read_only,
			      struct ctl_table_header **hdr);
void rust_ipvs_sysctl_unregister(struct ctl_table_header *hdr);

static unsigned int rust_ipvs_net_id;

/* This module's pointer-sized net_generic() slot of namespace `net`. */
static inline void **rust_ipvs_slot(struct net *net)
{
	return net_generic(net, rust_ipvs_net_id);
}

/* This module's state of namespace `net`: what its slot holds. */
#define RUST_IPVS_STATE(net) (*rust_ipvs_slot(net))

/* The hook entries (ip_vs_in_hook, ip_vs_out_hook, ip_vs_forward_icmp): one call into Rust each. */
/* What every hook checks first, bit-packed: pkt_type, ipvs_property (bit 8), a route (bit 9). */
static inline unsigned int rust_ipvs_skb_hook_flags(const struct sk_buff *skb)
{
	return skb->pkt_type | skb->ipvs_property << 8 | (skb_dst(skb) != NULL) << 9;
}

static unsigned int rust_ipvs_in_hook(void *priv, struct sk_buff *skb,
				      const struct nf_hook_state *state)
{
	return rust_ipvs_request_hook(skb, state->net, state->hook, RUST_IPVS_STATE(state->net),
				      rust_ipvs_skb_hook_flags(skb));
}

static unsigned int rust_ipvs_out_hook(void *priv, struct sk_buff *skb,
				       const struct nf_hook_state *state)
{
	return rust_ipvs_reply_hook(skb, state->net, state->hook, RUST_IPVS_STATE(state->net),
				    rust_ipvs_skb_hook_flags(skb));
}

static unsigned int rust_ipvs_forward_icmp(void *priv, struct sk_buff *skb,
					   const struct nf_hook_state *state)
{
	return rust_ipvs_forward_icmp_hook(skb, state->net, state->hook,
					   RUST_IPVS_STATE(state->net), rust_ipvs_skb_hook_flags(skb));
}

/* The C ip_vs hook set and priorities (ip_vs_core.c: ip_vs_ops4). */
static const struct nf_hook_ops rust_ipvs_ops4[] = {
	/* Replies from a NAT real server to a local client: SNAT back to the VIP. */
	{ .hook = rust_ipvs_out_hook, .pf = NFPROTO_IPV4, .hooknum = NF_INET_LOCAL_IN,
	  .priority = NF_IP_PRI_NAT_SRC - 2 },
	/* Requests from remote clients: schedule and transmit. */
	{ .hook = rust_ipvs_in_hook, .pf = NFPROTO_IPV4, .hooknum = NF_INET_LOCAL_IN,
	  .priority = NF_IP_PRI_NAT_SRC - 1 },
	/* Replies from a local real server. */
	{ .hook = rust_ipvs_out_hook, .pf = NFPROTO_IPV4, .hooknum = NF_INET_LOCAL_OUT,
	  .priority = NF_IP_PRI_NAT_DST + 1 },
	/* Requests from host-local clients. */
	{ .hook = rust_ipvs_in_hook, .pf = NFPROTO_IPV4, .hooknum = NF_INET_LOCAL_OUT,
	  .priority = NF_IP_PRI_NAT_DST + 2 },
	/* ICMP errors about IPVS connections that are routed through the director. */
	{ .hook = rust_ipvs_forward_icmp, .pf = NFPROTO_IPV4, .hooknum = NF_INET_FORWARD,
	  .priority = 99 },
	/* Routed replies from NAT real servers to remote clients. */
	{ .hook = rust_ipvs_out_hook, .pf = NFPROTO_IPV4, .hooknum = NF_INET_FORWARD,
	  .priority = 100 },
};

/* The same for IPv6 (ip_vs_ops6). */
static const struct nf_hook_ops rust_ipvs_ops6[] = {
	{ .hook = rust_ipvs_out_hook, .pf = NFPROTO_IPV6, .hooknum = NF_INET_LOCAL_IN,
	  .priority = NF_IP6_PRI_NAT_SRC - 2 },
	{ .hook = rust_ipvs_in_hook, .pf = NFPROTO_IPV6, .hooknum = NF_INET_LOCAL_IN,
	  .priority = NF_IP6_PRI_NAT_SRC - 1 },
	{ .hook = rust_ipvs_out_hook, .pf = NFPROTO_IPV6, .hooknum = NF_INET_LOCAL_OUT,
	  .priority = NF_IP6_PRI_NAT_DST + 1 },
	{ .hook = rust_ipvs_in_hook, .pf = NFPROTO_IPV6, .hooknum = NF_INET_LOCAL_OUT,
	  .priority = NF_IP6_PRI_NAT_DST + 2 },
	{ .hook = rust_ipvs_forward_icmp, .pf = NFPROTO_IPV6, .hooknum = NF_INET_FORWARD,
	  .priority = 99 },
	{ .hook = rust_ipvs_out_hook, .pf = NFPROTO_IPV6, .hooknum = NF_INET_FORWARD,
	  .priority = 100 },
};

/* ip_vs_register_hooks(): the IPv4 or the IPv6 hook set. */
int rust_ipvs_register_hooks(struct net *net, bool v6)
{
	if (v6)
		return nf_register_net_hooks(net, rust_ipvs_ops6, ARRAY_SIZE(rust_ipvs_ops6));
	return nf_register_net_hooks(net, rust_ipvs_ops4, ARRAY_SIZE(rust_ipvs_ops4));
}

/* ip_vs_unregister_hooks() */
void rust_ipvs_unregister_hooks(struct net *net, bool v6)
{
	if (v6)
		nf_unregister_net_hooks(net, rust_ipvs_ops6, ARRAY_SIZE(rust_ipvs_ops6));
	else
		nf_unregister_net_hooks(net, rust_ipvs_ops4, ARRAY_SIZE(rust_ipvs_ops4));
}

static struct pernet_operations rust_ipvs_net_ops = {
	.init = rust_ipvs_net_init,
	/* Before the namespace's devices go (C stops its sync daemons in its device ops). */
	.pre_exit = rust_ipvs_net_pre_exit,
	.exit = rust_ipvs_net_exit,
	.id = &rust_ipvs_net_id,
	.size = sizeof(void *),
};

int rust_ipvs_register_pernet(void)
{
	return register_pernet_subsys(&rust_ipvs_net_ops);
}

void rust_ipvs_unregister_pernet(void)
{
	unregister_pernet_subsys(&rust_ipvs_net_ops);
}

void **rust_ipvs_net_slot(struct net *net)
{
	return rust_ipvs_slot(net);
}

/* The "IPVS" generic netlink family: policies and ops as ip_vs_ctl.c has them. */

static const struct nla_policy rust_ipvs_cmd_policy[IPVS_CMD_ATTR_MAX + 1] = {
	[IPVS_CMD_ATTR_SERVICE]		= { .type = NLA_NESTED },
	[IPVS_CMD_ATTR_DEST]		= { .type = NLA_NESTED },
	[IPVS_CMD_ATTR_DAEMON]		= { .type = NLA_NESTED },
	[IPVS_CMD_ATTR_TIMEOUT_TCP]	= { .type = NLA_U32 },
	[IPVS_CMD_ATTR_TIMEOUT_TCP_FIN]	= { .type = NLA_U32 },
	[IPVS_CMD_ATTR_TIMEOUT_UDP]	= { .type = NLA_U32 },
};

static const struct nla_policy rust_ipvs_daemon_policy[IPVS_DAEMON_ATTR_MAX + 1] = {
	[IPVS_DAEMON_ATTR_STATE]	= { .type = NLA_U32 },
	[IPVS_DAEMON_ATTR_MCAST_IFN]	= { .type = NLA_NUL_STRING, .len = IP_VS_IFNAME_MAXLEN - 1 },
	[IPVS_DAEMON_ATTR_SYNC_ID]	= { .type = NLA_U32 },
	[IPVS_DAEMON_ATTR_SYNC_MAXLEN]	= { .type = NLA_U16 },
	[IPVS_DAEMON_ATTR_MCAST_GROUP]	= { .type = NLA_U32 },
	[IPVS_DAEMON_ATTR_MCAST_GROUP6]	= { .len = sizeof(struct in6_addr) },
	[IPVS_DAEMON_ATTR_MCAST_PORT]	= { .type = NLA_U16 },
	[IPVS_DAEMON_ATTR_MCAST_TTL]	= { .type = NLA_U8 },
};

static const struct nla_policy rust_ipvs_svc_policy[IPVS_SVC_ATTR_MAX + 1] = {
	[IPVS_SVC_ATTR_AF]		= { .type = NLA_U16 },
	[IPVS_SVC_ATTR_PROTOCOL]	= { .type = NLA_U16 },
	[IPVS_SVC_ATTR_ADDR]		= { .type = NLA_BINARY, .len = sizeof(union nf_inet_addr) },
	[IPVS_SVC_ATTR_PORT]		= { .type = NLA_U16 },
	[IPVS_SVC_ATTR_FWMARK]		= { .type = NLA_U32 },
	[IPVS_SVC_ATTR_SCHED_NAME]	= { .type = NLA_NUL_STRING, .len = IP_VS_SCHEDNAME_MAXLEN - 1 },
	[IPVS_SVC_ATTR_PE_NAME]		= { .type = NLA_NUL_STRING, .len = IP_VS_PENAME_MAXLEN },
	[IPVS_SVC_ATTR_FLAGS]		= { .type = NLA_BINARY, .len = sizeof(struct ip_vs_flags) },
	[IPVS_SVC_ATTR_TIMEOUT]		= { .type = NLA_U32 },
	[IPVS_SVC_ATTR_NETMASK]		= { .type = NLA_U32 },
	[IPVS_SVC_ATTR_STATS]		= { .type = NLA_NESTED },
};

static const struct nla_policy rust_ipvs_dest_policy[IPVS_DEST_ATTR_MAX + 1] = {
	[IPVS_DEST_ATTR_ADDR]		= { .type = NLA_BINARY, .len = sizeof(union nf_inet_addr) },
	[IPVS_DEST_ATTR_PORT]		= { .type = NLA_U16 },
	[IPVS_DEST_ATTR_FWD_METHOD]	= { .type = NLA_U32 },
	[IPVS_DEST_ATTR_WEIGHT]		= { .type = NLA_U32 },
	[IPVS_DEST_ATTR_U_THRESH]	= { .type = NLA_U32 },
	[IPVS_DEST_ATTR_L_THRESH]	= { .type = NLA_U32 },
	[IPVS_DEST_ATTR_ACTIVE_CONNS]	= { .type = NLA_U32 },
	[IPVS_DEST_ATTR_INACT_CONNS]	= { .type = NLA_U32 },
	[IPVS_DEST_ATTR_PERSIST_CONNS]	= { .type = NLA_U32 },
	[IPVS_DEST_ATTR_STATS]		= { .type = NLA_NESTED },
	[IPVS_DEST_ATTR_ADDR_FAMILY]	= { .type = NLA_U16 },
	[IPVS_DEST_ATTR_TUN_TYPE]	= { .type = NLA_U8 },
	[IPVS_DEST_ATTR_TUN_PORT]	= { .type = NLA_U16 },
	[IPVS_DEST_ATTR_TUN_FLAGS]	= { .type = NLA_U16 },
};

#define RUST_IPVS_OP(c, d, du) {						\
	.cmd = (c), .validate = GENL_DONT_VALIDATE_STRICT | GENL_DONT_VALIDATE_DUMP,	\
	.flags = GENL_ADMIN_PERM, .doit = (d), .dumpit = (du) }

static const struct genl_small_ops rust_ipvs_genl_ops[] = {
	RUST_IPVS_OP(IPVS_CMD_NEW_SERVICE, rust_ipvs_genl_doit, NULL),
	RUST_IPVS_OP(IPVS_CMD_SET_SERVICE, rust_ipvs_genl_doit, NULL),
	RUST_IPVS_OP(IPVS_CMD_DEL_SERVICE, rust_ipvs_genl_doit, NULL),
	RUST_IPVS_OP(IPVS_CMD_GET_SERVICE, rust_ipvs_genl_doit, rust_ipvs_genl_dumpit),
	RUST_IPVS_OP(IPVS_CMD_NEW_DEST, rust_ipvs_genl_doit, NULL),
	RUST_IPVS_OP(IPVS_CMD_SET_DEST, rust_ipvs_genl_doit, NULL),
	RUST_IPVS_OP(IPVS_CMD_DEL_DEST, rust_ipvs_genl_doit, NULL),
	RUST_IPVS_OP(IPVS_CMD_GET_DEST, NULL, rust_ipvs_genl_dumpit),
	RUST_IPVS_OP(IPVS_CMD_NEW_DAEMON, rust_ipvs_genl_doit, NULL),
	RUST_IPVS_OP(IPVS_CMD_DEL_DAEMON, rust_ipvs_genl_doit, NULL),
	RUST_IPVS_OP(IPVS_CMD_GET_DAEMON, NULL, rust_ipvs_genl_dumpit),
	RUST_IPVS_OP(IPVS_CMD_SET_CONFIG, rust_ipvs_genl_doit, NULL),
	RUST_IPVS_OP(IPVS_CMD_GET_CONFIG, rust_ipvs_genl_doit, NULL),
	RUST_IPVS_OP(IPVS_CMD_GET_INFO, rust_ipvs_genl_doit, NULL),
	RUST_IPVS_OP(IPVS_CMD_ZERO, rust_ipvs_genl_doit, NULL),
	RUST_IPVS_OP(IPVS_CMD_FLUSH, rust_ipvs_genl_doit, NULL),
};

static struct genl_family rust_ipvs_genl_family __ro_after_init = {
	.hdrsize	= 0,
	.name		= IPVS_GENL_NAME,
	.version	= IPVS_GENL_VERSION,
	.maxattr	= IPVS_CMD_ATTR_MAX,
	.policy		= rust_ipvs_cmd_policy,
	.netnsok	= true,
	.module		= THIS_MODULE,
	.small_ops	= rust_ipvs_genl_ops,
	.n_small_ops	= ARRAY_SIZE(rust_ipvs_genl_ops),
	.resv_start_op	= IPVS_CMD_FLUSH + 1,
	.parallel_ops	= 1,
};

int rust_ipvs_genl_register(void)
{
	return genl_register_family(&rust_ipvs_genl_family);
}

void rust_ipvs_genl_unregister(void)
{
	genl_unregister_family(&rust_ipvs_genl_family);
}

int rust_ipvs_parse_service(struct nlattr **tb, const struct nlattr *nla)
{
	return nla_parse_nested_deprecated(tb, IPVS_SVC_ATTR_MAX, nla, rust_ipvs_svc_policy, NULL);
}

int rust_ipvs_parse_dest(struct nlattr **tb, const struct nlattr *nla)
{
	return nla_parse_nested_deprecated(tb, IPVS_DEST_ATTR_MAX, nla, rust_ipvs_dest_policy, NULL);
}

int rust_ipvs_parse_daemon(struct nlattr **tb, const struct nlattr *nla)
{
	return nla_parse_nested_deprecated(tb, IPVS_DAEMON_ATTR_MAX, nla, rust_ipvs_daemon_policy, NULL);
}

int rust_ipvs_parse_dump_request(struct nlattr **tb, struct netlink_callback *cb)
{
	return nlmsg_parse_deprecated(cb->nlh, GENL_HDRLEN, tb, IPVS_CMD_ATTR_MAX,
				      rust_ipvs_cmd_policy, cb->extack);
}

u8 rust_ipvs_info_cmd(const struct genl_info *info)
{
	return info->genlhdr->cmd;
}

struct nlattr *rust_ipvs_info_attr(const struct genl_info *info, int type)
{
	return info->attrs[type];
}

struct net *rust_ipvs_info_net(const struct genl_info *info)
{
	return genl_info_net(info);
}

u8 rust_ipvs_dump_cmd(struct netlink_callback *cb)
{
	return genl_dumpit_info(cb)->op.cmd;
}

struct net *rust_ipvs_skb_net(const struct sk_buff *skb)
{
	return sock_net(skb->sk);
}

long *rust_ipvs_dump_args(struct netlink_callback *cb)
{
	return cb->args;
}

struct sk_buff *rust_ipvs_genlmsg_new(void)
{
	return genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
}

void *rust_ipvs_genlmsg_put_reply(struct sk_buff *skb, struct genl_info *info, u8 cmd)
{
	return genlmsg_put_reply(skb, info, &rust_ipvs_genl_family, 0, cmd);
}

void *rust_ipvs_genlmsg_put_dump(struct sk_buff *skb, struct netlink_callback *cb, u8 cmd)
{
	return genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			   &rust_ipvs_genl_family, NLM_F_MULTI, cmd);
}

void rust_ipvs_genlmsg_end(struct sk_buff *skb, void *hdr)
{
	genlmsg_end(skb, hdr);
}

void rust_ipvs_genlmsg_cancel(struct sk_buff *skb, void *hdr)
{
	genlmsg_cancel(skb, hdr);
}

int rust_ipvs_genlmsg_reply(struct sk_buff *skb, struct genl_info *info)
{
	return genlmsg_reply(skb, info);
}

void rust_ipvs_nlmsg_free(struct sk_buff *skb)
{
	nlmsg_free(skb);
}

struct nlattr *rust_ipvs_nla_nest_start(struct sk_buff *skb, int type)
{
	return nla_nest_start_noflag(skb, type);
}

void rust_ipvs_nla_nest_end(struct sk_buff *skb, struct nlattr *start)
{
	nla_nest_end(skb, start);
}

void rust_ipvs_nla_nest_cancel(struct sk_buff *skb, struct nlattr *start)
{
	nla_nest_cancel(skb, start);
}

unsigned int rust_ipvs_skb_len(const struct sk_buff *skb)
{
	return skb->len;
}

/*
 * /proc/net files, per namespace (ffi/proc.rs): single "show" files, and the connection
 * listings, whose records (the header, then one per hash chain) Rust counts and writes one
 * at a time, so that a read holds RCU for one chain and a page of output at once.
 */
static void rust_ipvs_proc_list_stop(struct seq_file *seq, void *v)
{
}

static const struct seq_operations rust_ipvs_conns_seq_ops = {
	.start = rust_ipvs_proc_list_start,
	.next = rust_ipvs_proc_list_next,
	.stop = rust_ipvs_proc_list_stop,
	.show = rust_ipvs_proc_conns_show,
};

static const struct seq_operations rust_ipvs_conns_sync_seq_ops = {
	.start = rust_ipvs_proc_list_start,
	.next = rust_ipvs_proc_list_next,
	.stop = rust_ipvs_proc_list_stop,
	.show = rust_ipvs_proc_conns_sync_show,
};

void rust_ipvs_proc_unregister(struct net *net)
{
	remove_proc_entry("ip_vs_app", net->proc_net);
	remove_proc_entry("ip_vs_status", net->proc_net);
	remove_proc_entry("ip_vs_sync_stats", net->proc_net);
	remove_proc_entry("ip_vs_stats_percpu", net->proc_net);
	remove_proc_entry("ip_vs_stats", net->proc_net);
	remove_proc_entry("ip_vs_conn_sync", net->proc_net);
	remove_proc_entry("ip_vs_conn", net->proc_net);
	remove_proc_entry("ip_vs", net->proc_net);
}

int rust_ipvs_proc_register(struct net *net)
{
	if (!proc_create_net_single("ip_vs", 0, net->proc_net, rust_ipvs_proc_services_show, NULL) ||
	    !proc_create_net("ip_vs_conn", 0, net->proc_net, &rust_ipvs_conns_seq_ops,
			     sizeof(struct seq_net_private)) ||
	    !proc_create_net("ip_vs_conn_sync", 0, net->proc_net, &rust_ipvs_conns_sync_seq_ops,
			     sizeof(struct seq_net_private)) ||
	    !proc_create_net_single("ip_vs_stats", 0, net->proc_net, rust_ipvs_proc_stats_show, NULL) ||
	    !proc_create_net_single("ip_vs_stats_percpu", 0, net->proc_net,
				    rust_ipvs_proc_stats_percpu_show, NULL) ||
	    !proc_create_net_single("ip_vs_sync_stats", 0, net->proc_net,
				    rust_ipvs_proc_sync_stats_show, NULL) ||
	    !proc_create_net_single("ip_vs_status", 0440, net->proc_net,
				    rust_ipvs_proc_status_show, NULL) ||
	    !proc_create_net_single("ip_vs_app", 0, net->proc_net, rust_ipvs_proc_app_show,
				    NULL)) {
		rust_ipvs_proc_unregister(net);
		return -ENOMEM;
	}
	return 0;
}

struct net *rust_ipvs_seq_net(struct seq_file *seq)
{
	return seq_file_single_net(seq);
}

struct net *rust_ipvs_seq_file_net(struct seq_file *seq)
{
	return seq_file_net(seq);
}

/* Packet access: one-line wrappers of skb fields and static inline helpers. */

void rust_ipvs_skb_set_ipvs_property(struct sk_buff *skb)
{
	skb->ipvs_property = 1;
}

/* Where `_skb_refdst` lies in struct sk_buff (in an anonymous union, as network_header). */
const size_t rust_ipvs_skb_refdst_at = offsetof(struct sk_buff, _skb_refdst);
static_assert(sizeof_field(struct sk_buff, _skb_refdst) == sizeof(unsigned long));

/* ip_vs_schedule: "!skb->dev || skb->dev->flags & IFF_LOOPBACK" (a local sender). */
bool rust_ipvs_skb_from_local(const struct sk_buff *skb)
{
	return !skb->dev || (skb->dev->flags & IFF_LOOPBACK);
}

u32 rust_ipvs_skb_mark(const struct sk_buff *skb)
{
	return skb->mark;
}

/*
 * Where `network_header` lies in struct sk_buff: it is in the `headers` struct group, an
 * anonymous union that bindgen names by its position, which changes between kernels.
 */
const size_t rust_ipvs_skb_network_header_at = offsetof(struct sk_buff, network_header);
static_assert(sizeof_field(struct sk_buff, network_header) == sizeof(u16));

bool rust_ipvs_skb_csum_partial(const struct sk_buff *skb)
{
	return skb->ip_summed == CHECKSUM_PARTIAL;
}

void rust_ipvs_skb_set_csum_unnecessary(struct sk_buff *skb)
{
	skb->ip_summed = CHECKSUM_UNNECESSARY;
}

bool rust_ipvs_skb_is_gso(const struct sk_buff *skb)
{
	return skb_is_gso(skb);
}

/* sctp_nat_csum(): the SCTP header at off is writable. */
void rust_ipvs_sctp_nat_csum(struct sk_buff *skb, unsigned int off)
{
	((struct sctphdr *)(skb->data + off))->checksum = sctp_compute_cksum(skb, off);
	skb->ip_summed = CHECKSUM_UNNECESSARY;
}

bool rust_ipvs_skb_dst_sctp_crc(const struct sk_buff *skb)
{
	return skb_dst(skb)->dev->features & NETIF_F_SCTP_CRC;
}

bool rust_ipvs_rt_sctp_crc(const struct rtable *rt)
{
	return rt->dst.dev->features & NETIF_F_SCTP_CRC;
}

bool rust_ipvs_dst_sctp_crc(const struct dst_entry *dst)
{
	return dst->dev->features & NETIF_F_SCTP_CRC;
}

/* rt_is_input_route() of the packet's route: it came in from a link. */
bool rust_ipvs_skb_rt_is_input(const struct sk_buff *skb)
{
	return rt_is_input_route(skb_rtable(skb));
}

/* ip_vs_checksum_common_check() */
bool rust_ipvs_skb_csum_ok(struct sk_buff *skb, unsigned int off, u8 proto, u16 af)
{
	if (skb_csum_unnecessary(skb) || !skb->dev)
		return true;
	return !nf_checksum(skb, NF_INET_LOCAL_IN, off, proto, af);
}

/* The end of ip_vs_nat_icmp(): recompute the ICMP checksum at off (writable). */
void rust_ipvs_icmp_update_csum(struct sk_buff *skb, unsigned int off)
{
	struct icmphdr *ic = (struct icmphdr *)(skb->data + off);

	ic->checksum = 0;
	ic->checksum = csum_fold(skb_checksum(skb, off, skb->len - off, 0));
	skb->ip_summed = CHECKSUM_UNNECESSARY;
}

void rust_ipvs_ip_send_check(void *iph)
{
	ip_send_check(iph);
}

bool rust_ipvs_skb_ct_confirmed(const struct sk_buff *skb)
{
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct = nf_ct_get(skb, &ctinfo);

	return ct && nf_ct_is_confirmed(ct);
}

/* ip_vs_notrack() */
void rust_ipvs_skb_notrack(struct sk_buff *skb)
{
	nf_reset_ct(skb);
	nf_ct_set(skb, NULL, IP_CT_UNTRACKED);
}

/*
 * The reply-tuple edit of ip_vs_update_conntrack(): an unconfirmed conntrack entry in the
 * original direction gets the real server (outin) or the virtual service as its reply peer.
 */
void rust_ipvs_ct_alter_reply(struct sk_buff *skb, bool outin, const union nf_inet_addr *addr,
			      __be16 port)
{
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct = nf_ct_get(skb, &ctinfo);
	struct nf_conntrack_tuple t;

	if (!ct || nf_ct_is_confirmed(ct) || nf_ct_is_dying(ct) ||
	    CTINFO2DIR(ctinfo) != IP_CT_DIR_ORIGINAL)
		return;
	t = ct->tuplehash[IP_CT_DIR_REPLY].tuple;
	if (outin) {
		t.src.u3 = *addr;
		if (t.dst.protonum != IPPROTO_ICMP && t.dst.protonum != IPPROTO_ICMPV6)
			t.src.u.tcp.port = port;
	} else {
		t.dst.u3 = *addr;
		if (t.dst.protonum != IPPROTO_ICMP && t.dst.protonum != IPPROTO_ICMPV6)
			t.dst.u.tcp.port = port;
	}
	nf_conntrack_alter_reply(ct, &t);
}

/* The lookup of ip_vs_conn_drop_conntrack(): the tuple struct, then nf_conntrack_find_get(). */
struct nf_conn *rust_ipvs_ct_find(struct net *net, u16 af, u8 protocol,
				  const union nf_inet_addr *caddr, __be16 cport,
				  const union nf_inet_addr *vaddr, __be16 vport)
{
	struct nf_conntrack_tuple tuple = {
		.src = { .l3num = af, .u3 = *caddr, .u.all = cport },
		.dst = { .u3 = *vaddr, .u.all = vport, .protonum = protocol,
			 .dir = IP_CT_DIR_ORIGINAL },
	};
	struct nf_conntrack_tuple_hash *h = nf_conntrack_find_get(net, &nf_ct_zone_dflt, &tuple);

	return h ? nf_ct_tuplehash_to_ctrack(h) : NULL;
}

void rust_ipvs_ct_kill(struct nf_conn *ct)
{
	nf_ct_kill(ct);
}

void rust_ipvs_ct_put(struct nf_conn *ct)
{
	nf_ct_put(ct);
}

/* do_output_route4() for a NAT destination: a route or an ERR_PTR. */
/*
 * do_output_route4(): the route to daddr, with daddr as the next hop when known_nh, bound to
 * the source address it chose when connect; that source is stored in *saddr.
 */
struct rtable *rust_ipvs_route_output(struct net *net, __be32 daddr, bool known_nh, bool connect,
				      __be32 *saddr)
{
	struct flowi4 fl4 = { .daddr = daddr, .flowi4_flags = known_nh ? FLOWI_FLAG_KNOWN_NH : 0 };
	struct rtable *rt;

	rt = ip_route_output_key(net, &fl4);
	if (!IS_ERR(rt) && connect && fl4.saddr) {
		ip_rt_put(rt);
		flowi4_update_output(&fl4, 0, daddr, fl4.saddr);
		rt = ip_route_output_key(net, &fl4);
	}
	*saddr = fl4.saddr;
	return rt;
}

/* The RTCF_LOCAL of the packet's current route (crosses_local_route_boundary()). */
bool rust_ipvs_skb_rt_is_local(const struct sk_buff *skb)
{
	return skb_rtable(skb)->rt_flags & RTCF_LOCAL;
}

/* LL_RESERVED_SPACE() of the route's device. */
unsigned int rust_ipvs_rt_ll_reserved(const struct rtable *rt)
{
	return LL_RESERVED_SPACE(rt->dst.dev);
}

/* LL_RESERVED_SPACE() of the (IPv6) route's device. */
unsigned int rust_ipvs_dst_ll_reserved(const struct dst_entry *dst)
{
	return LL_RESERVED_SPACE(dst->dev);
}

/* maybe_update_pmtu(): a local socket's route learns the tunnel's smaller MTU. */
void rust_ipvs_maybe_update_pmtu(struct sk_buff *skb, unsigned int mtu)
{
	struct sock *sk = skb->sk;
	struct dst_entry *ort = skb_dst(skb);

	if (!skb->dev && sk && sk_fullsock(sk))
		ort->ops->update_pmtu(ort, sk, NULL, mtu, true);
}

/*
 * The skb half of ip_vs_prepare_tunneled_skb(): drop the early-demux socket, then make the
 * head private with max_headroom bytes in front. Returns the packet to send on, or NULL
 * after freeing it.
 */
struct sk_buff *rust_ipvs_skb_tunnel_headroom(struct sk_buff *skb, unsigned int max_headroom)
{
	struct sk_buff *new_skb;

	if (skb->dev)
		skb_orphan(skb);
	if (skb_headroom(skb) >= max_headroom && !skb_cloned(skb))
		return skb;
	new_skb = skb_realloc_headroom(skb, max_headroom);
	if (new_skb && skb->sk)
		skb_set_owner_w(new_skb, skb->sk);
	if (new_skb)
		consume_skb(skb);
	else
		kfree_skb(skb);
	return new_skb;
}

/* iptunnel_handle_offloads(), freeing the skb when it fails (the tx_error of the caller). */
int rust_ipvs_iptunnel_handle_offloads(struct sk_buff *skb, int gso_type)
{
	int err = iptunnel_handle_offloads(skb, gso_type);

	if (err)
		kfree_skb(skb);
	return err;
}

/* The inner headers of ip_vs_tunnel_xmit(): the packet as it is, of protocol inner_proto. */
void rust_ipvs_skb_tunnel_inner(struct sk_buff *skb, u8 inner_proto)
{
	skb->transport_header = skb->network_header;
	skb_set_inner_ipproto(skb, inner_proto);
	skb_set_inner_mac_header(skb, skb_inner_network_offset(skb));
}

/* skb_headroom() */
unsigned int rust_ipvs_skb_headroom(const struct sk_buff *skb)
{
	return skb_headroom(skb);
}

/* skb_push() of a new transport header (an encapsulation header). */
void rust_ipvs_skb_push_transport(struct sk_buff *skb, unsigned int len)
{
	skb_push(skb, len);
	skb_reset_transport_header(skb);
}

/* skb_push() of a new network header, with its IP control block cleared. */
void rust_ipvs_skb_push_network(struct sk_buff *skb, unsigned int len)
{
	skb_push(skb, len);
	skb_reset_network_header(skb);
	memset(&(IPCB(skb)->opt), 0, sizeof(IPCB(skb)->opt));
}

/* skb_checksum_start_offset() */
int rust_ipvs_skb_csum_start_offset(const struct sk_buff *skb)
{
	return skb_checksum_start_offset(skb);
}

/* skb->csum_offset */
u16 rust_ipvs_skb_csum_offset(const struct sk_buff *skb)
{
	return skb->csum_offset;
}

/* The end of the remote checksum offload of ipvs_gue_encap(). */
void rust_ipvs_skb_remcsum_done(struct sk_buff *skb)
{
	if (!skb_is_gso(skb)) {
		skb->ip_summed = CHECKSUM_NONE;
		skb->encapsulation = 0;
	}
}

/* udp_set_csum() */
void rust_ipvs_udp_set_csum(bool nocheck, struct sk_buff *skb, __be32 saddr, __be32 daddr, int len)
{
	udp_set_csum(nocheck, skb, saddr, daddr, len);
}

/* udp6_set_csum() */
void rust_ipvs_udp6_set_csum(bool nocheck, struct sk_buff *skb, const struct in6_addr *saddr,
			     const struct in6_addr *daddr, int len)
{
	udp6_set_csum(nocheck, skb, saddr, daddr, len);
}

/* gre_build_header() as ipvs_gre_encap() calls it: no key, no sequence number. */
void rust_ipvs_gre_build_header(struct sk_buff *skb, bool csum, __be16 proto)
{
	IP_TUNNEL_DECLARE_FLAGS(tflags) = { };

	if (csum)
		__set_bit(IP_TUNNEL_CSUM_BIT, tflags);
	gre_build_header(skb, gre_calc_hlen(tflags), tflags, proto, 0, 0);
}

/* udp_flow_src_port() as ipvs_gue_encap() calls it. */
__be16 rust_ipvs_udp_flow_src_port(struct net *net, struct sk_buff *skb)
{
	return udp_flow_src_port(net, skb, 0, 0, false);
}

/*
 * ip_vs_gather_frags() with the defragmentation user of ip_vs_defrag_user(): 0 when skb is
 * now the whole datagram; otherwise the fragment was queued or freed.
 */
int rust_ipvs_gather_frags(struct net *net, struct sk_buff *skb, unsigned int hooknum)
{
	u32 user = hooknum == NF_INET_LOCAL_IN ? IP_DEFRAG_VS_IN :
		   hooknum == NF_INET_FORWARD ? IP_DEFRAG_VS_FWD : IP_DEFRAG_VS_OUT;
	int err;

	local_bh_disable();
	err = ip_defrag(net, skb, user);
	local_bh_enable();
	if (!err)
		ip_send_check(ip_hdr(skb));
	return err;
}

/* kfree_skb() */
void rust_ipvs_kfree_skb(struct sk_buff *skb)
{
	kfree_skb(skb);
}

/* ip_select_ident() */
void rust_ipvs_ip_select_ident(struct net *net, struct sk_buff *skb)
{
	ip_select_ident(net, skb, NULL);
}

/*
 * ip_vs_tunnel_xmit_prepare() with the ignore_df of ip_vs_tunnel_xmit(), then
 * ip_local_out(), or ip6_local_out() for an outer IPv6 header: always consumes the skb.
 */
void rust_ipvs_tunnel_send(struct net *net, struct sk_buff *skb, bool nfct, bool v6)
{
	int ret = NF_ACCEPT;

	skb->ignore_df = 1;
	skb->ipvs_property = 1;
	if (unlikely(nfct))
		ret = nf_conntrack_confirm(skb);
	if (ret != NF_ACCEPT) {
		if (ret == NF_DROP)
			kfree_skb(skb);
		return;
	}
	nf_reset_ct(skb);
	skb_forward_csum(skb);
	if (skb->dev)
		skb_clear_tstamp(skb);
	if (v6)
		ip6_local_out(net, skb->sk, skb);
	else
		ip_local_out(net, skb->sk, skb);
}

bool rust_ipvs_rt_is_local(const struct rtable *rt)
{
	return rt->rt_flags & RTCF_LOCAL;
}

unsigned int rust_ipvs_rt_mtu(const struct rtable *rt)
{
	return dst_mtu(&rt->dst);
}

/* The destination route cache (ffi/route_cache.rs, C's dest_dst). */

struct dst_entry *rust_ipvs_rt_dst(struct rtable *rt)
{
	return &rt->dst;
}

struct rtable *rust_ipvs_dst_rtable(struct dst_entry *dst)
{
	return dst_rtable(dst);
}

void rust_ipvs_dst_hold(struct dst_entry *dst)
{
	dst_hold(dst);
}

/* __ip_vs_dst_check(): the cached route is still valid. */
bool rust_ipvs_dst_check(struct dst_entry *dst, u32 cookie)
{
	return dst_check(dst, cookie);
}

/* rt_dev_is_down(): the route's device is not running (RCU read side). */
bool rust_ipvs_dst_dev_is_down(struct dst_entry *dst)
{
	return dst_dev_rcu(dst) && !netif_running(dst_dev_rcu(dst));
}

bool rust_ipvs_dst_dev_is(const struct dst_entry *dst, const struct net_device *dev)
{
	return dst_dev(dst) == dev;
}

u32 rust_ipvs_dst_rt6_cookie(struct dst_entry *dst)
{
	return rt6_get_cookie(dst_rt6_info(dst));
}

struct net *rust_ipvs_dev_net(const struct net_device *dev)
{
	return dev_net(dev);
}

/* ip_vs_dst_notifier: NETDEV_DOWN drops the cached routes through the device. */
static int rust_ipvs_netdev_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	if (event == NETDEV_DOWN)
		rust_ipvs_netdev_down(netdev_notifier_info_to_dev(ptr));
	return NOTIFY_DONE;
}

static struct notifier_block rust_ipvs_netdev_notifier = {
	.notifier_call = rust_ipvs_netdev_event,
	.priority = ADDRCONF_NOTIFY_PRIORITY + 5,
};

int rust_ipvs_register_netdev_notifier(void)
{
	return register_netdevice_notifier(&rust_ipvs_netdev_notifier);
}

void rust_ipvs_unregister_netdev_notifier(void)
{
	unregister_netdevice_notifier(&rust_ipvs_netdev_notifier);
}

/* The end of __ip_vs_get_out_rt(): a cached route (noref) is attached without a reference. */
void rust_ipvs_skb_attach_dst(struct sk_buff *skb, struct dst_entry *dst, bool noref)
{
	skb_dst_drop(skb);
	if (noref)
		skb_dst_set_noref(skb, dst);
	else
		skb_dst_set(skb, dst);
}

/* The err_unreach of __ip_vs_get_out_rt(): ICMP host unreachable to the sender. */
void rust_ipvs_dst_link_failure(struct sk_buff *skb)
{
	if (!skb->dev)
		skb->dev = skb_dst(skb)->dev;
	dst_link_failure(skb);
}

/* ip_vs_exceeds_mtu() */
bool rust_ipvs_skb_exceeds_mtu(const struct sk_buff *skb, unsigned int mtu)
{
	return skb->len > mtu && !(skb_is_gso(skb) && skb_gso_validate_network_len(skb, mtu));
}

/* ip_vs_nat_send_or_cont() for a non-local destination: always consumes the skb. */
int rust_ipvs_send_local_out(struct net *net, struct sk_buff *skb)
{
	if (skb->dev)
		skb_orphan(skb);
	skb_forward_csum(skb);
	if (skb->dev)
		skb_clear_tstamp(skb);
	skb->ignore_df = 1;
	return NF_HOOK(NFPROTO_IPV4, NF_INET_LOCAL_OUT, net, NULL, skb, NULL, skb_dst(skb)->dev,
		       dst_output);
}

/* The end of ip_vs_nat_icmp_v6(): the ICMPv6 checksum at off, left to the device. */
void rust_ipvs_icmpv6_update_csum(struct sk_buff *skb, unsigned int off)
{
	struct icmp6hdr *icmph = (struct icmp6hdr *)(skb->data + off);
	struct ipv6hdr *iph = ipv6_hdr(skb);

	icmph->icmp6_cksum = ~csum_ipv6_magic(&iph->saddr, &iph->daddr, skb->len - off,
					      IPPROTO_ICMPV6, 0);
	skb->csum_start = skb_headroom(skb) + off;
	skb->csum_offset = offsetof(struct icmp6hdr, icmp6_cksum);
	skb->ip_summed = CHECKSUM_PARTIAL;
}

/*
 * __ip_vs_route_output_v6(): the route to daddr (the next hop itself when known_nh), and the
 * source address for it; NULL when there is no route or no source address.
 */
struct dst_entry *rust_ipvs_route_output6(struct net *net, const struct in6_addr *daddr,
					  bool known_nh, struct in6_addr *saddr)
{
	struct flowi6 fl6 = { .daddr = *daddr, .flowi6_flags = known_nh ? FLOWI_FLAG_KNOWN_NH : 0 };
	struct dst_entry *dst = ip6_route_output(net, NULL, &fl6);

	if (dst->error ||
	    (ipv6_addr_any(&fl6.saddr) &&
	     ipv6_dev_get_saddr(net, ip6_dst_idev(dst)->dev, &fl6.daddr, 0, &fl6.saddr) < 0)) {
		dst_release(dst);
		return NULL;
	}
	*saddr = fl6.saddr;
	return dst;
}

/* __ip_vs_is_local_route6() */
bool rust_ipvs_dst_is_local6(const struct dst_entry *dst)
{
	return dst->dev && dst->dev->flags & IFF_LOOPBACK;
}

unsigned int rust_ipvs_dst_mtu(const struct dst_entry *dst)
{
	return dst_mtu(dst);
}

void rust_ipvs_dst_release(struct dst_entry *dst)
{
	dst_release(dst);
}

bool rust_ipvs_skb_dst_is_local6(const struct sk_buff *skb)
{
	return rust_ipvs_dst_is_local6(skb_dst(skb));
}

int rust_ipvs_send_local_out6(struct net *net, struct sk_buff *skb)
{
	if (skb->dev)
		skb_orphan(skb);
	skb_forward_csum(skb);
	if (skb->dev)
		skb_clear_tstamp(skb);
	skb->ignore_df = 1;
	return NF_HOOK(NFPROTO_IPV6, NF_INET_LOCAL_OUT, net, NULL, skb, NULL, skb_dst(skb)->dev,
		       dst_output);
}

/*
 * icmpv6_send() as ip_vs sends it: from the output device's address (output_dev, the time
 * exceeded of decrement_ttl) or, for a packet without a device, the loopback device's.
 */
void rust_ipvs_icmpv6_send(struct net *net, struct sk_buff *skb, u8 type, u8 code, u32 info,
			   bool output_dev)
{
	if (output_dev)
		skb->dev = skb_dst(skb)->dev;
	else if (!skb->dev)
		skb->dev = net->loopback_dev;
	icmpv6_send(skb, type, code, info);
}

/* The err_unreach of __ip_vs_get_out_rt_v6(). */
void rust_ipvs_dst_link_failure6(struct sk_buff *skb)
{
	if (!skb->dev)
		skb->dev = skb_dst(skb)->dev;
	dst_link_failure(skb);
}

/* __mtu_check_toobig_v6() */
bool rust_ipvs_skb_exceeds_mtu6(const struct sk_buff *skb, unsigned int mtu)
{
	if (IP6CB(skb)->frag_max_size)
		return IP6CB(skb)->frag_max_size > mtu;
	return rust_ipvs_skb_exceeds_mtu(skb, mtu);
}

void rust_ipvs_l4_csum_replace16(struct sk_buff *skb, unsigned int off, const __be32 *from,
				 const __be32 *to)
{
	inet_proto_csum_replace16((__sum16 *)(skb->data + off), skb, from, to, true);
}

/* The full checksum calculation of udp_dnat_handler() / udp_snat_handler(). */
void rust_ipvs_udp_csum_full(struct sk_buff *skb, unsigned int off, const union nf_inet_addr *saddr,
			     const union nf_inet_addr *daddr, bool v6)
{
	struct udphdr *udph = (struct udphdr *)(skb->data + off);

	udph->check = 0;
	skb->csum = skb_checksum(skb, off, skb->len - off, 0);
	if (v6)
		udph->check = csum_ipv6_magic(&saddr->in6, &daddr->in6, skb->len - off,
					      IPPROTO_UDP, skb->csum);
	else
		udph->check = csum_tcpudp_magic(saddr->ip, daddr->ip, skb->len - off,
						IPPROTO_UDP, skb->csum);
	if (udph->check == 0)
		udph->check = CSUM_MANGLED_0;
	skb->ip_summed = CHECKSUM_UNNECESSARY;
}

/* The IPv6 half of ip_vs_route_me_harder(). */
int rust_ipvs_route_me_harder6(struct net *net, struct sk_buff *skb)
{
	if (!rust_ipvs_skb_dst_is_local6(skb))
		return ip6_route_me_harder(net, skb->sk, skb);
	return 0;
}

void rust_ipvs_consume_skb(struct sk_buff *skb)
{
	consume_skb(skb);
}

/* The pulls of ip_vs_in_icmp's tunnel case. */
int rust_ipvs_skb_pull_network(struct sk_buff *skb, unsigned int len, unsigned int linear)
{
	if (!pskb_pull(skb, len))
		return -ENOMEM;
	skb_reset_network_header(skb);
	memset(&IPCB(skb)->opt, 0, sizeof(IPCB(skb)->opt));
	return pskb_may_pull(skb, linear) ? 0 : -ENOMEM;
}

void rust_ipvs_skb_set_transport_header(struct sk_buff *skb, int offset)
{
	skb_set_transport_header(skb, offset);
}

void rust_ipvs_ipv4_update_pmtu(struct net *net, struct sk_buff *skb, u32 mtu)
{
	ipv4_update_pmtu(skb, net, mtu, 0, 0);
}

void rust_ipvs_icmp_send(struct sk_buff *skb, int type, int code, __be32 info)
{
	icmp_send(skb, type, code, info);
}

/* ip_vs_route_me_harder() for IPv4 replies leaving at FORWARD or LOCAL_OUT. */
int rust_ipvs_route_me_harder(struct net *net, struct sk_buff *skb)
{
	if (!(skb_rtable(skb)->rt_flags & RTCF_LOCAL))
		return ip_route_me_harder(net, skb->sk, skb, RTN_LOCAL);
	return 0;
}

/*
 * The namespace's works, in process context: rust_ipvs_tick() every second (connection
 * expiry and the defense work), rust_ipvs_minute() every minute (the lblc and lblcr caches,
 * C's CHECK_EXPIRE_INTERVAL), and rust_ipvs_resize() every two seconds or at once when kicked
 * (C's conn_resize_work). Stopped by disabling them, so that a kick after the stop queues
 * nothing; freed apart, by the last holder of the handle.
 */
struct rust_ipvs_gc {
	struct delayed_work tick;
	struct delayed_work minute;
	struct delayed_work resize;
	struct net *net;
};

static void rust_ipvs_gc_fire(struct work_struct *work)
{
	struct rust_ipvs_gc *gc = container_of(to_delayed_work(work), struct rust_ipvs_gc, tick);

	rust_ipvs_tick(gc->net);
	queue_delayed_work(system_dfl_long_wq, &gc->tick, HZ);
}

static void rust_ipvs_gc_minute(struct work_struct *work)
{
	struct rust_ipvs_gc *gc = container_of(to_delayed_work(work), struct rust_ipvs_gc, minute);

	rust_ipvs_minute(gc->net);
	queue_delayed_work(system_dfl_wq, &gc->minute, 60 * HZ);
}

static void rust_ipvs_gc_resize_fire(struct work_struct *work)
{
	struct rust_ipvs_gc *gc = container_of(to_delayed_work(work), struct rust_ipvs_gc, resize);
	bool retry = rust_ipvs_resize(gc->net);

	queue_delayed_work(system_dfl_long_wq, &gc->resize, retry ? 1 : 2 * HZ);
}

struct rust_ipvs_gc *rust_ipvs_gc_start(struct net *net)
{
	struct rust_ipvs_gc *gc = kzalloc(sizeof(*gc), GFP_KERNEL);

	if (!gc)
		return NULL;
	gc->net = net;
	INIT_DELAYED_WORK(&gc->tick, rust_ipvs_gc_fire);
	INIT_DELAYED_WORK(&gc->minute, rust_ipvs_gc_minute);
	INIT_DELAYED_WORK(&gc->resize, rust_ipvs_gc_resize_fire);
	queue_delayed_work(system_dfl_long_wq, &gc->tick, HZ);
	queue_delayed_work(system_dfl_wq, &gc->minute, 60 * HZ);
	queue_delayed_work(system_dfl_long_wq, &gc->resize, 2 * HZ);
	return gc;
}

/* The resize at once (C: mod_delayed_work() of conn_resize_work); nothing once stopped. */
void rust_ipvs_gc_resize(struct rust_ipvs_gc *gc)
{
	mod_delayed_work(system_dfl_long_wq, &gc->resize, 0);
}

void rust_ipvs_gc_stop(struct rust_ipvs_gc *gc)
{
	disable_delayed_work_sync(&gc->tick);
	disable_delayed_work_sync(&gc->minute);
	disable_delayed_work_sync(&gc->resize);
}

void rust_ipvs_gc_free(struct rust_ipvs_gc *gc)
{
	kfree(gc);
}

/*
 * net.ipv4.vs.*: the C names, handlers and ranges; data pointers are set per namespace.
 * rust_ipvs_proc_checked() parses a write and hands it to Rust (rust_ipvs_sysctl_write()),
 * which checks and stores it as C's proc_do_conn_max() and proc_do_defense_mode() do; its
 * entries carry their index in extra1 and their namespace in extra2.
 */
static int rust_ipvs_proc_checked(const struct ctl_table *table, int write, void *buffer,
				  size_t *lenp, loff_t *ppos)
{
	int val = write ? INT_MIN : READ_ONCE(*(int *)table->data);
	const struct ctl_table tmp = { .data = &val, .maxlen = sizeof(int) };
	int rc = proc_dointvec(&tmp, write, buffer, lenp, ppos);

	if (write && !rc && val != INT_MIN)
		rc = rust_ipvs_sysctl_write(table->extra2, (uintptr_t)table->extra1, val);
	return rc;
}

/* proc_do_sync_threshold(): sync_threshold and sync_period, adjacent ints, set together. */
static int rust_ipvs_proc_sync_threshold(const struct ctl_table *table, int write, void *buffer,
					 size_t *lenp, loff_t *ppos)
{
	int *valp = table->data;
	int val[2] = { READ_ONCE(valp[0]), READ_ONCE(valp[1]) };
	const struct ctl_table tmp = { .data = &val, .maxlen = sizeof(val), .mode = table->mode };
	int rc = proc_dointvec(&tmp, write, buffer, lenp, ppos);

	if (write) {
		if (val[0] < 0 || val[1] < 0 || (val[0] >= val[1] && val[1])) {
			rc = -EINVAL;
		} else {
			WRITE_ONCE(valp[0], val[0]);
			WRITE_ONCE(valp[1], val[1]);
		}
	}
	return rc;
}

/*
 * ipvs_proc_est_cpulist(): the estimator's CPUs, a CPU list; a write is limited to the
 * writer's allowed CPUs and handed to Rust (rust_ipvs_est_cpulist_write()); a read shows the
 * list set, or the kthread housekeeping CPUs before any was.
 */
static int rust_ipvs_proc_est_cpulist(const struct ctl_table *table, int write, void *buffer,
				      size_t *lenp, loff_t *ppos)
{
	cpumask_var_t cpus;
	int ret;

	/* Ignore both read and write(append) if *ppos not 0 */
	if (*ppos || !*lenp) {
		*lenp = 0;
		return 0;
	}
	if (!zalloc_cpumask_var(&cpus, GFP_KERNEL))
		return -ENOMEM;
	if (write) {
		/* proc_sys_call_handler() appends terminator */
		ret = cpulist_parse(buffer, cpus);
		if (!ret) {
			cpumask_and(cpus, cpus, &current->cpus_mask);
			ret = rust_ipvs_est_cpulist_write(table->extra2, cpus);
		}
		if (ret >= 0)
			*ppos += *lenp;
	} else {
		if (!rust_ipvs_est_cpulist_read(table->extra2, cpus)) {
			/* HK_TYPE_KTHREAD cpumask needs RCU protection */
			rcu_read_lock();
			cpumask_copy(cpus, housekeeping_cpumask(HK_TYPE_KTHREAD));
			rcu_read_unlock();
		}
		/* proc_sys_call_handler() allocates 1 byte for terminator */
		ret = scnprintf(buffer, *lenp + 1, "%*pbl\n", cpumask_pr_args(cpus));
		*lenp = ret;
		*ppos += *lenp;
		ret = 0;
	}
	free_cpumask_var(cpus);
	return ret;
}

static const struct ctl_table rust_ipvs_vars[] = {
	{ .procname = "conn_max", .maxlen = sizeof(int), .mode = 0644, .proc_handler = rust_ipvs_proc_checked },
	{ .procname = "conntrack", .maxlen = sizeof(int), .mode = 0644, .proc_handler = proc_dointvec },
	{ .procname = "secure_tcp", .maxlen = sizeof(int), .mode = 0644, .proc_handler = rust_ipvs_proc_checked },
	{ .procname = "snat_reroute", .maxlen = sizeof(int), .mode = 0644, .proc_handler = proc_dointvec },
	{ .procname = "expire_nodest_conn", .maxlen = sizeof(int), .mode = 0644, .proc_handler = proc_dointvec },
	{ .procname = "sloppy_tcp", .maxlen = sizeof(int), .mode = 0644, .proc_handler = proc_dointvec },
	{ .procname = "expire_quiescent_template", .maxlen = sizeof(int), .mode = 0644, .proc_handler = proc_dointvec },
	{ .procname = "nat_icmp_send", .maxlen = sizeof(int), .mode = 0644, .proc_handler = proc_dointvec },
	{ .procname = "conn_reuse_mode", .maxlen = sizeof(int), .mode = 0644, .proc_handler = proc_dointvec },
	{ .procname = "ignore_tunneled", .maxlen = sizeof(int), .mode = 0644, .proc_handler = proc_dointvec },
	{ .procname = "run_estimation", .maxlen = sizeof(int), .mode = 0644, .proc_handler = rust_ipvs_proc_checked },
	{ .procname = "lblc_expiration", .maxlen = sizeof(int), .mode = 0644, .proc_handler = proc_dointvec_jiffies },
	{ .procname = "lblcr_expiration", .maxlen = sizeof(int), .mode = 0644, .proc_handler = proc_dointvec_jiffies },
	{ .procname = "svc_lfactor", .maxlen = sizeof(int), .mode = 0644, .proc_handler = rust_ipvs_proc_checked },
	{ .procname = "conn_lfactor", .maxlen = sizeof(int), .mode = 0644, .proc_handler = rust_ipvs_proc_checked },
	{ .procname = "amemthresh", .maxlen = sizeof(int), .mode = 0644, .proc_handler = proc_dointvec },
	{ .procname = "am_droprate", .maxlen = sizeof(int), .mode = 0644, .proc_handler = proc_dointvec },
	{ .procname = "drop_entry", .maxlen = sizeof(int), .mode = 0644, .proc_handler = rust_ipvs_proc_checked },
	{ .procname = "drop_packet", .maxlen = sizeof(int), .mode = 0644, .proc_handler = rust_ipvs_proc_checked },
	{ .procname = "pmtu_disc", .maxlen = sizeof(int), .mode = 0644, .proc_handler = proc_dointvec },
	{ .procname = "sloppy_sctp", .maxlen = sizeof(int), .mode = 0644, .proc_handler = proc_dointvec },
	{ .procname = "cache_bypass", .maxlen = sizeof(int), .mode = 0644, .proc_handler = proc_dointvec },
	{ .procname = "sync_version", .maxlen = sizeof(int), .mode = 0644, .proc_handler = proc_dointvec_minmax, .extra1 = SYSCTL_ZERO, .extra2 = SYSCTL_ONE },
	{ .procname = "sync_ports", .maxlen = sizeof(int), .mode = 0644, .proc_handler = rust_ipvs_proc_checked },
	{ .procname = "sync_persist_mode", .maxlen = sizeof(int), .mode = 0644, .proc_handler = proc_dointvec },
	{ .procname = "sync_qlen_max", .maxlen = sizeof(int), .mode = 0644, .proc_handler = proc_dointvec_minmax, .extra1 = SYSCTL_ZERO, .extra2 = SYSCTL_INT_MAX },
	{ .procname = "sync_sock_size", .maxlen = sizeof(int), .mode = 0644, .proc_handler = proc_dointvec },
	{ .procname = "sync_refresh_period", .maxlen = sizeof(int), .mode = 0644, .proc_handler = proc_dointvec_jiffies },
	{ .procname = "sync_retries", .maxlen = sizeof(int), .mode = 0644, .proc_handler = proc_dointvec_minmax, .extra1 = SYSCTL_ZERO, .extra2 = SYSCTL_THREE },
	{ .procname = "backup_only", .maxlen = sizeof(int), .mode = 0644, .proc_handler = proc_dointvec },
	{ .procname = "schedule_icmp", .maxlen = sizeof(int), .mode = 0644, .proc_handler = proc_dointvec },
	{ .procname = "est_nice", .maxlen = sizeof(int), .mode = 0644, .proc_handler = rust_ipvs_proc_checked },
	{ .procname = "sync_threshold", .maxlen = 2 * sizeof(int), .mode = 0644, .proc_handler = rust_ipvs_proc_sync_threshold },
	/* Not an int the module owns: the last entry, past the n data pointers. */
	{ .procname = "est_cpulist", .maxlen = NR_CPUS, .mode = 0644, .proc_handler = rust_ipvs_proc_est_cpulist },
};

int rust_ipvs_sysctl_register(struct net *net, int *const *data, unsigned int n, u64 read_only,
			      struct ctl_table_header **hdr)
{
	struct ctl_table *tbl;
	unsigned int i;

	if (n + 1 != ARRAY_SIZE(rust_ipvs_vars))
		return -EINVAL;
	tbl = kmemdup(rust_ipvs_vars, sizeof(rust_ipvs_vars), GFP_KERNEL);
	if (!tbl)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(rust_ipvs_vars); i++) {
		if (i < n)
			tbl[i].data = data[i];
		if (read_only & BIT_ULL(i))
			tbl[i].mode = 0444;
		if (tbl[i].proc_handler == rust_ipvs_proc_checked) {
			tbl[i].extra1 = (void *)(uintptr_t)i;
			tbl[i].extra2 = net;
		}
		if (tbl[i].proc_handler == rust_ipvs_proc_est_cpulist)
			tbl[i].extra2 = net;
	}
	*hdr = register_net_sysctl_sz(net, "net/ipv4/vs", tbl, ARRAY_SIZE(rust_ipvs_vars));
	if (!*hdr) {
		kfree(tbl);
		return -ENOMEM;
	}
	return 0;
}

void rust_ipvs_sysctl_unregister(struct ctl_table_header *hdr)
{
	const struct ctl_table *tbl = hdr->ctl_table_arg;

	unregister_net_sysctl_table(hdr);
	kfree(tbl);
}

void *rust_ipvs_alloc_percpu(size_t size, size_t align)
{
	return (void __force *)__alloc_percpu(size, align);
}

void rust_ipvs_this_cpu_add_u64(u64 *p, u64 v)
{
	this_cpu_add(*(u64 __percpu __force *)p, v);
}

void rust_ipvs_seqcount_init(seqcount_t *s)
{
	seqcount_init(s);
}

void rust_ipvs_write_seqcount_begin(seqcount_t *s)
{
	write_seqcount_begin(s);
}

void rust_ipvs_write_seqcount_end(seqcount_t *s)
{
	write_seqcount_end(s);
}

unsigned long rust_ipvs_totalram_pages(void)
{
	return totalram_pages();
}

void rust_ipvs_cond_resched(void)
{
	cond_resched();
}

bool rust_ipvs_port_requires_bind_service(struct net *net, unsigned short port)
{
	return inet_port_requires_bind_service(net, port);
}

int rust_ipvs_nf_defrag_ipv6_enable(struct net *net)
{
	return nf_defrag_ipv6_enable(net);
}

unsigned int rust_ipvs_inet_addr_type(struct net *net, __be32 addr)
{
	return inet_addr_type(net, addr);
}

bool rust_ipvs_net_is_init(const struct net *net)
{
	return net_eq(net, &init_net);
}

void rust_ipvs_hlist_add_head_rcu(struct hlist_node *n, struct hlist_head *h)
{
	hlist_add_head_rcu(n, h);
}

void rust_ipvs_hlist_del_rcu(struct hlist_node *n)
{
	hlist_del_rcu(n);
}

void rust_ipvs_hlist_add_head(struct hlist_node *n, struct hlist_head *h)
{
	hlist_add_head(n, h);
}

void rust_ipvs_hlist_del_init(struct hlist_node *n)
{
	hlist_del_init(n);
}

void rust_ipvs_hlist_move_list(struct hlist_head *old, struct hlist_head *new)
{
	hlist_move_list(old, new);
}

void rust_ipvs_spin_lock_bh(spinlock_t *lock)
{
	spin_lock_bh(lock);
}

void rust_ipvs_spin_unlock_bh(spinlock_t *lock)
{
	spin_unlock_bh(lock);
}

int rust_ipvs_spin_trylock_bh(spinlock_t *lock)
{
	return spin_trylock_bh(lock);
}

/*
 * The namespace's threads and the sync daemon's sockets (ip_vs_sync.c, ip_vs_est.c): a
 * thread named as C's ("ipvs-<kind>:<namespace generation>:<id>"), with a reference on the
 * task (so that stopping never races the thread's exit) and its nice level and preferred CPUs
 * (NULL: any) set before it first runs, as ip_vs_est_kthread_start(); the socket waits of
 * sync_thread_master() and sync_thread_backup(), setsockopt() on a kernel socket, and the
 * interface lookup of start_sync_thread().
 */
struct task_struct *rust_ipvs_kthread_run(int (*fn)(void *), void *data, char kind, int gen,
					  int id, int nice, const struct cpumask *preferred)
{
	struct task_struct *task = kthread_create(fn, data, "ipvs-%c:%d:%d", kind, gen, id);

	if (IS_ERR(task))
		return task;
	get_task_struct(task);
	set_user_nice(task, nice);
	if (preferred)
		kthread_affine_preferred(task, preferred);
	wake_up_process(task);
	return task;
}

void rust_ipvs_set_current_interruptible(void)
{
	set_current_state(TASK_INTERRUPTIBLE);
}

void rust_ipvs_set_current_idle(void)
{
	set_current_state(TASK_IDLE);
}

void rust_ipvs_set_current_running(void)
{
	__set_current_state(TASK_RUNNING);
}

bool rust_ipvs_sock_readable(struct socket *sock)
{
	return !skb_queue_empty_lockless(&sock->sk->sk_receive_queue) ||
	       !skb_queue_empty_lockless(&udp_sk(sock->sk)->reader_queue);
}

void rust_ipvs_sock_wait_readable(struct socket *sock)
{
	wait_event_interruptible(*sk_sleep(sock->sk),
				 rust_ipvs_sock_readable(sock) || kthread_should_stop());
}

void rust_ipvs_sock_wait_writable(struct socket *sock)
{
	__wait_event_interruptible(*sk_sleep(sock->sk),
				   sock_writeable(sock->sk) || kthread_should_stop());
}

int rust_ipvs_sock_setsockopt(struct socket *sock, int level, int name, void *val, unsigned int len)
{
	if (level == SOL_SOCKET)
		return sock_setsockopt(sock, level, name, KERNEL_SOCKPTR(val), len);
	return sock->ops->setsockopt(sock, level, name, KERNEL_SOCKPTR(val), len);
}

int rust_ipvs_sock_send(struct socket *sock, const void *buf, size_t len)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL };
	struct kvec iov = { .iov_base = (void *)buf, .iov_len = len };

	return kernel_sendmsg(sock, &msg, &iov, 1, len);
}

int rust_ipvs_sock_recv(struct socket *sock, void *buf, size_t len)
{
	struct msghdr msg = { NULL, };
	struct kvec iov = { buf, len };

	iov_iter_kvec(&msg.msg_iter, ITER_DEST, &iov, 1, len);
	return sock_recvmsg(sock, &msg, MSG_DONTWAIT);
}

/* The index, MTU and first IPv4 address (0 if none) of interface @name in @net. */
int rust_ipvs_dev_lookup(struct net *net, const char *name, int *ifindex, unsigned int *mtu,
			 __be32 *addr)
{
	struct net_device *dev = dev_get_by_name(net, name);

	if (!dev)
		return -ENODEV;
	*ifindex = dev->ifindex;
	*mtu = dev->mtu;
	*addr = inet_select_addr(dev, 0, RT_SCOPE_UNIVERSE);
	dev_put(dev);
	return 0;
}

unsigned long rust_ipvs_nr_free_buffer_pages(void)
{
	return nr_free_buffer_pages();
}
