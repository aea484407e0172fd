/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Time for deadlines: CLOCK_MONOTONIC, so that setting the clock does not
 * cut a wait short or stretch it. */
#ifndef HYP_TIME_H
#define HYP_TIME_H

/* Milliseconds of CLOCK_MONOTONIC; a deadline is hyp_now_ms() + timeout. */
long long hyp_now_ms(void);

#endif
