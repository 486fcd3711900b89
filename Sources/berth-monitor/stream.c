// Cutting a container's output into json-file records (see stream.h).
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

void stream_init(struct output_stream *s, int fd, const char *name) {
    s->fd = fd;
    s->name = name;
    s->len = 0;
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

// Where to cut a full buffer that holds no newline: at its end, unless that splits a UTF-8
// character, which then starts the next piece (so it is not logged as two U+FFFDs).
static size_t piece_end(const unsigned char *buf, size_t len) {
    size_t start = len;
    for (int back = 0; back < 3 && start > 1 && (buf[start - 1] & 0xC0) == 0x80; back++) start--;
    if (start == 0) return len;
    unsigned char lead = buf[start - 1];
    size_t width = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 1;
    if (width > 1 && len - (start - 1) < width) return start - 1 > 0 ? start - 1 : len;
    return len;
}

// Logs every finished line in buf[0..len) and keeps the unfinished rest at the front.
static void cut_lines(struct output_stream *s, struct jsonlog *log) {
    size_t done = 0;
    for (;;) {
        unsigned char *newline = memchr(s->buf + done, '\n', s->len - done);
        if (newline == NULL) break;
        size_t end = (size_t)(newline - s->buf) + 1;
        jsonlog_record(log, s->name, s->buf + done, end - done);
        done = end;
    }
    if (done == 0 && s->len == sizeof(s->buf)) {
        done = piece_end(s->buf, s->len);
        jsonlog_record(log, s->name, s->buf, done);
    }
    if (done > 0) {
        memmove(s->buf, s->buf + done, s->len - done);
        s->len -= done;
    }
}

enum stream_result stream_read(struct output_stream *s, struct jsonlog *log) {
    if (s->fd < 0) return STREAM_END;
    ssize_t n = read(s->fd, s->buf + s->len, sizeof(s->buf) - s->len);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return STREAM_IDLE;
        return STREAM_END;
    }
    if (n == 0) return STREAM_END;
    s->len += (size_t)n;
    cut_lines(s, log);
    return STREAM_DATA;
}

void stream_finish(struct output_stream *s, struct jsonlog *log) {
    if (s->len > 0) jsonlog_record(log, s->name, s->buf, s->len);
    s->len = 0;
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
}
