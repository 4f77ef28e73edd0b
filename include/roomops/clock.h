/*
 * clock.h: the one place for clocks and identifiers: monotonic
 * milliseconds, UTC ISO-8601 timestamps with milliseconds and random
 * UUIDs (v4, OpenSSL RAND_bytes), implemented in common/clock.c.
 * All functions are thread-safe and allocate nothing.
 */
#ifndef RO_CLOCK_H
#define RO_CLOCK_H

#include <time.h>

#define RO_UUID_LEN		36		/* characters */
#define RO_TS_LEN		24		/* "2026-11-23T10:00:00.123Z" */

/* A random UUID v4 (OpenSSL RAND_bytes; on entropy failure the realtime
 * clock, unique but not random). */
void	ro_uuid(char out[RO_UUID_LEN + 1]);
/* Current UTC time as "YYYY-MM-DDTHH:MM:SS.mmmZ". */
void	ro_now_iso(char out[RO_TS_LEN + 1]);
/* The realtime instant ts as "YYYY-MM-DDTHH:MM:SS.mmmZ". */
void	ro_clock_iso(char out[RO_TS_LEN + 1], const struct timespec *ts);
/* Monotonic milliseconds. */
long long ro_now_ms(void);
/* The realtime clock ms milliseconds from now, for pthread_cond_timedwait
 * on a condition variable with the default (realtime) clock. */
void	ro_clock_deadline(struct timespec *ts, long ms);

#endif
