/*
 * clock.h: the one place for time stamps, monotonic milliseconds,
 * condition-variable deadlines and random UUIDs (common/clock.c).
 *
 * The names ro_now_* and ro_uuid predate this file (they lived in
 * audit.c) and are used across the tree; they keep them.
 * Every function is thread-safe (clock_gettime, gmtime_r, RAND_bytes).
 */
#ifndef RO_CLOCK_H
#define RO_CLOCK_H

#include <time.h>

#define RO_UUID_LEN		36		/* characters */
#define RO_TS_LEN		24		/* "2026-11-23T10:00:00.123Z" */

/* A random UUID v4 (OpenSSL RAND_bytes). */
void	ro_uuid(char out[RO_UUID_LEN + 1]);
/* Current UTC time as "YYYY-MM-DDTHH:MM:SS.mmmZ". */
void	ro_now_iso(char out[RO_TS_LEN + 1]);
/* Monotonic milliseconds. */
long long ro_now_ms(void);
/* CLOCK_REALTIME now plus ms: the deadline of pthread_cond_timedwait on a
 * condition variable with the default clock. */
void	ro_now_deadline(struct timespec *ts, long ms);

#endif
