/* validate.c: ids, enumerations and strings of roomserver-api.md. */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "sim.h"

#include "../common/banned.h"

static bool
id_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Does s consist of prefix and then min..max id characters? */
static bool
id_match(const char *s, const char *prefix, size_t min, size_t max)
{
	size_t	plen = strlen(prefix), n;

	if (strncmp(s, prefix, plen) != 0)
		return false;
	for (n = 0, s += plen; s[n] != '\0'; n++)
		if (n >= max || !id_char((unsigned char)s[n]))
			return false;
	return n >= min;
}

/* ^room-[A-Za-z0-9_-]{6,}$, at most SIM_ROOM_ID_MAX bytes in all. */
bool
validate_room_id(const char *s)
{
	return s != NULL && id_match(s, "room-", 6, SIM_ROOM_ID_MAX - 5);
}

/* ^E-[A-Za-z0-9_-]{2,64}$ */
bool
validate_entity_id(const char *s)
{
	return s != NULL && id_match(s, "E-", 2, 64);
}

const char *
validate_kind(const char *s)
{
	static const char *const kinds[] = {
		"human", "agent", "npc", "orchestrator"
	};
	size_t	i;

	for (i = 0; s != NULL && i < RO_NELEM(kinds); i++)
		if (strcasecmp(s, kinds[i]) == 0)
			return kinds[i];
	return NULL;
}

bool
validate_visibility(const char *s)
{
	return s != NULL && (strcmp(s, "public") == 0 ||
	    strcmp(s, "team") == 0 || strcmp(s, "owner") == 0);
}

/*
 * Well-formed UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF), no NUL and no C0 control or DEL except tab.
 */
bool
validate_text(const char *s, size_t len, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t	i = 0, need, k;
	uint32_t cp;

	if (len > max)
		return false;
	while (i < len) {
		if (p[i] < 0x80) {
			if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
				return false;
			i++;
			continue;
		}
		if (p[i] >= 0xc2 && p[i] <= 0xdf) {
			need = 1;
			cp = p[i] & 0x1f;
		} else if (p[i] >= 0xe0 && p[i] <= 0xef) {
			need = 2;
			cp = p[i] & 0x0f;
		} else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
			need = 3;
			cp = p[i] & 0x07;
		} else
			return false;
		if (len - i <= need)
			return false;
		for (k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		i += need + 1;
	}
	return true;
}
