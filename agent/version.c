/* version.c: the agent's version string, one place. */
#include "version.h"

const char *
ro_version(void)
{
	return RO_VERSION;
}
