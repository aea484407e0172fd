/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Making another party's text safe to print (hyp_text.h). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "hyp_text.h"

/* The length of the well-formed UTF-8 sequence of a printable character at
 * p[0..left), or 0: an invalid, overlong, surrogate or C1 sequence. */
static size_t utf8_printable(const uint8_t *p, size_t left)
{
	size_t n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : 2;
	uint32_t cp = p[0] & (0x3f >> (n - 1));

	if (p[0] < 0xc2 || p[0] > 0xf4 || left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return cp >= 0x80 && cp <= 0x9f ? 0 : n; /* C1 controls: CSI, OSC... */
}

static bool plain(const uint8_t *p, size_t left)
{
	if (p[0] >= 0x20 && p[0] < 0x7f)
		return true;
	return p[0] == '\n' || p[0] == '\t' || (p[0] == '\r' && left > 1 && p[1] == '\n');
}

char *hyp_text_sanitize(const char *text, size_t len)
{
	const uint8_t *p = (const uint8_t *)text;
	char *out = malloc(len * 4 + 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t n = plain(p + i, len - i) ? 1
		           : p[i] >= 0x80        ? utf8_printable(p + i, len - i)
		                                 : 0;
		if (n == 0) {
			o += (size_t)snprintf(out + o, 5, "\\x%02x", p[i]);
			i++;
			continue;
		}
		for (size_t k = 0; k < n; k++)
			out[o++] = (char)p[i++];
	}
	out[o] = '\0';
	return out;
}
