/* log.c: text or JSON-lines logging to stderr, one write(2) per line. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "roomops/buf.h"
#include "roomops/clock.h"
#include "roomops/log.h"

#include "banned.h"

#define LOG_LINE_MAX	(16u << 10)	/* bytes */
#define LOG_CID_MAX	64		/* bytes */

static const char	*log_name = "roomops";
static enum ro_log_format log_format = RO_LOG_TEXT;
static enum ro_log_level log_level = RO_LOG_INFO;
static __thread char	 log_cid[LOG_CID_MAX];

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void
ro_log_init(const char *name, enum ro_log_format fmt, enum ro_log_level level)
{
	log_name = name;
	log_format = fmt;
	log_level = level;
}

void
ro_log_set_level(enum ro_log_level level)
{
	log_level = level;
}

int
ro_log_enabled(enum ro_log_level level)
{
	return level <= log_level;
}

void
ro_log_set_cid(const char *cid)
{
	if (cid == NULL)
		log_cid[0] = '\0';
	else
		snprintf(log_cid, sizeof(log_cid), "%s", cid);
}

static void
log_emit(enum ro_log_level level, int errnum, const char *fmt, va_list ap)
{
	struct ro_buf	 line, msg;
	char		 when[RO_TS_LEN + 1];

	if (!ro_log_enabled(level))
		return;
	ro_buf_init(&line, LOG_LINE_MAX);
	ro_buf_init(&msg, LOG_LINE_MAX);
	ro_now_iso(when);
	ro_buf_vprintf(&msg, fmt, ap);
	if (errnum != 0)
		ro_buf_printf(&msg, ": %s", strerror(errnum));
	if (log_format == RO_LOG_JSON) {
		ro_buf_printf(&line, "{\"ts\":\"%s\",\"level\":\"%s\","
		    "\"prog\":\"%s\",", when,
		    level_names[level], log_name);
		if (log_cid[0] != '\0')
			ro_buf_printf(&line, "\"correlationId\":\"%s\",",
			    log_cid);
		ro_buf_addstr(&line, "\"msg\":");
		ro_buf_add_json_str(&line, ro_buf_cstr(&msg));
		ro_buf_addstr(&line, "}\n");
	} else {
		ro_buf_printf(&line, "%s %s %s: ", when,
		    log_name, level_names[level]);
		if (log_cid[0] != '\0')
			ro_buf_printf(&line, "[%.8s] ", log_cid);
		ro_buf_printf(&line, "%s\n", ro_buf_cstr(&msg));
	}
	if (line.len > 0 && write(STDERR_FILENO, line.ptr, line.len) < 0)
		(void)0;	/* nowhere left to report it */
	ro_buf_release(&line);
	ro_buf_release(&msg);
}

#define LOG_FN(fn, level, with_errno)			\
void							\
fn(const char *fmt, ...)				\
{							\
	int	saved = errno;				\
	va_list	ap;					\
							\
	va_start(ap, fmt);				\
	log_emit(level, with_errno ? saved : 0, fmt, ap); \
	va_end(ap);					\
	errno = saved;					\
}

LOG_FN(log_warn, RO_LOG_WARN, 1)
LOG_FN(log_warnx, RO_LOG_WARN, 0)
LOG_FN(log_info, RO_LOG_INFO, 0)
LOG_FN(log_debug, RO_LOG_DEBUG, 0)
LOG_FN(log_errorx, RO_LOG_ERROR, 0)

void
fatal(const char *fmt, ...)
{
	int	saved = errno;
	va_list	ap;

	va_start(ap, fmt);
	log_emit(RO_LOG_ERROR, saved, fmt, ap);
	va_end(ap);
	exit(2);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_emit(RO_LOG_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(2);
}
