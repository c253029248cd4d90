#ifndef IMPRINT_CLINUX_SHIM_H
#define IMPRINT_CLINUX_SHIM_H

// Linux calls that Swift's Glibc module leaves out: extended attributes (SELinux labels, capabilities, ACLs),
// which Imprint keeps when it replaces a file.
#include <sys/xattr.h>

// syncfs(2), which Glibc declares only under _GNU_SOURCE: a restore flushes its target's file system once, before
// it removes its marker.
int syncfs(int fd);

// memfd_create(2), also _GNU_SOURCE only: 'imprint install' strips the agent into memory, so a dry run leaves no
// temporary file behind on the host or in the target.
int memfd_create(const char *name, unsigned int flags);

// pipe2(2) and the posix_spawn file actions addchdir_np (glibc 2.29) and addclosefrom_np (2.34), also _GNU_SOURCE
// only: ChildProcess makes its pipes close-on-exec in the same call, starts a child in a folder of its own without
// changing this process's, and closes every other descriptor in the child, so it never holds open a pipe or a file
// it was not given.
#include <spawn.h>
int pipe2(int pipefd[2], int flags);
int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *actions, const char *path);
int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);

// SCHED_BATCH (sched(7)), also _GNU_SOURCE only: the image pipelines' worker threads and a restore's data writer
// ask for it, so their wakeups do not preempt the thread that walks the tar stream or the tree.
#include <sched.h>
#ifndef SCHED_BATCH
#define SCHED_BATCH 3
#endif

// mallopt(3): imprint's and imprint-server's entry points keep freed image blocks in the process instead of returning
// them to the kernel.
#include <malloc.h>

#endif
