#ifndef IMPRINT_CUUID_SHIM_H
#define IMPRINT_CUUID_SHIM_H

#include <uuid/uuid.h>

#endif
