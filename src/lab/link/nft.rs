//! Random loss on the private link with nf_tables, over netfilter's
//! netlink: what `nft add table ip sockscope; nft add chain ip sockscope
//! loss '{ type filter hook prerouting priority 0; }'; nft add rule ip
//! sockscope loss numgen random mod 10000 < N drop` sends, built by hand
//! from include/uapi/linux/netfilter/nf_tables.h. The rule drops packets
//! as they arrive at the namespace's lo, both the writer's segments and
//! the reader's ACKs, like a lossy wire; TCP finds out only by missing
//! ACKs, as it would on one.

use std::io;
use std::os::fd::OwnedFd;

use super::netlink::{Message, NLM_F_ACK, attribute, be32, nested, string, transact};

const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
const NFNL_MSG_BATCH_END: u16 = 0x11;
const NFT_MSG_NEWTABLE: u16 = 0;
const NFT_MSG_NEWCHAIN: u16 = 3;
const NFT_MSG_NEWRULE: u16 = 6;
const NFT_MSG_DELRULE: u16 = 8;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_APPEND: u16 = 0x800;
const NFPROTO_IPV4: u8 = 2;
const NFPROTO_IPV6: u8 = 10;
const NF_INET_PRE_ROUTING: u32 = 0;
const NF_DROP: u32 = 0;
const NFTA_TABLE_NAME: u16 = 1;
const NFTA_CHAIN_TABLE: u16 = 1;
const NFTA_CHAIN_NAME: u16 = 3;
const NFTA_CHAIN_HOOK: u16 = 4;
const NFTA_CHAIN_TYPE: u16 = 7;
const NFTA_HOOK_HOOKNUM: u16 = 1;
const NFTA_HOOK_PRIORITY: u16 = 2;
const NFTA_RULE_TABLE: u16 = 1;
const NFTA_RULE_CHAIN: u16 = 2;
const NFTA_RULE_EXPRESSIONS: u16 = 4;
const NFTA_LIST_ELEM: u16 = 1;
const NFTA_EXPR_NAME: u16 = 1;
const NFTA_EXPR_DATA: u16 = 2;
const NFTA_NG_DREG: u16 = 1;
const NFTA_NG_MODULUS: u16 = 2;
const NFTA_NG_TYPE: u16 = 3;
const NFT_NG_RANDOM: u32 = 1;
const NFTA_BYTEORDER_SREG: u16 = 1;
const NFTA_BYTEORDER_DREG: u16 = 2;
const NFTA_BYTEORDER_OP: u16 = 3;
const NFTA_BYTEORDER_LEN: u16 = 4;
const NFTA_BYTEORDER_SIZE: u16 = 5;
const NFT_BYTEORDER_HTON: u32 = 1;
const NFTA_CMP_SREG: u16 = 1;
const NFTA_CMP_OP: u16 = 2;
const NFTA_CMP_DATA: u16 = 3;
const NFT_CMP_LT: u32 = 2;
const NFTA_DATA_VALUE: u16 = 1;
const NFTA_DATA_VERDICT: u16 = 2;
const NFTA_VERDICT_CODE: u16 = 1;
const NFTA_IMMEDIATE_DREG: u16 = 1;
const NFTA_IMMEDIATE_DATA: u16 = 2;
const NFT_REG_VERDICT: u32 = 0;
const NFT_REG_1: u32 = 1;

const NFTA_TARGET_NAME: u16 = 1;
const NFTA_TARGET_REV: u16 = 2;
const NFTA_TARGET_INFO: u16 = 3;
/// xt_NFQUEUE's flag: with no program bound to the queue, accept.
const NFQ_FLAG_BYPASS: u16 = 0x01;

const TABLE: &str = "sockscope";
const CHAIN: &str = "loss";
const DELAY_CHAIN: &str = "delay";
/// After the loss chain (priority 0): a lost packet is not held first.
const DELAY_PRIORITY: u32 = 10;
/// The loss is drawn in steps of a hundredth of a percent.
pub(super) const LOSS_STEPS: u32 = 10_000;

/// Drops `in_steps` packets in `LOSS_STEPS` at random on the link (none:
/// no rule). Replaces the rule in force in one batch, which the kernel
/// applies whole or not at all.
pub(super) fn set_loss(netlink: &OwnedFd, in_steps: u32) -> io::Result<()> {
    let table = string(NFTA_TABLE_NAME, TABLE);
    let mut chain = string(NFTA_CHAIN_TABLE, TABLE);
    chain.extend(string(NFTA_CHAIN_NAME, CHAIN));
    let mut hook = be32(NFTA_HOOK_HOOKNUM, NF_INET_PRE_ROUTING);
    hook.extend(be32(NFTA_HOOK_PRIORITY, 0));
    chain.extend(nested(NFTA_CHAIN_HOOK, &hook));
    chain.extend(string(NFTA_CHAIN_TYPE, "filter"));
    let mut rule_place = string(NFTA_RULE_TABLE, TABLE);
    rule_place.extend(string(NFTA_RULE_CHAIN, CHAIN));
    let mut messages = vec![
        batch(NFNL_MSG_BATCH_BEGIN),
        // Both exist after the first time; "create" without "exclusive"
        // leaves them as they are.
        nft(NFT_MSG_NEWTABLE, NLM_F_CREATE, &table),
        nft(NFT_MSG_NEWCHAIN, NLM_F_CREATE, &chain),
        // A rule deletion naming only the chain flushes it.
        nft(NFT_MSG_DELRULE, 0, &rule_place),
    ];
    if in_steps > 0 {
        let mut rule = rule_place;
        rule.extend(nested(NFTA_RULE_EXPRESSIONS, &loss_expressions(in_steps)));
        messages.push(nft(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, &rule));
    }
    messages.push(batch(NFNL_MSG_BATCH_END));
    transact(netlink, &messages)
}

/// Sends every packet arriving at lo, IPv4 and IPv6, to the delay's
/// netfilter queue (`on`), or none (`!on`): what `iptables-nft -t sockscope
/// -A delay -j NFQUEUE --queue-num 0 --queue-bypass` sends, on prerouting
/// (input's way in). Not on output: packets held there still count against
/// the sender's TCP small-queue budget, which caps the throughput far below
/// window ÷ RTT. This kernel has no native nf_tables `queue`, so the rule
/// uses the xtables target through nf_tables' compat expression.
pub(super) fn set_delay_rule(netlink: &OwnedFd, on: bool) -> io::Result<()> {
    let mut messages = vec![batch(NFNL_MSG_BATCH_BEGIN)];
    for family in [NFPROTO_IPV4, NFPROTO_IPV6] {
        let table = string(NFTA_TABLE_NAME, TABLE);
        let mut chain = string(NFTA_CHAIN_TABLE, TABLE);
        chain.extend(string(NFTA_CHAIN_NAME, DELAY_CHAIN));
        let mut hook = be32(NFTA_HOOK_HOOKNUM, NF_INET_PRE_ROUTING);
        hook.extend(be32(NFTA_HOOK_PRIORITY, DELAY_PRIORITY));
        chain.extend(nested(NFTA_CHAIN_HOOK, &hook));
        chain.extend(string(NFTA_CHAIN_TYPE, "filter"));
        let mut rule_place = string(NFTA_RULE_TABLE, TABLE);
        rule_place.extend(string(NFTA_RULE_CHAIN, DELAY_CHAIN));
        messages.push(nft_in(family, NFT_MSG_NEWTABLE, NLM_F_CREATE, &table));
        messages.push(nft_in(family, NFT_MSG_NEWCHAIN, NLM_F_CREATE, &chain));
        messages.push(nft_in(family, NFT_MSG_DELRULE, 0, &rule_place));
        if on {
            let mut rule = rule_place;
            rule.extend(nested(NFTA_RULE_EXPRESSIONS, &queue_expression()));
            messages.push(nft_in(
                family,
                NFT_MSG_NEWRULE,
                NLM_F_CREATE | NLM_F_APPEND,
                &rule,
            ));
        }
    }
    messages.push(batch(NFNL_MSG_BATCH_END));
    transact(netlink, &messages)
}

/// xt_NFQUEUE revision 3 as a compat `target` expression: struct
/// xt_NFQ_info_v3 {queuenum, queues_total, flags: u16, host order},
/// padded to 8 bytes as x_tables aligns it.
fn queue_expression() -> Vec<u8> {
    let mut info = Vec::with_capacity(8);
    info.extend_from_slice(&super::nfqueue::QUEUE_NUM.to_ne_bytes());
    info.extend_from_slice(&1u16.to_ne_bytes());
    info.extend_from_slice(&NFQ_FLAG_BYPASS.to_ne_bytes());
    info.resize(8, 0);
    let mut target = string(NFTA_TARGET_NAME, "NFQUEUE");
    target.extend(be32(NFTA_TARGET_REV, 3));
    target.extend(attribute(NFTA_TARGET_INFO, &info));
    expression("target", &target)
}

/// numgen random mod LOSS_STEPS → reg 1; reg 1 to network order (cmp
/// compares bytes); reg 1 < in_steps → drop.
fn loss_expressions(in_steps: u32) -> Vec<u8> {
    let mut numgen = be32(NFTA_NG_DREG, NFT_REG_1);
    numgen.extend(be32(NFTA_NG_MODULUS, LOSS_STEPS));
    numgen.extend(be32(NFTA_NG_TYPE, NFT_NG_RANDOM));
    let mut byteorder = be32(NFTA_BYTEORDER_SREG, NFT_REG_1);
    byteorder.extend(be32(NFTA_BYTEORDER_DREG, NFT_REG_1));
    byteorder.extend(be32(NFTA_BYTEORDER_OP, NFT_BYTEORDER_HTON));
    byteorder.extend(be32(NFTA_BYTEORDER_LEN, 4));
    byteorder.extend(be32(NFTA_BYTEORDER_SIZE, 4));
    let mut cmp = be32(NFTA_CMP_SREG, NFT_REG_1);
    cmp.extend(be32(NFTA_CMP_OP, NFT_CMP_LT));
    cmp.extend(nested(
        NFTA_CMP_DATA,
        &attribute(NFTA_DATA_VALUE, &in_steps.to_be_bytes()),
    ));
    let mut immediate = be32(NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
    immediate.extend(nested(
        NFTA_IMMEDIATE_DATA,
        &nested(NFTA_DATA_VERDICT, &be32(NFTA_VERDICT_CODE, NF_DROP)),
    ));
    [
        expression("numgen", &numgen),
        expression("byteorder", &byteorder),
        expression("cmp", &cmp),
        expression("immediate", &immediate),
    ]
    .concat()
}

fn expression(name: &str, data: &[u8]) -> Vec<u8> {
    let mut expression = string(NFTA_EXPR_NAME, name);
    expression.extend(nested(NFTA_EXPR_DATA, data));
    nested(NFTA_LIST_ELEM, &expression)
}

/// struct nfgenmsg: family, version 0, resource id (big-endian).
fn nfgenmsg(family: u8, res_id: u16) -> Vec<u8> {
    let mut header = vec![family, 0];
    header.extend_from_slice(&res_id.to_be_bytes());
    header
}

fn nft(kind: u16, flags: u16, attributes: &[u8]) -> Message {
    nft_in(NFPROTO_IPV4, kind, flags, attributes)
}

fn nft_in(family: u8, kind: u16, flags: u16, attributes: &[u8]) -> Message {
    let mut body = nfgenmsg(family, 0);
    body.extend_from_slice(attributes);
    Message {
        kind: (NFNL_SUBSYS_NFTABLES << 8) | kind,
        flags: NLM_F_ACK | flags,
        body,
    }
}

fn batch(kind: u16) -> Message {
    Message {
        kind,
        flags: 0,
        body: nfgenmsg(libc::AF_UNSPEC as u8, NFNL_SUBSYS_NFTABLES),
    }
}

#[cfg(test)]
mod tests {
    use super::super::netlink::attributes;
    use super::*;

    #[test]
    fn the_rule_compares_the_draw_in_network_order_against_the_loss() {
        let expressions = loss_expressions(250);
        let names: Vec<String> = attributes(&expressions)
            .map(|(_, elem)| {
                let (_, name) = attributes(elem).next().unwrap();
                String::from_utf8_lossy(name.strip_suffix(&[0]).unwrap()).into_owned()
            })
            .collect();
        assert_eq!(names, ["numgen", "byteorder", "cmp", "immediate"]);
        let cmp = attributes(&expressions).nth(2).unwrap().1;
        let data = attributes(cmp).nth(1).unwrap().1;
        let value = attributes(data).nth(2).unwrap().1;
        let (_, bytes) = attributes(value).next().unwrap();
        assert_eq!(bytes, 250u32.to_be_bytes());
    }

    #[test]
    fn the_queue_rule_is_nfqueue_revision_3_to_queue_0_with_bypass() {
        let expression = queue_expression();
        let (_, elem) = attributes(&expression).next().unwrap();
        let mut parts = attributes(elem);
        assert_eq!(parts.next().unwrap().1, b"target\0");
        let data: Vec<(u16, &[u8])> = attributes(parts.next().unwrap().1).collect();
        assert_eq!(data[0], (NFTA_TARGET_NAME, &b"NFQUEUE\0"[..]));
        assert_eq!(data[1], (NFTA_TARGET_REV, &3u32.to_be_bytes()[..]));
        let info = data[2].1;
        assert_eq!(data[2].0, NFTA_TARGET_INFO);
        assert_eq!(info.len(), 8);
        assert_eq!(u16::from_ne_bytes([info[0], info[1]]), 0);
        assert_eq!(u16::from_ne_bytes([info[2], info[3]]), 1);
        assert_eq!(u16::from_ne_bytes([info[4], info[5]]), NFQ_FLAG_BYPASS);
    }
}
