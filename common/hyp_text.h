/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Text from another party (a guest's ERROR message) made safe to print on a
 * terminal: it can neither move the cursor, change colours, set the window
 * title nor send anything back through the terminal's answerback.
 */
#ifndef HYP_TEXT_H
#define HYP_TEXT_H

#include <stddef.h>

/*
 * A copy of `len` bytes of `text` (malloc'd, NUL-terminated; NULL when out
 * of memory) where printable ASCII, '\n', '\t', "\r\n" and well-formed UTF-8
 * stay as they are, and every other byte (control characters, DEL, C1
 * controls such as U+009B CSI, invalid or overlong UTF-8, NUL) is written
 * as the four characters "\xNN".
 */
char *hyp_text_sanitize(const char *text, size_t len);

#endif
