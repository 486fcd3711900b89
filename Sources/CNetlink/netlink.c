#define _GNU_SOURCE
#include "cnetlink.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

// A request is built in one buffer on the stack: nothing a container network asks for comes
// near its size.
#define REQUEST_SIZE 4096
#define RECEIVE_SIZE 32768

struct request {
    size_t length;
    unsigned nest_depth;
    size_t nests[8];
    struct nlmsghdr *message;
    _Alignas(struct nlmsghdr) uint8_t bytes[REQUEST_SIZE];
};

static _Thread_local int sequence_counter;

static void *reserve(struct request *r, size_t size) {
    size_t aligned = NLMSG_ALIGN(size);
    if (r->length + aligned > sizeof r->bytes) return NULL;
    void *p = r->bytes + r->length;
    memset(p, 0, aligned);
    r->length += aligned;
    if (r->message) r->message->nlmsg_len = (uint32_t)(r->length - ((uint8_t *)r->message - r->bytes));
    return p;
}

static struct nlmsghdr *begin_message(struct request *r, uint16_t type, uint16_t flags) {
    r->message = NULL;
    struct nlmsghdr *header = reserve(r, sizeof *header);
    if (!header) return NULL;
    header->nlmsg_type = type;
    header->nlmsg_flags = flags;
    header->nlmsg_seq = (uint32_t)++sequence_counter;
    r->message = header;
    header->nlmsg_len = NLMSG_ALIGN(sizeof *header);
    return header;
}

static int put_attribute(struct request *r, uint16_t type, const void *data, size_t size) {
    struct nlattr *attribute = reserve(r, NLA_HDRLEN + size);
    if (!attribute) return -ENOBUFS;
    attribute->nla_type = type;
    attribute->nla_len = (uint16_t)(NLA_HDRLEN + size);
    if (size) memcpy((uint8_t *)attribute + NLA_HDRLEN, data, size);
    return 0;
}

static int put_string(struct request *r, uint16_t type, const char *value) {
    return put_attribute(r, type, value, strlen(value) + 1);
}

static int put_u32(struct request *r, uint16_t type, uint32_t value) {
    return put_attribute(r, type, &value, sizeof value);
}

static int begin_nest(struct request *r, uint16_t type) {
    if (r->nest_depth >= sizeof r->nests / sizeof r->nests[0]) return -ENOBUFS;
    size_t offset = r->length;
    if (put_attribute(r, type | NLA_F_NESTED, NULL, 0) < 0) return -ENOBUFS;
    r->nests[r->nest_depth++] = offset;
    return 0;
}

static void end_nest(struct request *r) {
    size_t offset = r->nests[--r->nest_depth];
    struct nlattr *attribute = (struct nlattr *)(r->bytes + offset);
    attribute->nla_len = (uint16_t)(r->length - offset);
}

int berth_netlink_open(int protocol, int netns_fd) {
    int own = -1;
    if (netns_fd >= 0) {
        // A namespace is per thread: this one enters the container's, makes the socket there
        // (a socket belongs to the namespace it was made in for good) and comes back.
        own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (own < 0) return -errno;
        if (setns(netns_fd, CLONE_NEWNET) < 0) {
            int e = errno;
            close(own);
            return -e;
        }
    }
    int sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    int e = errno;
    if (own >= 0) {
        // Staying in the container's namespace would put every later socket of this thread there.
        if (setns(own, CLONE_NEWNET) < 0) abort();
        close(own);
    }
    if (sock < 0) return -e;
    struct sockaddr_nl local = {.nl_family = AF_NETLINK};
    if (bind(sock, (struct sockaddr *)&local, sizeof local) < 0) {
        e = errno;
        close(sock);
        return -e;
    }
    // An answer that never comes (a batch the kernel dropped whole) must not hold berth forever.
    struct timeval limit = {.tv_sec = 10};
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    return sock;
}

static int send_request(int sock, struct request *r) {
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    ssize_t sent;
    do {
        sent = sendto(sock, r->bytes, r->length, 0, (struct sockaddr *)&kernel, sizeof kernel);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) return -errno;
    return sent == (ssize_t)r->length ? 0 : -EIO;
}

// Reads answers until the acknowledgement of message `last_sequence` (or the end of a dump),
// calling `each` for every other message. The first error any message got is returned.
typedef int (*message_handler)(struct nlmsghdr *message, void *context);

static int receive(int sock, uint32_t last_sequence, message_handler each, void *context) {
    _Alignas(struct nlmsghdr) uint8_t buffer[RECEIVE_SIZE];
    int first_error = 0;
    for (;;) {
        ssize_t got;
        do {
            got = recv(sock, buffer, sizeof buffer, 0);
        } while (got < 0 && errno == EINTR);
        if (got < 0) return -errno;
        if (got == 0) return first_error ? first_error : -EIO;
        size_t remaining = (size_t)got;
        for (struct nlmsghdr *m = (struct nlmsghdr *)buffer; NLMSG_OK(m, remaining); m = NLMSG_NEXT(m, remaining)) {
            if (m->nlmsg_type == NLMSG_DONE) return first_error;
            if (m->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *error = NLMSG_DATA(m);
                if (error->error != 0 && first_error == 0) first_error = error->error;
                if (m->nlmsg_seq == last_sequence) return first_error;
                continue;
            }
            if (each) {
                int rc = each(m, context);
                if (rc < 0 && first_error == 0) first_error = rc;
            }
        }
    }
}

static int transact(int sock, struct request *r) {
    if (!r->message) return -ENOBUFS;
    uint32_t last = r->message->nlmsg_seq;
    int rc = send_request(sock, r);
    return rc < 0 ? rc : receive(sock, last, NULL, NULL);
}

static int link_message(struct request *r, uint16_t type, uint16_t flags, int index) {
    memset(r, 0, offsetof(struct request, bytes));
    if (!begin_message(r, type, NLM_F_REQUEST | NLM_F_ACK | flags)) return -ENOBUFS;
    struct ifinfomsg *info = reserve(r, sizeof *info);
    if (!info) return -ENOBUFS;
    info->ifi_family = AF_UNSPEC;
    info->ifi_index = index;
    return 0;
}

static int found_link(struct nlmsghdr *m, void *context) {
    if (m->nlmsg_type != RTM_NEWLINK) return 0;
    struct ifinfomsg *info = NLMSG_DATA(m);
    *(int *)context = info->ifi_index;
    return 0;
}

int berth_link_index(int sock, const char *name) {
    if (strlen(name) >= IFNAMSIZ) return -EINVAL;
    struct request r;
    if (link_message(&r, RTM_GETLINK, 0, 0) < 0 || put_string(&r, IFLA_IFNAME, name) < 0) return -ENOBUFS;
    int index = 0;
    uint32_t last = r.message->nlmsg_seq;
    int rc = send_request(sock, &r);
    if (rc < 0) return rc;
    // The answer to a GETLINK is the link itself, then (with NLM_F_ACK) an acknowledgement.
    rc = receive(sock, last, found_link, &index);
    if (rc < 0) return rc;
    return index > 0 ? index : -ENODEV;
}

int berth_bridge_create(int sock, const char *name, unsigned mtu, const uint8_t *mac) {
    struct request r;
    if (link_message(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0) < 0) return -ENOBUFS;
    if (put_string(&r, IFLA_IFNAME, name) < 0 || (mtu && put_u32(&r, IFLA_MTU, mtu) < 0)) return -ENOBUFS;
    if (mac && put_attribute(&r, IFLA_ADDRESS, mac, 6) < 0) return -ENOBUFS;
    if (begin_nest(&r, IFLA_LINKINFO) < 0 || put_string(&r, IFLA_INFO_KIND, "bridge") < 0) return -ENOBUFS;
    end_nest(&r);
    return transact(sock, &r);
}

int berth_veth_create(int sock, const char *host_name, const char *peer_name, int peer_netns_fd, unsigned mtu,
                      const uint8_t *peer_mac) {
    struct request r;
    if (link_message(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0) < 0) return -ENOBUFS;
    if (put_string(&r, IFLA_IFNAME, host_name) < 0 || (mtu && put_u32(&r, IFLA_MTU, mtu) < 0)) return -ENOBUFS;
    if (begin_nest(&r, IFLA_LINKINFO) < 0 || put_string(&r, IFLA_INFO_KIND, "veth") < 0) return -ENOBUFS;
    if (begin_nest(&r, IFLA_INFO_DATA) < 0 || begin_nest(&r, VETH_INFO_PEER) < 0) return -ENOBUFS;
    struct ifinfomsg *peer = reserve(&r, sizeof *peer);
    if (!peer) return -ENOBUFS;
    peer->ifi_family = AF_UNSPEC;
    if (put_string(&r, IFLA_IFNAME, peer_name) < 0 || (mtu && put_u32(&r, IFLA_MTU, mtu) < 0)) return -ENOBUFS;
    if (peer_netns_fd >= 0 && put_u32(&r, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd) < 0) return -ENOBUFS;
    if (peer_mac && put_attribute(&r, IFLA_ADDRESS, peer_mac, 6) < 0) return -ENOBUFS;
    end_nest(&r);
    end_nest(&r);
    end_nest(&r);
    return transact(sock, &r);
}

int berth_link_set(int sock, int index, int master_index, int up) {
    struct request r;
    if (link_message(&r, RTM_NEWLINK, 0, index) < 0) return -ENOBUFS;
    struct ifinfomsg *info = NLMSG_DATA(r.message);
    info->ifi_change = IFF_UP;
    info->ifi_flags = up ? IFF_UP : 0;
    if (master_index > 0 && put_u32(&r, IFLA_MASTER, (uint32_t)master_index) < 0) return -ENOBUFS;
    return transact(sock, &r);
}

int berth_link_delete(int sock, const char *name) {
    if (strlen(name) >= IFNAMSIZ) return -EINVAL;
    struct request r;
    if (link_message(&r, RTM_DELLINK, 0, 0) < 0 || put_string(&r, IFLA_IFNAME, name) < 0) return -ENOBUFS;
    return transact(sock, &r);
}

int berth_address_add(int sock, int index, const uint8_t address[4], int prefix_length) {
    struct request r;
    memset(&r, 0, offsetof(struct request, bytes));
    if (!begin_message(&r, RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL)) return -ENOBUFS;
    struct ifaddrmsg *info = reserve(&r, sizeof *info);
    if (!info) return -ENOBUFS;
    info->ifa_family = AF_INET;
    info->ifa_prefixlen = (uint8_t)prefix_length;
    info->ifa_index = (uint32_t)index;
    info->ifa_scope = RT_SCOPE_UNIVERSE;
    if (put_attribute(&r, IFA_LOCAL, address, 4) < 0 || put_attribute(&r, IFA_ADDRESS, address, 4) < 0) return -ENOBUFS;
    if (prefix_length < 31) {
        uint8_t broadcast[4];
        uint32_t host_bits = prefix_length == 0 ? 0xffffffffu : (1u << (32 - prefix_length)) - 1;
        for (int i = 0; i < 4; i++) broadcast[i] = address[i] | (uint8_t)(host_bits >> (24 - 8 * i));
        if (put_attribute(&r, IFA_BROADCAST, broadcast, 4) < 0) return -ENOBUFS;
    }
    return transact(sock, &r);
}

int berth_route_add_default(int sock, const uint8_t gateway[4]) {
    struct request r;
    memset(&r, 0, offsetof(struct request, bytes));
    if (!begin_message(&r, RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL)) return -ENOBUFS;
    struct rtmsg *route = reserve(&r, sizeof *route);
    if (!route) return -ENOBUFS;
    route->rtm_family = AF_INET;
    route->rtm_table = RT_TABLE_MAIN;
    route->rtm_protocol = RTPROT_BOOT;
    route->rtm_scope = RT_SCOPE_UNIVERSE;
    route->rtm_type = RTN_UNICAST;
    if (put_attribute(&r, RTA_GATEWAY, gateway, 4) < 0) return -ENOBUFS;
    return transact(sock, &r);
}

struct route_list { struct berth_route *out; int max; int count; };

static int collect_route(struct nlmsghdr *m, void *context) {
    struct route_list *list = context;
    if (m->nlmsg_type != RTM_NEWROUTE) return 0;
    struct rtmsg *route = NLMSG_DATA(m);
    if (route->rtm_family != AF_INET || route->rtm_table != RT_TABLE_MAIN) return 0;
    struct berth_route entry = {.prefix_length = route->rtm_dst_len};
    int length = (int)RTM_PAYLOAD(m);
    for (struct rtattr *a = RTM_RTA(route); RTA_OK(a, length); a = RTA_NEXT(a, length)) {
        if (a->rta_type == RTA_DST && RTA_PAYLOAD(a) == 4) memcpy(entry.destination, RTA_DATA(a), 4);
        if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) == 4) memcpy(&entry.interface_index, RTA_DATA(a), 4);
    }
    if (list->count < list->max) list->out[list->count] = entry;
    list->count++;
    return 0;
}

int berth_routes(int sock, struct berth_route *out, int max) {
    struct request r;
    memset(&r, 0, offsetof(struct request, bytes));
    if (!begin_message(&r, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP)) return -ENOBUFS;
    struct rtmsg *route = reserve(&r, sizeof *route);
    if (!route) return -ENOBUFS;
    route->rtm_family = AF_INET;
    struct route_list list = {out, max, 0};
    int rc = send_request(sock, &r);
    if (rc < 0) return rc;
    rc = receive(sock, r.message->nlmsg_seq, collect_route, &list);
    return rc < 0 ? rc : (list.count < max ? list.count : max);
}

// nf_tables changes are transactions: a BATCH_BEGIN, the messages, a BATCH_END; the kernel
// applies all of them or none.
static int batch_marker(struct request *r, uint16_t type) {
    if (!begin_message(r, type, NLM_F_REQUEST)) return -ENOBUFS;
    struct nfgenmsg *gen = reserve(r, sizeof *gen);
    if (!gen) return -ENOBUFS;
    gen->nfgen_family = AF_UNSPEC;
    gen->version = NFNETLINK_V0;
    gen->res_id = __builtin_bswap16(NFNL_SUBSYS_NFTABLES);   // big-endian, as netfilter reads it
    return 0;
}

// The start of an nf_tables request about the object `name` of `table`: the batch's begin
// marker when it changes something, the message header, and the two names under the attribute
// numbers the message kind gives them.
static int nft_message(struct request *r, int batch, uint16_t kind, uint16_t flags, uint8_t family,
                       uint16_t table_attribute, const char *table, uint16_t name_attribute, const char *name) {
    memset(r, 0, offsetof(struct request, bytes));
    if (batch && batch_marker(r, NFNL_MSG_BATCH_BEGIN) < 0) return -ENOBUFS;
    if (!begin_message(r, (uint16_t)((NFNL_SUBSYS_NFTABLES << 8) | kind), flags)) return -ENOBUFS;
    struct nfgenmsg *gen = reserve(r, sizeof *gen);
    if (!gen) return -ENOBUFS;
    gen->nfgen_family = family;
    gen->version = NFNETLINK_V0;
    if (put_string(r, table_attribute, table) < 0 || put_string(r, name_attribute, name) < 0) return -ENOBUFS;
    return 0;
}

static int set_element_message(struct request *r, int batch, uint16_t kind, uint16_t flags, uint8_t family,
                               const char *table, const char *set) {
    return nft_message(r, batch, kind, flags, family, NFTA_SET_ELEM_LIST_TABLE, table, NFTA_SET_ELEM_LIST_SET, set);
}

static int put_u64_be(struct request *r, uint16_t type, uint64_t value) {
    uint8_t bytes[8];
    for (int i = 7; i >= 0; i--, value >>= 8) bytes[i] = (uint8_t)value;
    return put_attribute(r, type, bytes, sizeof bytes);
}

int berth_nft_map_change(int sock, int change, uint8_t family, const char *table, const char *map,
                         const uint8_t *keys, int key_length, const uint8_t *data, int data_length, int count) {
    struct request r;
    int add = change == BERTH_NFT_ADD, expire = change == BERTH_NFT_EXPIRE;
    uint16_t flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : expire ? NLM_F_CREATE : 0);
    if (set_element_message(&r, 1, add || expire ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM, flags, family, table, map) < 0)
        return -ENOBUFS;
    uint32_t change_sequence = r.message->nlmsg_seq;
    if (begin_nest(&r, NFTA_SET_ELEM_LIST_ELEMENTS) < 0) return -ENOBUFS;
    for (int i = 0; i < count; i++) {
        if (begin_nest(&r, NFTA_LIST_ELEM) < 0) return -ENOBUFS;
        if (begin_nest(&r, NFTA_SET_ELEM_KEY) < 0) return -ENOBUFS;
        if (put_attribute(&r, NFTA_DATA_VALUE, keys + (size_t)i * (size_t)key_length, (size_t)key_length) < 0) return -ENOBUFS;
        end_nest(&r);
        if ((add || expire) && data_length > 0) {
            if (begin_nest(&r, NFTA_SET_ELEM_DATA) < 0) return -ENOBUFS;
            if (put_attribute(&r, NFTA_DATA_VALUE, data + (size_t)i * (size_t)data_length, (size_t)data_length) < 0) return -ENOBUFS;
            end_nest(&r);
        }
        // The shortest life the kernel gives (one jiffy at least): the element stops matching
        // then, and the set's own garbage collection frees it later.
        if (expire && (put_u64_be(&r, NFTA_SET_ELEM_TIMEOUT, 1) < 0 || put_u64_be(&r, NFTA_SET_ELEM_EXPIRATION, 1) < 0))
            return -ENOBUFS;
        end_nest(&r);
    }
    end_nest(&r);
    if (batch_marker(&r, NFNL_MSG_BATCH_END) < 0) return -ENOBUFS;
    int rc = send_request(sock, &r);
    return rc < 0 ? rc : receive(sock, change_sequence, NULL, NULL);
}

// The first attribute of `type` among the `length` bytes of attributes at `start`, or NULL.
static const struct nlattr *attribute_in(const void *start, size_t length, uint16_t type) {
    const uint8_t *at = start;
    while (length >= NLA_HDRLEN) {
        const struct nlattr *a = (const struct nlattr *)at;
        if (a->nla_len < NLA_HDRLEN || a->nla_len > length) return NULL;
        if ((a->nla_type & NLA_TYPE_MASK) == type) return a;
        size_t step = NLA_ALIGN(a->nla_len);
        if (step >= length) return NULL;
        at += step;
        length -= step;
    }
    return NULL;
}

static const void *payload(const struct nlattr *a) { return (const uint8_t *)a + NLA_HDRLEN; }
static size_t payload_length(const struct nlattr *a) { return a->nla_len - NLA_HDRLEN; }

// The answer to a GETSETELEM of one key: sets *(int *)context to 1 when its element has a timeout.
static int found_timeout(struct nlmsghdr *m, void *context) {
    size_t header = NLMSG_LENGTH(sizeof(struct nfgenmsg));
    if ((m->nlmsg_type & 0xff) != NFT_MSG_NEWSETELEM || m->nlmsg_len < header) return 0;
    const struct nlattr *elements = attribute_in((uint8_t *)m + header, m->nlmsg_len - header, NFTA_SET_ELEM_LIST_ELEMENTS);
    const struct nlattr *element = elements ? attribute_in(payload(elements), payload_length(elements), NFTA_LIST_ELEM) : NULL;
    if (element && (attribute_in(payload(element), payload_length(element), NFTA_SET_ELEM_TIMEOUT)
                    || attribute_in(payload(element), payload_length(element), NFTA_SET_ELEM_EXPIRATION)))
        *(int *)context = 1;
    return 0;
}

int berth_nft_map_element_expires(int sock, uint8_t family, const char *table, const char *map, const uint8_t *key,
                                  int key_length) {
    struct request r;
    if (set_element_message(&r, 0, NFT_MSG_GETSETELEM, NLM_F_REQUEST | NLM_F_ACK, family, table, map) < 0) return -ENOBUFS;
    if (begin_nest(&r, NFTA_SET_ELEM_LIST_ELEMENTS) < 0 || begin_nest(&r, NFTA_LIST_ELEM) < 0
        || begin_nest(&r, NFTA_SET_ELEM_KEY) < 0) return -ENOBUFS;
    if (put_attribute(&r, NFTA_DATA_VALUE, key, (size_t)key_length) < 0) return -ENOBUFS;
    end_nest(&r);
    end_nest(&r);
    end_nest(&r);
    int expires = 0;
    uint32_t last = r.message->nlmsg_seq;
    int rc = send_request(sock, &r);
    if (rc < 0) return rc;
    rc = receive(sock, last, found_timeout, &expires);
    return rc < 0 ? rc : expires;
}

int berth_nft_set_exists(int sock, uint8_t family, const char *table, const char *set) {
    struct request r;
    if (nft_message(&r, 0, NFT_MSG_GETSET, NLM_F_REQUEST | NLM_F_ACK, family, NFTA_SET_TABLE, table, NFTA_SET_NAME, set) < 0)
        return -ENOBUFS;
    return transact(sock, &r);
}

int berth_nft_chain_exists(int sock, uint8_t family, const char *table, const char *chain) {
    struct request r;
    if (nft_message(&r, 0, NFT_MSG_GETCHAIN, NLM_F_REQUEST | NLM_F_ACK, family, NFTA_CHAIN_TABLE, table, NFTA_CHAIN_NAME, chain) < 0)
        return -ENOBUFS;
    return transact(sock, &r);
}
