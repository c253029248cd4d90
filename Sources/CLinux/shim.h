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

#endif
