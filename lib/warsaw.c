/* lib/warsaw.c: civil time in Europe/Warsaw, computed by the EU rule
 * instead of looked up, so that nothing depends on TZ or on tzdata being
 * installed: the web's dates and the mailer's digest periods use it. */
#include "lib/sk_base.h"

#define DAY 86400

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). d may
 * lie outside the month: the days simply count on (or back). */
static int64_t
days_from_civil(int64_t y, unsigned m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468 + d - 1;
}

/* 01:00 UTC on the last Sunday of month m (a 31-day month) of year y. */
static int64_t
last_sunday_0100(int64_t y, unsigned m)
{
	int64_t days = days_from_civil(y, m, 31);
	int64_t wd = ((days % 7) + 7 + 4) % 7; /* 1970-01-01 was a Thursday */
	return (days - wd) * DAY + 3600;
}

/* The UTC offset in Warsaw at instant t: CEST from the last Sunday of
 * March to the last Sunday of October, 01:00 UTC (Poland since 1996). The
 * switches are far from the new year, so the UTC year is the local one. */
static int
warsaw_offset(time_t t)
{
	struct tm utc;
	gmtime_r(&t, &utc);
	int64_t y = (int64_t)utc.tm_year + 1900;
	if ((int64_t)t >= last_sunday_0100(y, 3) &&
	    (int64_t)t < last_sunday_0100(y, 10))
		return 7200;
	return 3600;
}

void
sk_warsaw_tm(time_t t, struct tm *out, int *offset_out)
{
	int offset = warsaw_offset(t);
	time_t local = t + offset;

	gmtime_r(&local, out);
	out->tm_isdst = offset == 7200;
	if (offset_out)
		*offset_out = offset;
}

time_t
sk_warsaw_midnight(int year, int month, int day)
{
	int64_t utc_midnight;

	if (month < 1 || month > 12)
		SK_BUG("month %d", month);
	utc_midnight = days_from_civil(year, (unsigned)month, day) * DAY;
	/* Midnight is never near a switch (they happen at 02:00 and 03:00),
	 * so the offset an hour either side of it is the offset at it. */
	if (warsaw_offset((time_t)(utc_midnight - 7200)) == 7200)
		return (time_t)(utc_midnight - 7200);
	return (time_t)(utc_midnight - 3600);
}
