// The container's log in Docker's json-file format, one object per line:
//   {"log":"hello\n","stream":"stdout","time":"2026-11-25T17:30:01.123456789Z"}
// with size-based rotation (PATH, PATH.1, ... PATH.<max_files - 1>).
//
// Records are assembled in a fixed buffer and written with O_APPEND, several per write(), so
// memory stays bounded whatever the container writes. Write errors (a full disk) drop records
// rather than stop the monitor: the container's pipes must keep draining.
#ifndef BERTH_MONITOR_JSONLOG_H
#define BERTH_MONITOR_JSONLOG_H

#include <stddef.h>

// The longest piece of output one record carries (Docker's 16 KiB).
#define JSONLOG_MAX_PIECE 16384

struct jsonlog {
    const char *path;
    unsigned long long max_size;   // 0 = never rotate
    unsigned max_files;            // >= 1; 1 = truncate in place
    int fd;                        // -1 after a failed reopen: retried at the next record
    unsigned long long size;       // bytes in the open file
};

// Opens (creating if needed) the log for appending. Returns -1 with errno set on failure.
int jsonlog_open(struct jsonlog *log, const char *path, unsigned long long max_size, unsigned max_files);

// Adds one record for `len` (<= JSONLOG_MAX_PIECE) bytes of output of `stream` ("stdout" or
// "stderr"), stamped with the current time. It may stay buffered until jsonlog_flush.
void jsonlog_record(struct jsonlog *log, const char *stream, const unsigned char *bytes, size_t len);

// Writes out the buffered records.
void jsonlog_flush(struct jsonlog *log);

// Flushes and closes the log.
void jsonlog_close(struct jsonlog *log);

// Escapes `len` bytes as the inside of a JSON string: '"', '\\' and control characters escaped,
// invalid UTF-8 replaced byte by byte with U+FFFD. `out` must hold 6 * len bytes. Returns the
// number of bytes written. (Exposed for the monitor's own checks; used by jsonlog_record.)
size_t json_escape(unsigned char *out, const unsigned char *bytes, size_t len);

#endif
