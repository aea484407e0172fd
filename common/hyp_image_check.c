/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The qcow2 header (docs/interop/qcow2.txt in QEMU's tree), big-endian:
 *   0 magic "QFI\xfb"  4 version  8 backing_file_offset(8)
 *  16 backing_file_size  20 cluster_bits  24 size(8)  32 crypt_method
 *  v3: 72 incompatible_features(8)  80 compatible(8)  88 autoclear(8)
 *      96 refcount_order  100 header_length
 * then header extensions (type, length, data padded to 8 bytes) up to a
 * type-0 end marker, all within the first cluster.
 */
#include "hyp_image_check.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hyp_cleanup.h"

#define QCOW2_MAGIC       "QFI\xfb"
#define QCOW2_V2_HEADER   72
#define QCOW2_V3_HEADER   104
#define EXT_END           0x00000000u
#define EXT_BACKING_FMT   0xe2792acau
#define EXT_DATA_FILE     0x44415441u
#define EXT_CRYPTO        0x0537be77u
#define INCOMPAT_DATAFILE (1ull << 2)
#define INCOMPAT_KNOWN    0x1full /* dirty, corrupt, data file, compression, extended L2 */
#define INCOMPAT_CORRUPT  (1ull << 1)
#define HEADER_READ_MAX   (2u << 20) /* the largest cluster */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const unsigned char *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

int hyp_image_path_check(const char *path, hyp_error *err)
{
	if (!path || path[0] != '/')
		return hyp_fail(err, EINVAL, "'%s': not an absolute path", path ? path : "");
	if (strlen(path) >= PATH_MAX)
		return hyp_fail(err, ENAMETOOLONG, "path too long");
	if (strchr(path, ':'))
		return hyp_fail(err, EINVAL,
		                "'%s': ':' is not allowed in an image path (no json:, nbd:, "
		                "http: or other protocol names)",
		                path);
	for (const char *p = path; (p = strstr(p, "/..")); p += 3)
		if (p[3] == '/' || p[3] == '\0')
			return hyp_fail(err, EINVAL, "'%s': '..' is not allowed in an image path",
			                path);
	return 0;
}

/* Other formats QEMU would probe: refused by name. */
static const char *other_format(const unsigned char *b, size_t n)
{
	static const struct {
		const char *magic;
		size_t len;
		const char *name;
	} formats[] = {
	    {"KDMV", 4, "vmdk"},
	    {"# Disk DescriptorFile", 21, "vmdk"},
	    {"QED\0", 4, "qed"},
	    {"conectix", 8, "vpc (vhd)"},
	    {"vhdxfile", 8, "vhdx"},
	    {"LUKS\xba\xbe", 6, "luks"},
	    {"WithoutFreeSpace", 16, "parallels"},
	    {"WithouFreSpacExt", 16, "parallels"},
	    {"#!/bin/sh\n#V2.0 Format", 22, "cloop"},
	};
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (n >= formats[i].len && !memcmp(b, formats[i].magic, formats[i].len))
			return formats[i].name;
	if (n >= 68 && !memcmp(b + 64, "\x7f\x10\xda\xbe", 4)) /* little-endian */
		return "vdi";
	return NULL;
}

/* The header extensions from `off` to the end marker, within `n` bytes. */
static int check_extensions(const unsigned char *b, size_t n, size_t off, hyp_error *err)
{
	for (unsigned count = 0; count < 1024; count++) {
		if (off + 8 > n)
			return hyp_fail(err, EINVAL,
			                "qcow2 header extensions run past the first cluster");
		uint32_t type = be32(b + off), len = be32(b + off + 4);
		if (type == EXT_END)
			return 0;
		if (type == EXT_DATA_FILE)
			return hyp_fail(err, EPERM,
			                "qcow2 with an external data file is not allowed");
		if (type == EXT_BACKING_FMT)
			return hyp_fail(err, EPERM, "qcow2 with a backing file is not allowed");
		if (type == EXT_CRYPTO)
			return hyp_fail(err, EPERM, "encrypted qcow2 is not allowed");
		if (len > n - off - 8)
			return hyp_fail(err, EINVAL,
			                "qcow2 header extension 0x%08x runs past the "
			                "first cluster",
			                type);
		off += 8 + (((size_t)len + 7) & ~(size_t)7);
	}
	return hyp_fail(err, EINVAL, "qcow2 header has too many extensions");
}

static int check_v3_fields(const unsigned char *b, size_t n, size_t *ret_hdr, hyp_error *err)
{
	uint64_t incompat = be64(b + 72);
	uint32_t hdr = be32(b + 100);
	if (incompat & INCOMPAT_DATAFILE)
		return hyp_fail(err, EPERM, "qcow2 with an external data file is not allowed");
	if (incompat & INCOMPAT_CORRUPT)
		return hyp_fail(err, EINVAL, "qcow2 image is marked corrupt");
	if (incompat & ~INCOMPAT_KNOWN)
		return hyp_fail(err, EINVAL, "qcow2 has unknown incompatible features 0x%llx",
		                (unsigned long long)(incompat & ~INCOMPAT_KNOWN));
	if (hdr < QCOW2_V3_HEADER || hdr > n || hdr % 8)
		return hyp_fail(err, EINVAL, "qcow2 header length %u is invalid", hdr);
	*ret_hdr = hdr;
	return 0;
}

static int check_qcow2(const unsigned char *b, size_t n, struct hyp_image_info *info,
                       hyp_error *err)
{
	if (n < QCOW2_V2_HEADER)
		return hyp_fail(err, EINVAL, "truncated qcow2 header");
	uint32_t version = be32(b + 4), cluster_bits = be32(b + 20);
	if (version != 2 && version != 3)
		return hyp_fail(err, EINVAL, "qcow2 version %u (allowed: 2, 3)", version);
	if (be64(b + 8) != 0 || be32(b + 16) != 0)
		return hyp_fail(err, EPERM, "qcow2 with a backing file is not allowed");
	if (be32(b + 32) != 0)
		return hyp_fail(err, EPERM, "encrypted qcow2 is not allowed");
	if (cluster_bits < 9 || cluster_bits > 21)
		return hyp_fail(err, EINVAL, "qcow2 cluster_bits %u is invalid", cluster_bits);
	size_t cluster = (size_t)1 << cluster_bits, hdr = QCOW2_V2_HEADER;
	if (n > cluster)
		n = cluster;
	if (version == 3 && n < QCOW2_V3_HEADER)
		return hyp_fail(err, EINVAL, "truncated qcow2 header");
	int r = version == 3 ? check_v3_fields(b, n, &hdr, err) : 0;
	if (r >= 0)
		r = check_extensions(b, n, hdr, err);
	if (r < 0)
		return r;
	info->format = HYP_DISK_QCOW2;
	info->virtual_size = be64(b + 24);
	return 0;
}

static int read_head(int fd, unsigned char *buf, size_t size, size_t *ret_n, hyp_error *err)
{
	size_t n = 0;
	while (n < size) {
		ssize_t k = pread(fd, buf + n, size - n, (off_t)n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return hyp_fail_errno(err, "reading");
		if (k == 0)
			break;
		n += (size_t)k;
	}
	*ret_n = n;
	return 0;
}

static const char *file_kind(mode_t m)
{
	return S_ISDIR(m)    ? "a directory"
	       : S_ISFIFO(m) ? "a FIFO"
	       : S_ISCHR(m)  ? "a character device"
	       : S_ISBLK(m)  ? "a block device"
	       : S_ISSOCK(m) ? "a socket"
	                     : "not a regular file";
}

int hyp_image_fd_check(int fd, const char *path, struct hyp_image_info *ret_info, hyp_error *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return hyp_fail_errno(err, "image '%s'", path);
	if (!S_ISREG(st.st_mode))
		return hyp_fail(err, EINVAL, "image '%s' refused: %s, not an image file", path,
		                file_kind(st.st_mode));
	_cleanup_free_ unsigned char *buf = malloc(HEADER_READ_MAX);
	size_t n = 0;
	if (!buf)
		return hyp_fail(err, ENOMEM, "out of memory");
	int r = read_head(fd, buf, HEADER_READ_MAX, &n, err);
	struct hyp_image_info info = {.format = HYP_DISK_RAW, .virtual_size = (uint64_t)st.st_size};
	const char *other = r < 0 ? NULL : other_format(buf, n);
	if (r >= 0 && n >= 4 && !memcmp(buf, QCOW2_MAGIC, 4))
		r = check_qcow2(buf, n, &info, err);
	else if (other)
		r = hyp_fail(err, EINVAL, "%s format (allowed: qcow2, raw)", other);
	if (r < 0)
		return hyp_error_prefix(err, "image '%s' refused", path);
	if (info.format == HYP_DISK_RAW && (st.st_size == 0 || st.st_size % 512))
		return hyp_fail(err, EINVAL,
		                "image '%s' refused: a raw image is a multiple of 512 "
		                "bytes (this is %lld)",
		                path, (long long)st.st_size);
	*ret_info = info;
	return 0;
}

int hyp_image_check_file(const char *path, struct hyp_image_info *ret_info, hyp_error *err)
{
	int r = hyp_image_path_check(path, err);
	if (r < 0)
		return hyp_error_prefix(err, "image refused");
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return hyp_fail_errno(err, "image '%s'", path);
	return hyp_image_fd_check(fd, path, ret_info, err);
}
