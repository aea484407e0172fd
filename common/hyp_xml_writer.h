/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small layer over libxml2's xmlTextWriter (which does all the escaping)
 * for writing a document into memory. The first failure sticks: callers
 * write without checking each call, and hyp_xw_steal() says at the end
 * whether everything was written.
 */
#ifndef HYP_XML_WRITER_H
#define HYP_XML_WRITER_H

#include <stdbool.h>

#include <libxml/xmlwriter.h>

#include "hyp_error.h"

struct hyp_xw {
	xmlTextWriterPtr w;
	xmlBufferPtr buf;
	bool failed;
};

/* An indented (two spaces) writer into memory; -ENOMEM on failure. */
int hyp_xw_new(struct hyp_xw *x);
/* End the document and return it with a final newline (malloc'd); NULL if
 * any write failed. The writer is done afterwards; hyp_xw_free() it. */
char *hyp_xw_steal(struct hyp_xw *x);
/* Free the writer and its buffer; a zeroed or stolen writer is fine. */
void hyp_xw_free(struct hyp_xw *x);

/* <name ...>, and </name> for the innermost open element. */
void hyp_xw_start(struct hyp_xw *x, const char *name);
/* <prefix:name xmlns:prefix="ns" ...> */
void hyp_xw_start_ns(struct hyp_xw *x, const char *prefix, const char *name, const char *ns);
void hyp_xw_end(struct hyp_xw *x);
/* An attribute of the element just started. */
void hyp_xw_attr(struct hyp_xw *x, const char *name, const char *value);
void hyp_xw_attrf(struct hyp_xw *x, const char *name, const char *fmt, ...) HYP_PRINTF(3, 4);
/* Text inside the open element. */
void hyp_xw_text(struct hyp_xw *x, const char *text);
void hyp_xw_textf(struct hyp_xw *x, const char *fmt, ...) HYP_PRINTF(2, 3);
/* <name>text</name> */
void hyp_xw_elem(struct hyp_xw *x, const char *name, const char *text);
/* <name a1="v1" ...> left open: attribute name/value pairs, then NULL. */
void hyp_xw_open(struct hyp_xw *x, const char *name, ...) __attribute__((sentinel));
/* <name a1="v1" .../>: attribute name/value pairs, then NULL. */
void hyp_xw_empty(struct hyp_xw *x, const char *name, ...) __attribute__((sentinel));

#endif
