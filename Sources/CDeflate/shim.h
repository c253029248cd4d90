#ifndef IMPRINT_CDEFLATE_SHIM_H
#define IMPRINT_CDEFLATE_SHIM_H

#include <libdeflate.h>

#endif
