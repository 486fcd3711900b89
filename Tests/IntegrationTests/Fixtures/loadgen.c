// The open-loop load generator of the deploy tests (issue 15): GET / at a fixed rate, each
// request sent at its scheduled time whether or not earlier ones have answered, its latency
// measured from that scheduled time (so a stall shows as latency instead of slowing the client
// down). Every other request is sent on a kept-alive connection (reused when one is idle), the
// others each on a new connection with `Connection: close`.
//
// Usage: loadgen HOST PORT RATE SECONDS TIMEOUT_MS RECORDS_FILE
// A request passes only with a complete 2xx answer; refused connections, resets, empty replies,
// replies cut short, 5xx, other statuses and timeouts are counted apart. Prints one summary
// line (key=value) and writes one line per request to RECORDS_FILE:
//   SCHEDULED_UNIX_MS LATENCY_MS RESULT STATUS VERSION KIND
// Bounded: RATE*SECONDS requests at most, and it ends SECONDS + TIMEOUT_MS/1000 + 1 after its start.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum result { PENDING, OK, REFUSED, RESET, EMPTY, INCOMPLETE, STATUS_5XX, STATUS_OTHER, TIMEOUT, ERROR, RESULTS };
static const char *names[] = {"pending", "ok", "refused", "reset", "empty", "incomplete", "5xx", "other", "timeout", "error"};

struct request {
    long long scheduled_ns, scheduled_unix_ms;
    long long latency_us;
    int result, status, keepalive;
    char version[24];
};

struct conn {
    int fd;
    int request;      // in flight, or -1: idle in the keep-alive pool
    int connected, keepalive;
    size_t sent, have;
    char buf[4096];
};

#define MAX_CONNS 4096
static struct conn conns[MAX_CONNS];
static int idle_pool[MAX_CONNS], idle_count;
static struct request *requests;
static int epfd;
static struct sockaddr_in target;
static char host_header[64];

static long long mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long unix_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int free_slot(void) {
    for (int i = 0; i < MAX_CONNS; i++)
        if (conns[i].fd <= 0) return i;
    return -1;
}

static void close_conn(int c) {
    if (conns[c].fd > 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, conns[c].fd, NULL);
        close(conns[c].fd);
    }
    for (int i = 0; i < idle_count; i++)
        if (idle_pool[i] == c) idle_pool[i] = idle_pool[--idle_count];
    conns[c].fd = 0;
    conns[c].request = -1;
}

static void finish(int c, int result, long long now) {
    struct conn *k = &conns[c];
    if (k->request >= 0) {
        struct request *r = &requests[k->request];
        r->result = result;
        r->latency_us = (now - r->scheduled_ns) / 1000;
    }
    k->request = -1;
}

static void request_text(const struct conn *k, char *out, size_t size) {
    snprintf(out, size, "GET / HTTP/1.1\r\nHost: %s\r\n%s\r\n", host_header, k->keepalive ? "" : "Connection: close\r\n");
}

static void send_request(int c, long long now) {
    struct conn *k = &conns[c];
    char text[256];
    request_text(k, text, sizeof text);
    size_t len = strlen(text);
    while (k->sent < len) {
        ssize_t w = send(k->fd, text + k->sent, len - k->sent, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN) return;
            finish(c, errno == ECONNRESET || errno == EPIPE ? RESET : ERROR, now);
            close_conn(c);
            return;
        }
        k->sent += (size_t)w;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = (uint32_t)c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, k->fd, &ev);
}

static void start(int index, long long now) {
    struct request *r = &requests[index];
    int c = -1;
    if (r->keepalive && idle_count > 0) c = idle_pool[--idle_count];
    if (c >= 0) {
        conns[c].request = index;
        conns[c].sent = conns[c].have = 0;
        send_request(c, now);
        return;
    }
    c = free_slot();
    if (c < 0) {
        r->result = ERROR;
        return;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        r->result = ERROR;
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conns[c] = (struct conn){.fd = fd, .request = index, .keepalive = r->keepalive};
    int rc = connect(fd, (struct sockaddr *)&target, sizeof target);
    if (rc != 0 && errno != EINPROGRESS) {
        finish(c, errno == ECONNREFUSED ? REFUSED : ERROR, now);
        close(fd);
        conns[c].fd = 0;
        return;
    }
    struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)c};
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    if (rc == 0) {
        conns[c].connected = 1;
        send_request(c, now);
    }
}

// Whether buf holds a whole answer; its status and first body line when it does.
static int complete(struct conn *k, int *status, char *version, size_t vsize) {
    char *end = memmem(k->buf, k->have, "\r\n\r\n", 4);
    if (!end) return 0;
    *end = 0;
    if (sscanf(k->buf, "HTTP/1.%*d %d", status) != 1) *status = 0;
    long length = 0;
    char *cl = strcasestr(k->buf, "\r\ncontent-length:");
    if (cl) length = strtol(cl + 17, NULL, 10);
    *end = '\r';
    size_t body = (size_t)(end - k->buf) + 4;
    if (k->have < body + (size_t)length) return 0;
    size_t n = (size_t)length < vsize - 1 ? (size_t)length : vsize - 1;
    memcpy(version, k->buf + body, n);
    version[n] = 0;
    char *nl = strchr(version, '\n');
    if (nl) *nl = 0;
    return 1;
}

static void readable(int c, long long now) {
    struct conn *k = &conns[c];
    for (;;) {
        if (k->have == sizeof k->buf) {
            finish(c, ERROR, now);
            close_conn(c);
            return;
        }
        ssize_t r = recv(k->fd, k->buf + k->have, sizeof k->buf - k->have, 0);
        if (r < 0) {
            if (errno == EAGAIN) return;
            if (k->request >= 0) finish(c, errno == ECONNRESET ? RESET : ERROR, now);
            close_conn(c);
            return;
        }
        if (r == 0) {
            if (k->request >= 0) finish(c, k->have == 0 ? EMPTY : INCOMPLETE, now);
            close_conn(c);
            return;
        }
        k->have += (size_t)r;
        if (k->request < 0) {
            // Bytes on an idle connection: nothing asked for them; drop the connection.
            close_conn(c);
            return;
        }
        int status = 0;
        struct request *req = &requests[k->request];
        if (complete(k, &status, req->version, sizeof req->version)) {
            req->status = status;
            finish(c, status >= 200 && status < 300 ? OK : status >= 500 ? STATUS_5XX : STATUS_OTHER, now);
            int closing = strcasestr(k->buf, "\r\nconnection: close") != NULL;
            if (k->keepalive && !closing && idle_count < MAX_CONNS) {
                k->have = k->sent = 0;
                idle_pool[idle_count++] = c;
            } else {
                close_conn(c);
            }
            return;
        }
    }
}

static int compare(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: loadgen HOST PORT RATE SECONDS TIMEOUT_MS RECORDS_FILE\n");
        return 2;
    }
    int port = atoi(argv[2]), rate = atoi(argv[3]), seconds = atoi(argv[4]), timeout_ms = atoi(argv[5]);
    if (rate <= 0 || rate > 5000 || seconds <= 0 || seconds > 120 || timeout_ms <= 0) {
        fprintf(stderr, "loadgen: rate 1-5000, seconds 1-120, timeout > 0\n");
        return 2;
    }
    target.sin_family = AF_INET;
    target.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, argv[1], &target.sin_addr) != 1) {
        fprintf(stderr, "loadgen: %s is not an IPv4 address\n", argv[1]);
        return 2;
    }
    snprintf(host_header, sizeof host_header, "%s:%d", argv[1], port);
    int total = rate * seconds;
    requests = calloc((size_t)total, sizeof *requests);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    long long t0 = mono_ns(), t0_unix = unix_ms();
    long long interval = 1000000000LL / rate;
    long long hard_end = t0 + (long long)seconds * 1000000000LL + timeout_ms * 1000000LL + 1000000000LL;
    for (int i = 0; i < total; i++) {
        requests[i].scheduled_ns = t0 + i * interval;
        requests[i].scheduled_unix_ms = t0_unix + i * interval / 1000000;
        requests[i].keepalive = i % 2 == 0;
    }
    int next = 0;
    struct epoll_event events[256];
    for (;;) {
        long long now = mono_ns();
        while (next < total && requests[next].scheduled_ns <= now) start(next++, now);
        // Timeouts, scanned: at most a few hundred connections are open at a time.
        for (int c = 0; c < MAX_CONNS; c++) {
            if (conns[c].fd > 0 && conns[c].request >= 0 &&
                now - requests[conns[c].request].scheduled_ns > timeout_ms * 1000000LL) {
                finish(c, TIMEOUT, now);
                close_conn(c);
            }
        }
        int pending = 0;
        for (int c = 0; c < MAX_CONNS; c++)
            if (conns[c].fd > 0 && conns[c].request >= 0) pending = 1;
        if (next == total && !pending) break;
        if (now > hard_end) break;
        // Until 200 us before the next request is due (at most 5 ms), then a busy loop: a sleep
        // to the due time itself would add the wake-up from an idle CPU (tens to hundreds of us
        // on a VM) to every latency, and a timeout in whole milliseconds made the loop spin for
        // up to a millisecond before each send.
        long long wait_ns = 5000000LL;
        if (next < total) {
            long long until = requests[next].scheduled_ns - now - 200000LL;
            if (until < wait_ns) wait_ns = until < 0 ? 0 : until;
        }
        struct timespec timeout = {.tv_sec = wait_ns / 1000000000LL, .tv_nsec = wait_ns % 1000000000LL};
        int n = epoll_pwait2(epfd, events, 256, &timeout, NULL);
        now = mono_ns();
        for (int e = 0; e < n; e++) {
            int c = (int)events[e].data.u32;
            struct conn *k = &conns[c];
            if (k->fd <= 0) continue;
            if (!k->connected) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err != 0) {
                    finish(c, err == ECONNREFUSED ? REFUSED : err == ECONNRESET ? RESET : ERROR, now);
                    close_conn(c);
                    continue;
                }
                k->connected = 1;
                send_request(c, now);
                continue;
            }
            // Still registered for EPOLLOUT: the request is not all sent yet.
            if (k->request >= 0 && (events[e].events & EPOLLOUT)) {
                send_request(c, now);
                continue;
            }
            readable(c, now);
        }
    }
    for (int c = 0; c < MAX_CONNS; c++) {
        if (conns[c].fd > 0 && conns[c].request >= 0) finish(c, TIMEOUT, mono_ns());
        if (conns[c].fd > 0) close_conn(c);
    }
    int counts[RESULTS] = {0};
    long long *latencies = calloc((size_t)total + 1, sizeof *latencies);
    int ok = 0;
    FILE *out = fopen(argv[6], "w");
    if (!out) {
        perror("loadgen: records file");
        return 2;
    }
    // Versions answered, at most 8 distinct ones.
    char versions[8][24];
    int version_counts[8] = {0}, version_kinds = 0;
    for (int i = 0; i < total; i++) {
        struct request *r = &requests[i];
        if (r->result == PENDING) r->result = TIMEOUT;
        counts[r->result]++;
        if (r->result == OK) {
            latencies[ok++] = r->latency_us;
            int v = 0;
            while (v < version_kinds && strcmp(versions[v], r->version) != 0) v++;
            if (v == version_kinds && version_kinds < 8) strcpy(versions[version_kinds++], r->version);
            if (v < 8) version_counts[v]++;
        }
        fprintf(out, "%lld %.3f %s %d %s %s\n", r->scheduled_unix_ms, r->latency_us / 1000.0, names[r->result], r->status,
                r->version[0] ? r->version : "-", r->keepalive ? "keepalive" : "new");
    }
    fclose(out);
    qsort(latencies, (size_t)ok, sizeof *latencies, compare);
    double p50 = ok ? latencies[ok / 2] / 1000.0 : 0, p99 = ok ? latencies[(ok * 99) / 100] / 1000.0 : 0;
    printf("sent=%d ok=%d failed=%d", total, ok, total - ok);
    for (int k = REFUSED; k < RESULTS; k++) printf(" %s=%d", names[k], counts[k]);
    printf(" p50_ms=%.2f p99_ms=%.2f versions=", p50, p99);
    for (int v = 0; v < version_kinds; v++) printf("%s%s:%d", v ? "," : "", versions[v], version_counts[v]);
    printf("\n");
    return 0;
}
