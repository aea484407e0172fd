/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hyp_time.h"

#include <time.h>

long long hyp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
