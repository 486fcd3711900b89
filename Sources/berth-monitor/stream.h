// One output stream of the container (a pipe's read end, or the pty master), cut into log
// records: one per line, the newline kept; a line longer than JSONLOG_MAX_PIECE in pieces of that
// size without a newline; what is left at EOF as it is.
#ifndef BERTH_MONITOR_STREAM_H
#define BERTH_MONITOR_STREAM_H

#include <stddef.h>

#include "jsonlog.h"

struct output_stream {
    int fd;              // -1 once the stream has ended
    const char *name;    // "stdout" or "stderr": the record's "stream"
    size_t len;          // bytes of an unfinished line in buf
    unsigned char buf[JSONLOG_MAX_PIECE];
};

enum stream_result { STREAM_DATA, STREAM_IDLE, STREAM_END };

// Sets the fd non-blocking and starts with an empty line.
void stream_init(struct output_stream *s, int fd, const char *name);

// One read(): the complete lines (and full pieces) it finishes become records.
// STREAM_END at EOF or on an error (a pty master gives EIO once its last slave is closed).
enum stream_result stream_read(struct output_stream *s, struct jsonlog *log);

// Logs the unfinished line, if any, and closes the fd.
void stream_finish(struct output_stream *s, struct jsonlog *log);

#endif
