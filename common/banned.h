/*
 * banned.h: footgun libc calls, refused at compile time (after git's
 * banned.h). Include last in every .c file.
 */
#ifndef RO_BANNED_H
#define RO_BANNED_H

#define RO_BANNED(f)	use_ro_buf_or_snprintf_not_##f

#undef strcpy
#define strcpy(d, s)		RO_BANNED(strcpy)
#undef strcat
#define strcat(d, s)		RO_BANNED(strcat)
#undef strncpy
#define strncpy(d, s, n)	RO_BANNED(strncpy)
#undef sprintf
#define sprintf(...)		RO_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...)		RO_BANNED(vsprintf)
#undef strtok
#define strtok(s, d)		RO_BANNED(strtok)
#undef atoi
#define atoi(s)			RO_BANNED(atoi)
#undef atol
#define atol(s)			RO_BANNED(atol)
#undef gmtime
#define gmtime(t)		RO_BANNED(gmtime)
#undef localtime
#define localtime(t)		RO_BANNED(localtime)
#undef ctime
#define ctime(t)		RO_BANNED(ctime)
#undef mktemp
#define mktemp(t)		RO_BANNED(mktemp)

#endif
