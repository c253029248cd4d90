// libcurl's types and option numbers only: Imprint opens libcurl.so.4 at run time (see ImprintRemote), so no link
// flag is given here and the imprint binary runs on a unit without libcurl.
#include <curl/curl.h>
