/* clock.c: monotonic milliseconds, ISO timestamps, UUID v4. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "roomops/clock.h"

#include "banned.h"

#define MS_PER_S	1000L
#define NS_PER_MS	1000000L
#define NS_PER_S	1000000000L

void
ro_uuid(char out[RO_UUID_LEN + 1])
{
	unsigned char	b[16];

	if (RAND_bytes(b, sizeof(b)) != 1) {
		struct timespec ts;	/* no entropy: unique, not random */

		memset(b, 0, sizeof(b));
		clock_gettime(CLOCK_REALTIME, &ts);
		memcpy(b, &ts, sizeof(ts) < sizeof(b) ? sizeof(ts) : sizeof(b));
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, RO_UUID_LEN + 1, "%02x%02x%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4],
	    b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
	    b[15]);
}

void
ro_clock_iso(char out[RO_TS_LEN + 1], const struct timespec *ts)
{
	struct tm	tm;
	char		s[32];

	gmtime_r(&ts->tv_sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, RO_TS_LEN + 1, "%.19s.%03uZ", s,
	    (unsigned)(ts->tv_nsec / NS_PER_MS) % 1000u);
}

void
ro_now_iso(char out[RO_TS_LEN + 1])
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ro_clock_iso(out, &ts);
}

long long
ro_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * MS_PER_S + ts.tv_nsec / NS_PER_MS;
}

void
ro_clock_deadline(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / MS_PER_S;
	ts->tv_nsec += (ms % MS_PER_S) * NS_PER_MS;
	if (ts->tv_nsec >= NS_PER_S) {
		ts->tv_sec++;
		ts->tv_nsec -= NS_PER_S;
	}
}
