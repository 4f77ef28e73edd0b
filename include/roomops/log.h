/*
 * log.h: the one logging API (after ntpd's log.c).
 *
 * Lines go to stderr, as text or as JSON lines. Each thread may carry a
 * correlation id (ro_log_set_cid) that is added to every line it logs.
 * Thread-safe: a line is written with one write(2).
 */
#ifndef RO_LOG_H
#define RO_LOG_H

#include "roomops/err.h"

enum ro_log_level { RO_LOG_ERROR, RO_LOG_WARN, RO_LOG_INFO, RO_LOG_DEBUG };
enum ro_log_format { RO_LOG_TEXT, RO_LOG_JSON };

/* name: the program tag ("roomops", "roomserver-sim"). Call once at start. */
void	ro_log_init(const char *name, enum ro_log_format fmt,
	    enum ro_log_level level);
void	ro_log_set_level(enum ro_log_level level);
int	ro_log_enabled(enum ro_log_level level);
/* Correlation id of the calling thread (copied; NULL clears it). */
void	ro_log_set_cid(const char *cid);

void	log_warn(const char *fmt, ...) RO_PRINTF(1, 2);	/* + strerror */
void	log_warnx(const char *fmt, ...) RO_PRINTF(1, 2);
void	log_info(const char *fmt, ...) RO_PRINTF(1, 2);
void	log_debug(const char *fmt, ...) RO_PRINTF(1, 2);
void	log_errorx(const char *fmt, ...) RO_PRINTF(1, 2);
RO_NORETURN void fatal(const char *fmt, ...) RO_PRINTF(1, 2);
RO_NORETURN void fatalx(const char *fmt, ...) RO_PRINTF(1, 2);

#endif
