/* version.h: the agent's version string. */
#ifndef RO_AGENT_VERSION_H
#define RO_AGENT_VERSION_H

const char	*ro_version(void);

#endif
