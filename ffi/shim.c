// SPDX-License-Identifier: GPL-2.0
/*
 * What the kernel's Rust bindings cannot reach: the netfilter hook table, the pernet
 * operations and one-line wrappers of static inline functions. No logic lives here; the
 * callbacks named below are Rust functions in ffi/netfilter.rs and ffi/net.rs.
 */
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

unsigned int rust_ipvs_in_hook(void *priv, struct sk_buff *skb,
			       const struct nf_hook_state *state);
unsigned int rust_ipvs_out_hook(void *priv, struct sk_buff *skb,
				const struct nf_hook_state *state);
unsigned int rust_ipvs_forward_icmp(void *priv, struct sk_buff *skb,
				    const struct nf_hook_state *state);
int rust_ipvs_net_init(struct net *net);
void rust_ipvs_net_exit(struct net *net);

/* Called from Rust (ffi/shim.rs). */
int rust_ipvs_register_hooks(struct net *net);
void rust_ipvs_unregister_hooks(struct net *net);
struct net *rust_ipvs_hook_state_net(const struct nf_hook_state *state);
unsigned int rust_ipvs_hook_state_hook(const struct nf_hook_state *state);
int rust_ipvs_register_pernet(void);
void rust_ipvs_unregister_pernet(void);
void **rust_ipvs_net_slot(struct net *net);

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

int rust_ipvs_register_hooks(struct net *net)
{
	return nf_register_net_hooks(net, rust_ipvs_ops4, ARRAY_SIZE(rust_ipvs_ops4));
}

void rust_ipvs_unregister_hooks(struct net *net)
{
	nf_unregister_net_hooks(net, rust_ipvs_ops4, ARRAY_SIZE(rust_ipvs_ops4));
}

struct net *rust_ipvs_hook_state_net(const struct nf_hook_state *state)
{
	return state->net;
}

unsigned int rust_ipvs_hook_state_hook(const struct nf_hook_state *state)
{
	return state->hook;
}

static unsigned int rust_ipvs_net_id;

static struct pernet_operations rust_ipvs_net_ops = {
	.init = rust_ipvs_net_init,
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
	return net_generic(net, rust_ipvs_net_id);
}
