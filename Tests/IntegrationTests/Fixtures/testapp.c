// The web app of the deploy tests (issue 15): a small static HTTP/1.1 server run in a container
// behind HAProxy. `GET /` answers its version; `/up` is its health; everything that makes a
// deploy hard is an option, so each test picks the misbehaviour it is about.
//
// Usage: testapp [--port N] [--version TEXT] [--delay-ms N] [--boot-ms N] [--sigterm die|graceful]
//                [--fail-health-after N] [--idle-ms N]
// Each option may also come from the environment (APP_PORT, APP_VERSION, APP_DELAY_MS,
// APP_BOOT_MS, APP_SIGTERM, APP_FAIL_HEALTH_AFTER, APP_IDLE_MS), the option winning.
//   --delay-ms: how long `GET /` takes (slow requests across a deploy).
//   --boot-ms: how long before it listens (a slow boot).
//   --sigterm die: exit at once on SIGTERM, cutting whatever is in flight; graceful (the
//     default): stop accepting, finish the requests in flight, close idle connections, exit.
//   --fail-health-after N: /up answers 503 from its (N+1)th check on (0: never fails).
//   --idle-ms: how long a keep-alive connection may wait for its next request.
// A thread per connection: the requests are few and may be slow, and a thread that sleeps
// through its delay is the simplest model of an app doing work.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port = 3000;
static const char *version = "v0";
static int delay_ms, boot_ms, fail_health_after, idle_ms = 30000;
static int graceful = 1;

static volatile sig_atomic_t stopping;
static int listener = -1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle_cond = PTHREAD_COND_INITIALIZER;
static int busy;          // connections in the middle of a request
static int connections;   // open connections
static int health_checks;

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static void on_term(int sig) {
    (void)sig;
    if (!graceful) _exit(0);
    stopping = 1;
}

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

// Head and body in one write: a kill -9 then lands before the reply or after it, never between
// its halves (a response whose head the proxy has already passed on cannot be retried elsewhere).
static int reply(int fd, int status, const char *reason, const char *body, int close_after) {
    char message[768];
    int n = snprintf(message, sizeof message,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n%s\r\n%s",
                     status, reason, strlen(body), close_after ? "Connection: close\r\n" : "", body);
    if (n < 0 || (size_t)n >= sizeof message) return -1;
    return write_all(fd, message, (size_t)n);
}

// Waits up to `ms` for the connection to be readable, checking for a graceful stop every 50 ms;
// 1 readable, 0 not (idle too long, or stopping while idle).
static int wait_readable(int fd, int ms) {
    for (int waited = 0; waited < ms; waited += 50) {
        if (stopping) return 0;
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, 50);
        if (r > 0) return 1;
        if (r < 0 && errno != EINTR) return 0;
    }
    return 0;
}

static void *serve(void *arg) {
    int fd = (int)(long)arg;
    char buf[8192];
    size_t have = 0;
    for (;;) {
        // The head of the next request; idle until its first byte.
        char *end = NULL;
        int started = 0;
        while (!(end = memmem(buf, have, "\r\n\r\n", 4))) {
            if (have == sizeof buf) goto done;
            if (!started && have == 0 && !wait_readable(fd, idle_ms)) goto done;
            ssize_t r = recv(fd, buf + have, sizeof buf - have, 0);
            if (r <= 0) {
                if (r < 0 && errno == EINTR) continue;
                goto done;
            }
            if (!started) {
                started = 1;
                pthread_mutex_lock(&lock);
                busy++;
                pthread_mutex_unlock(&lock);
            }
            have += (size_t)r;
        }
        if (!started) {
            pthread_mutex_lock(&lock);
            busy++;
            pthread_mutex_unlock(&lock);
        }
        size_t head_len = (size_t)(end - buf) + 4;
        char method[16] = "", path[256] = "", proto[16] = "";
        sscanf(buf, "%15s %255s %15s", method, path, proto);
        *end = 0;
        int close_after = strcmp(proto, "HTTP/1.1") != 0 || strcasestr(buf, "\r\nconnection: close") != NULL;
        long body_len = 0;
        char *cl = strcasestr(buf, "\r\ncontent-length:");
        if (cl) body_len = strtol(cl + 17, NULL, 10);
        // The body is not used; it is read so the next request starts where it should.
        size_t rest = have - head_len;
        memmove(buf, buf + head_len, rest);
        have = rest;
        while ((long)have < body_len) {
            ssize_t r = recv(fd, buf + have, sizeof buf - have, 0);
            if (r <= 0) goto done_busy;
            have += (size_t)r;
            if (have == sizeof buf && (long)have < body_len) {
                body_len -= (long)have;
                have = 0;
            }
        }
        if (body_len > 0) {
            memmove(buf, buf + body_len, have - (size_t)body_len);
            have -= (size_t)body_len;
        }
        int rc;
        if (strcmp(path, "/up") == 0) {
            pthread_mutex_lock(&lock);
            int n = ++health_checks;
            pthread_mutex_unlock(&lock);
            if (fail_health_after > 0 && n > fail_health_after)
                rc = reply(fd, 503, "Service Unavailable", "unhealthy\n", close_after || stopping);
            else
                rc = reply(fd, 200, "OK", "up\n", close_after || stopping);
        } else if (strcmp(path, "/") == 0) {
            if (delay_ms > 0) sleep_ms(delay_ms);
            char body[160];
            snprintf(body, sizeof body, "%s\n", version);
            rc = reply(fd, 200, "OK", body, close_after || stopping);
        } else {
            rc = reply(fd, 404, "Not Found", "not found\n", close_after || stopping);
        }
        pthread_mutex_lock(&lock);
        busy--;
        pthread_cond_broadcast(&idle_cond);
        pthread_mutex_unlock(&lock);
        if (rc != 0 || close_after || stopping) goto done;
    }
done_busy:
    pthread_mutex_lock(&lock);
    busy--;
    pthread_mutex_unlock(&lock);
done:
    close(fd);
    pthread_mutex_lock(&lock);
    connections--;
    pthread_cond_broadcast(&idle_cond);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void option(const char *name, const char *value) {
    if (!strcmp(name, "port")) port = atoi(value);
    else if (!strcmp(name, "version")) version = value;
    else if (!strcmp(name, "delay-ms")) delay_ms = atoi(value);
    else if (!strcmp(name, "boot-ms")) boot_ms = atoi(value);
    else if (!strcmp(name, "sigterm")) graceful = strcmp(value, "die") != 0;
    else if (!strcmp(name, "fail-health-after")) fail_health_after = atoi(value);
    else if (!strcmp(name, "idle-ms")) idle_ms = atoi(value);
    else {
        fprintf(stderr, "testapp: unknown option --%s\n", name);
        exit(2);
    }
}

int main(int argc, char **argv) {
    static const char *env[][2] = {
        {"APP_PORT", "port"}, {"APP_VERSION", "version"}, {"APP_DELAY_MS", "delay-ms"}, {"APP_BOOT_MS", "boot-ms"},
        {"APP_SIGTERM", "sigterm"}, {"APP_FAIL_HEALTH_AFTER", "fail-health-after"}, {"APP_IDLE_MS", "idle-ms"},
    };
    for (size_t i = 0; i < sizeof env / sizeof env[0]; i++) {
        const char *v = getenv(env[i][0]);
        if (v) option(env[i][1], v);
    }
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strncmp(argv[i], "--", 2) != 0) {
            fprintf(stderr, "testapp: expected --OPTION VALUE, got %s\n", argv[i]);
            return 2;
        }
        option(argv[i] + 2, argv[i + 1]);
    }
    // pid 1 in a container: without a handler, SIGTERM would be ignored.
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (boot_ms > 0) sleep_ms(boot_ms);

    listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(listener, 512) != 0) {
        perror("testapp: bind/listen");
        return 1;
    }
    printf("testapp %s listening on %d\n", version, port);
    fflush(stdout);
    while (!stopping) {
        struct pollfd p = {listener, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) continue;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_mutex_lock(&lock);
        connections++;
        pthread_mutex_unlock(&lock);
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, serve, (void *)(long)fd) != 0) {
            close(fd);
            pthread_mutex_lock(&lock);
            connections--;
            pthread_mutex_unlock(&lock);
        }
        pthread_attr_destroy(&attr);
    }
    // Graceful: no new connections; idle ones close within 50 ms; those in a request finish it.
    close(listener);
    pthread_mutex_lock(&lock);
    while (connections > 0) pthread_cond_wait(&idle_cond, &lock);
    pthread_mutex_unlock(&lock);
    printf("testapp %s stopped gracefully\n", version);
    fflush(stdout);
    return 0;
}
