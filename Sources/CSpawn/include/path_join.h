// The PATH search's join, shared by berth-entry (which has no C library, hence the plain loops)
// and the tests that check its bounds.
#ifndef BERTH_PATH_JOIN_H
#define BERTH_PATH_JOIN_H

#include <errno.h>
#include <stddef.h>

/// Writes `dir` (its first `dir_length` bytes; none means the working directory, ".") + "/" +
/// `name` and a NUL into `buffer` of `size` bytes. Returns the length, or -ENAMETOOLONG when it
/// does not fit (nothing is written then).
static inline int berth_join_path(char *buffer, size_t size, const char *dir, size_t dir_length, const char *name) {
    // An empty PATH entry means the working directory, spelled ".": one byte more than it
    // takes in PATH, which the bound must count.
    size_t dlen = dir_length == 0 ? 1 : dir_length;
    size_t nlen = 0;
    while (name[nlen]) nlen++;
    if (dlen >= size || nlen >= size - dlen || size - dlen - nlen < 2) return -ENAMETOOLONG;   // '/' and NUL
    if (dir_length == 0) buffer[0] = '.';
    else for (size_t i = 0; i < dir_length; i++) buffer[i] = dir[i];
    buffer[dlen] = '/';
    for (size_t i = 0; i <= nlen; i++) buffer[dlen + 1 + i] = name[i];
    return (int)(dlen + 1 + nlen);
}

#endif
