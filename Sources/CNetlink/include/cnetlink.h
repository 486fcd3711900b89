#ifndef BERTH_CNETLINK_H
#define BERTH_CNETLINK_H

#include <stdint.h>

// rtnetlink and nf_tables' set-element messages, spoken directly: the few requests a container
// network needs (a bridge, a veth pair with one end in the container, addresses, routes, the
// published-port maps' elements) as one message and one acknowledgement each. Every function
// returns 0 (or a count, or an index) on success and -errno on failure.

// Which netlink family a socket speaks.
enum { BERTH_NETLINK_ROUTE = 0, BERTH_NETLINK_NETFILTER = 12 };
// nftables' inet family (both IPv4 and IPv6 in one table).
enum { BERTH_NFPROTO_INET = 1 };

// A netlink socket of `protocol` in the network namespace `netns_fd` (-1: the caller's). The
// socket stays in that namespace for its life; the calling thread returns to its own at once.
int berth_netlink_open(int protocol, int netns_fd);

// The interface index of `name`, or -ENODEV.
int berth_link_index(int sock, const char *name);

// A bridge named `name` (EEXIST when it is there) with the hardware address `mac` (6 bytes; NULL:
// the kernel's, which then follows the lowest address among its ports as they come and go).
int berth_bridge_create(int sock, const char *name, unsigned mtu, const uint8_t *mac);

// A veth pair: `host_name` stays here, its peer `peer_name` is created in `peer_netns_fd` with
// the hardware address `peer_mac` (6 bytes; NULL: the kernel's random one).
int berth_veth_create(int sock, const char *host_name, const char *peer_name, int peer_netns_fd, unsigned mtu,
                      const uint8_t *peer_mac);

// Puts link `index` under `master_index` (0: leave it) and sets it up (or down).
int berth_link_set(int sock, int index, int master_index, int up);

// Deletes the link `name` (-ENODEV when there is none).
int berth_link_delete(int sock, const char *name);

// Adds an IPv4 address with its prefix length to link `index` (EEXIST when it is there).
int berth_address_add(int sock, int index, const uint8_t address[4], int prefix_length);

// Adds the default route through `gateway`.
int berth_route_add_default(int sock, const uint8_t gateway[4]);

// The main table's IPv4 routes (destination, prefix length, interface index), at most `max`.
struct berth_route { uint8_t destination[4]; uint8_t prefix_length; int interface_index; };
int berth_routes(int sock, struct berth_route *out, int max);

enum { BERTH_NFT_ADD = 0, BERTH_NFT_DELETE = 1, BERTH_NFT_EXPIRE = 2 };

// Changes elements of an nf_tables map in one transaction: `count` keys of `key_length` bytes and
// data of `data_length` bytes, laid out one after another. ADD: a key that is there fails with
// EEXIST and adds nothing. DELETE: a key that is not there fails with ENOENT. EXPIRE: the elements
// get the shortest timeout (the map needs `flags timeout`; a kernel without element updates
// leaves them as they were, which berth_nft_map_element_expires tells).
int berth_nft_map_change(int sock, int change, uint8_t family, const char *table, const char *map,
                         const uint8_t *keys, int key_length, const uint8_t *data, int data_length, int count);

// Whether the map's element for `key` has a timeout: 1, 0 when it has none, -ENOENT when there is
// no such element (or it has expired).
int berth_nft_map_element_expires(int sock, uint8_t family, const char *table, const char *map, const uint8_t *key,
                                  int key_length);

// Whether the nf_tables set (or map) `set` of `table` exists: 0, or -ENOENT.
int berth_nft_set_exists(int sock, uint8_t family, const char *table, const char *set);

// Whether the nf_tables chain `chain` of `table` exists: 0, or -ENOENT.
int berth_nft_chain_exists(int sock, uint8_t family, const char *table, const char *chain);

#endif
