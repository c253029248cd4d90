#ifndef IMPRINT_CZSTD_SHIM_H
#define IMPRINT_CZSTD_SHIM_H

// libzstd (Debian's libzstd-dev): the image engine's second codec, zstd frames that 'tar --zstd' reads.
#include <zstd.h>

#endif
