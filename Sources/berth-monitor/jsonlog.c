// The json-file log: record assembly, JSON escaping, timestamps and rotation (see jsonlog.h).
// Everything here runs in the monitor's loop: no malloc, no stdio, fixed buffers only.
#include "jsonlog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>   // rename()
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

// The longest record: every byte escaped as \u00XX, plus the keys, stream and time.
#define MAX_RECORD (6 * JSONLOG_MAX_PIECE + 128)
// Records wait here until a flush; a record never straddles a write().
static unsigned char pending[MAX_RECORD + 32 * 1024];
static size_t pending_len;

// "PATH.<n>" for rotation; the path's length was checked in jsonlog_open.
static char rotated_name[2][PATH_MAX];

static const char hex_digits[] = "0123456789abcdef";

size_t json_escape(unsigned char *out, const unsigned char *bytes, size_t len) {
    size_t o = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char c = bytes[i];
        if (c < 0x80) {
            switch (c) {
            case '"':  out[o++] = '\\'; out[o++] = '"'; break;
            case '\\': out[o++] = '\\'; out[o++] = '\\'; break;
            case '\n': out[o++] = '\\'; out[o++] = 'n'; break;
            case '\r': out[o++] = '\\'; out[o++] = 'r'; break;
            case '\t': out[o++] = '\\'; out[o++] = 't'; break;
            case '\b': out[o++] = '\\'; out[o++] = 'b'; break;
            case '\f': out[o++] = '\\'; out[o++] = 'f'; break;
            default:
                if (c < 0x20) {
                    memcpy(out + o, "\\u00", 4);
                    out[o + 4] = (unsigned char)hex_digits[c >> 4];
                    out[o + 5] = (unsigned char)hex_digits[c & 15];
                    o += 6;
                } else {
                    out[o++] = c;
                }
            }
            i++;
            continue;
        }
        // A multi-byte sequence is copied only when it is well-formed UTF-8 (RFC 3629: no
        // overlong forms, no surrogates, nothing above U+10FFFF); otherwise its first byte
        // becomes U+FFFD and decoding resumes at the next byte, as Go (and so Docker) does.
        size_t need = 0;
        unsigned char lo = 0x80, hi = 0xBF;   // the allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF) need = 1;
        else if (c == 0xE0) { need = 2; lo = 0xA0; }
        else if (c >= 0xE1 && c <= 0xEC) need = 2;
        else if (c == 0xED) { need = 2; hi = 0x9F; }
        else if (c >= 0xEE && c <= 0xEF) need = 2;
        else if (c == 0xF0) { need = 3; lo = 0x90; }
        else if (c >= 0xF1 && c <= 0xF3) need = 3;
        else if (c == 0xF4) { need = 3; hi = 0x8F; }
        int valid = need > 0 && i + need < len;   // the whole sequence is there
        if (valid) {
            if (bytes[i + 1] < lo || bytes[i + 1] > hi) valid = 0;
            for (size_t k = 2; valid && k <= need; k++) {
                if ((bytes[i + k] & 0xC0) != 0x80) valid = 0;
            }
        }
        if (valid) {
            memcpy(out + o, bytes + i, need + 1);
            o += need + 1;
            i += need + 1;
        } else {
            out[o++] = 0xEF; out[o++] = 0xBF; out[o++] = 0xBD;
            i++;
        }
    }
    return o;
}

// Writes `digits` decimal digits of `value`, zero-padded.
static unsigned char *put_digits(unsigned char *p, unsigned long value, int digits) {
    for (int k = digits - 1; k >= 0; k--) {
        p[k] = (unsigned char)('0' + value % 10);
        value /= 10;
    }
    return p + digits;
}

// The current time as RFC 3339 in UTC with nanoseconds: 2026-11-25T17:30:01.123456789Z (30 bytes).
// The calendar is computed here (days to year/month/day in the proleptic Gregorian calendar,
// counting in 400-year eras) because gmtime_r may read the time zone files and allocate.
static unsigned char *put_time(unsigned char *p) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long seconds = (long long)now.tv_sec;
    long long days = seconds / 86400;
    long long in_day = seconds % 86400;
    if (in_day < 0) { in_day += 86400; days--; }

    long long shifted = days + 719468;            // days since 0000-03-01
    long long era = (shifted >= 0 ? shifted : shifted - 146096) / 146097;
    long long day_of_era = shifted - era * 146097;                                   // [0, 146096]
    long long year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524
                             - day_of_era / 146096) / 365;                           // [0, 399]
    long long day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    long long month_from_march = (5 * day_of_year + 2) / 153;                        // [0, 11]
    long long day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    long long month = month_from_march < 10 ? month_from_march + 3 : month_from_march - 9;
    long long year = year_of_era + era * 400 + (month <= 2);
    if (year < 0) year = 0;
    if (year > 9999) year = 9999;

    p = put_digits(p, (unsigned long)year, 4); *p++ = '-';
    p = put_digits(p, (unsigned long)month, 2); *p++ = '-';
    p = put_digits(p, (unsigned long)day, 2); *p++ = 'T';
    p = put_digits(p, (unsigned long)(in_day / 3600), 2); *p++ = ':';
    p = put_digits(p, (unsigned long)(in_day / 60 % 60), 2); *p++ = ':';
    p = put_digits(p, (unsigned long)(in_day % 60), 2); *p++ = '.';
    p = put_digits(p, (unsigned long)now.tv_nsec, 9); *p++ = 'Z';
    return p;
}

static int open_log(const char *path, int truncate) {
    int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | (truncate ? O_TRUNC : 0);
    int fd;
    do {
        fd = open(path, flags, 0640);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

int jsonlog_open(struct jsonlog *log, const char *path, unsigned long long max_size, unsigned max_files) {
    if (strlen(path) + 16 >= PATH_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    log->path = path;
    log->max_size = max_size;
    log->max_files = max_files ? max_files : 1;
    log->size = 0;
    log->fd = open_log(path, 0);
    if (log->fd < 0) return -1;
    struct stat st;
    if (fstat(log->fd, &st) == 0) log->size = (unsigned long long)st.st_size;
    pending_len = 0;
    return 0;
}

// Writes all of `len` bytes (whole records), or as much as the file takes; what it refuses is
// dropped. A write cut short (a full disk) can end inside a record: the file is cut back to the
// last whole record, so that it stays valid JSON lines and the next record, once there is room
// again, starts a line of its own.
static void write_out(struct jsonlog *log, const unsigned char *bytes, size_t len) {
    const unsigned char *start = bytes;
    while (len > 0 && log->fd >= 0) {
        ssize_t n = write(log->fd, bytes, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        log->size += (unsigned long long)n;
        bytes += n;
        len -= (size_t)n;
    }
    if (len == 0 || bytes == start || log->fd < 0) return;
    size_t written = (size_t)(bytes - start);
    size_t whole = written;
    while (whole > 0 && start[whole - 1] != '\n') whole--;
    if (whole == written) return;
    off_t end = lseek(log->fd, 0, SEEK_END);
    off_t cut = end - (off_t)(written - whole);
    if (end >= 0 && cut >= 0 && ftruncate(log->fd, cut) == 0) {
        log->size -= (unsigned long long)(written - whole);
    }
}

void jsonlog_flush(struct jsonlog *log) {
    if (log->fd < 0 && pending_len > 0) {
        // A failed reopen during rotation: try again rather than lose the log for good.
        log->fd = open_log(log->path, 0);
        struct stat st;
        if (log->fd >= 0 && fstat(log->fd, &st) == 0) log->size = (unsigned long long)st.st_size;
    }
    write_out(log, pending, pending_len);
    pending_len = 0;
}

static void name_rotated(char *out, const char *path, unsigned n) {
    size_t len = strlen(path);
    memcpy(out, path, len);
    if (n == 0) {
        out[len] = '\0';
        return;
    }
    char digits[12];
    int count = 0;
    while (n > 0) { digits[count++] = (char)('0' + n % 10); n /= 10; }
    out[len++] = '.';
    while (count > 0) out[len++] = digits[--count];
    out[len] = '\0';
}

// PATH.(N-2) -> PATH.(N-1), ..., PATH -> PATH.1, then a new, empty PATH. With one file in
// total, PATH is truncated instead. Called with nothing pending.
static void rotate(struct jsonlog *log) {
    if (log->fd >= 0) close(log->fd);
    log->fd = -1;
    int truncate = 1;
    if (log->max_files > 1) {
        for (unsigned n = log->max_files - 1; n >= 1; n--) {
            name_rotated(rotated_name[0], log->path, n - 1);
            name_rotated(rotated_name[1], log->path, n);
            if (rename(rotated_name[0], rotated_name[1]) != 0 && errno != ENOENT && n == 1) {
                // PATH could not be moved aside: keep appending to it rather than truncate it.
                truncate = 0;
            }
        }
    }
    log->fd = open_log(log->path, truncate);
    log->size = 0;
    struct stat st;
    if (log->fd >= 0 && fstat(log->fd, &st) == 0) log->size = (unsigned long long)st.st_size;
}

void jsonlog_record(struct jsonlog *log, const char *stream, const unsigned char *bytes, size_t len) {
    if (len > JSONLOG_MAX_PIECE) len = JSONLOG_MAX_PIECE;
    if (pending_len + MAX_RECORD > sizeof(pending)) jsonlog_flush(log);

    size_t start = pending_len;
    unsigned char *p = pending + start;
    memcpy(p, "{\"log\":\"", 8); p += 8;
    p += json_escape(p, bytes, len);
    memcpy(p, "\",\"stream\":\"", 12); p += 12;
    size_t stream_len = strlen(stream);
    memcpy(p, stream, stream_len); p += stream_len;
    memcpy(p, "\",\"time\":\"", 10); p += 10;
    p = put_time(p);
    memcpy(p, "\"}\n", 3); p += 3;
    size_t record_len = (size_t)(p - (pending + start));

    // Rotate before the record that would take the file past its limit (Docker's rule); a
    // record alone larger than the limit still goes into a fresh file whole.
    unsigned long long before = log->size + start;
    if (log->max_size > 0 && before > 0 && before + record_len > log->max_size) {
        write_out(log, pending, start);
        rotate(log);
        memmove(pending, pending + start, record_len);
        start = 0;
    }
    pending_len = start + record_len;
}

void jsonlog_close(struct jsonlog *log) {
    jsonlog_flush(log);
    if (log->fd >= 0) close(log->fd);
    log->fd = -1;
}
