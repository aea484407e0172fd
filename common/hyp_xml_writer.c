/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hyp_xml_writer.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libxml/xmlstring.h>

int hyp_xw_new(struct hyp_xw *x)
{
	*x = (struct hyp_xw){.buf = xmlBufferCreate()};
	x->w = x->buf ? xmlNewTextWriterMemory(x->buf, 0) : NULL;
	if (!x->w) {
		hyp_xw_free(x);
		return -ENOMEM;
	}
	if (xmlTextWriterSetIndent(x->w, 1) < 0 ||
	    xmlTextWriterSetIndentString(x->w, BAD_CAST "  ") < 0)
		x->failed = true;
	return 0;
}

char *hyp_xw_steal(struct hyp_xw *x)
{
	if (!x->w)
		return NULL;
	if (!x->failed && xmlTextWriterEndDocument(x->w) < 0)
		x->failed = true;
	xmlFreeTextWriter(x->w); /* flushes into buf */
	x->w = NULL;
	char *text = NULL;
	if (!x->failed && asprintf(&text, "%s\n", (const char *)xmlBufferContent(x->buf)) < 0)
		text = NULL;
	return text;
}

void hyp_xw_free(struct hyp_xw *x)
{
	if (x->w)
		xmlFreeTextWriter(x->w);
	if (x->buf)
		xmlBufferFree(x->buf);
	x->w = NULL;
	x->buf = NULL;
}

static void check(struct hyp_xw *x, int rc)
{
	if (rc < 0)
		x->failed = true;
}

void hyp_xw_start(struct hyp_xw *x, const char *name)
{
	if (!x->failed)
		check(x, xmlTextWriterStartElement(x->w, BAD_CAST name));
}

void hyp_xw_start_ns(struct hyp_xw *x, const char *prefix, const char *name, const char *ns)
{
	if (!x->failed)
		check(x, xmlTextWriterStartElementNS(x->w, BAD_CAST prefix, BAD_CAST name,
		                                     BAD_CAST ns));
}

void hyp_xw_end(struct hyp_xw *x)
{
	if (!x->failed)
		check(x, xmlTextWriterEndElement(x->w));
}

void hyp_xw_attr(struct hyp_xw *x, const char *name, const char *value)
{
	if (!x->failed)
		check(x, xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST value));
}

void hyp_xw_attrf(struct hyp_xw *x, const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!x->failed)
		check(x, xmlTextWriterWriteVFormatAttribute(x->w, BAD_CAST name, fmt, ap));
	va_end(ap);
}

void hyp_xw_text(struct hyp_xw *x, const char *text)
{
	if (!x->failed)
		check(x, xmlTextWriterWriteString(x->w, BAD_CAST text));
}

void hyp_xw_textf(struct hyp_xw *x, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!x->failed)
		check(x, xmlTextWriterWriteVFormatString(x->w, fmt, ap));
	va_end(ap);
}

void hyp_xw_elem(struct hyp_xw *x, const char *name, const char *text)
{
	if (!x->failed)
		check(x, xmlTextWriterWriteElement(x->w, BAD_CAST name, BAD_CAST text));
}

static void vattrs(struct hyp_xw *x, va_list ap)
{
	for (const char *a; (a = va_arg(ap, const char *));) {
		const char *v = va_arg(ap, const char *);
		hyp_xw_attr(x, a, v);
	}
}

void hyp_xw_open(struct hyp_xw *x, const char *name, ...)
{
	va_list ap;
	va_start(ap, name);
	hyp_xw_start(x, name);
	vattrs(x, ap);
	va_end(ap);
}

void hyp_xw_empty(struct hyp_xw *x, const char *name, ...)
{
	va_list ap;
	va_start(ap, name);
	hyp_xw_start(x, name);
	vattrs(x, ap);
	hyp_xw_end(x);
	va_end(ap);
}
