// A directory tree copied between two open directories, for a tmpfs with "tmpcopyup".
#ifndef BERTH_COPY_TREE_H
#define BERTH_COPY_TREE_H

// Copies what the directory `from` holds into the directory `to`: subdirectories, regular files,
// symbolic links, device nodes, fifos and sockets, each with its owner, permission bits and
// times (`to` itself keeps its own: a tmpfs's are its mode= and uid= options, as runc leaves
// them). Nothing is followed through a link.
// Async-signal-safe (no allocation): the spawned child calls it between clone and exec.
// Returns 0, or -1 with errno.
int berth_copy_tree(int from, int to);

#endif
