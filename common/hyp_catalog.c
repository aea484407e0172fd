/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The image catalog: "[image NAME]" sections in the *.conf files of one
 * directory, read in byte order of their names. Image names are
 * [A-Za-z0-9][A-Za-z0-9._-]{0,63}; paths are absolute.
 */
#include "hyp_catalog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hyp_cleanup.h"
#include "hyp_ini.h"
#include "hyp_trust.h"

#define NAME_MAX_LEN 64
#define CONF_SUFFIX  ".conf"

enum image_key {
	KEY_KIND,
	KEY_KERNEL,
	KEY_INITRD,
	KEY_CMDLINE,
	KEY_DISK,
	KEY_FORMAT,
	KEY_DESC,
	KEY_MIN_MEMORY,
	KEY_USERS,
	KEY_GROUPS,
};

static const char *const key_names[] = {
    [KEY_KIND] = "kind",        [KEY_KERNEL] = "kernel",
    [KEY_INITRD] = "initrd",    [KEY_CMDLINE] = "cmdline",
    [KEY_DISK] = "disk",        [KEY_FORMAT] = "format",
    [KEY_DESC] = "description", [KEY_MIN_MEMORY] = "min_memory",
    [KEY_USERS] = "users",      [KEY_GROUPS] = "groups",
};
#define NKEYS        (sizeof(key_names) / sizeof(key_names[0]))
#define HAS(seen, k) ((seen) & (1u << (k)))

struct load_ctx {
	struct hyp_catalog *cat;
	char **origins;       /* file of each image, parallel to cat->images */
	const char *file;     /* the file being read */
	struct hyp_image cur; /* the section being read */
	unsigned seen;        /* keys set in cur, by enum image_key */
	bool in_section;
};

void hyp_image_free(struct hyp_image *img)
{
	if (!img)
		return;
	free(img->name);
	free(img->kernel);
	free(img->initrd);
	free(img->cmdline);
	free(img->disk);
	free(img->description);
	free(img->users);
	free(img->groups);
	memset(img, 0, sizeof(*img));
}

void hyp_catalog_free(struct hyp_catalog *cat)
{
	if (!cat)
		return;
	for (size_t i = 0; i < cat->n; i++)
		hyp_image_free(&cat->images[i]);
	free(cat->images);
	free(cat->dir);
	memset(cat, 0, sizeof(*cat));
}

static bool valid_name(const char *name)
{
	static const char extra[] = "._-";
	size_t len = strlen(name);
	if (len == 0 || len > NAME_MAX_LEN || strchr(extra, name[0]))
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr(extra, *p)))
			return false;
	return true;
}

/* "image NAME" -> NAME (a pointer into header). */
static int header_name(const char *header, const char **ret_name, hyp_error *err)
{
	static const char type[] = "image";
	size_t tlen = sizeof(type) - 1;
	if (strncmp(header, type, tlen) != 0 || (header[tlen] != ' ' && header[tlen] != '\t'))
		return hyp_fail(err, EINVAL, "unknown section [%s] (expected [image NAME])",
		                header);
	const char *name = header + tlen + strspn(header + tlen, " \t");
	if (!valid_name(name))
		return hyp_fail(err, EINVAL,
		                "bad image name '%s' (letters, digits, '.', '_' and '-', starting "
		                "with a letter or digit, at most %d characters)",
		                name, NAME_MAX_LEN);
	*ret_name = name;
	return 0;
}

static int set_path(char **field, const char *key, const char *value, hyp_error *err)
{
	if (value[0] != '/')
		return hyp_fail(err, EINVAL, "%s: '%s' is not an absolute path", key, value);
	return (*field = strdup(value)) ? 0 : hyp_fail(err, ENOMEM, "out of memory");
}

static int set_choice(const char *key, const char *value, const char *a, const char *b, int *ret,
                      hyp_error *err)
{
	if (strcmp(value, a) && strcmp(value, b))
		return hyp_fail(err, EINVAL, "%s: bad value '%s' (allowed: %s, %s)", key, value, a,
		                b);
	*ret = strcmp(value, a) ? 1 : 0;
	return 0;
}

static int set_min_memory(struct hyp_image *img, const char *key, const char *value, hyp_error *err)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(value, &end, 10);
	if (value[0] < '0' || value[0] > '9' || *end || errno || v > 16u * 1024 * 1024)
		return hyp_fail(err, EINVAL, "%s: bad value '%s' (MB, 0 to 16777216)", key, value);
	img->min_memory_mb = (unsigned)v;
	return 0;
}

/* "a, b c" -> "a,b,c"; names as getpwnam/getgrnam know them. */
static int set_names(char **field, const char *key, const char *value, hyp_error *err)
{
	_cleanup_free_ char *out = malloc(strlen(value) + 1);
	size_t n = 0;
	if (!out)
		return hyp_fail(err, ENOMEM, "out of memory");
	for (const char *p = value; *p;) {
		p += strspn(p, ", \t");
		size_t len = strcspn(p, ", \t");
		if (!len)
			break;
		if (p[0] == '-' || strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		                             "0123456789._-$") < len)
			return hyp_fail(
			    err, EINVAL,
			    "%s: bad name '%.*s' (user or group names: letters, digits, "
			    "'.', '_', '-' and '$', not starting with '-'; separated by "
			    "commas or blanks)",
			    key, (int)len, p);
		n += (size_t)sprintf(out + n, "%s%.*s", n ? "," : "", (int)len, p);
		p += len;
	}
	if (!n)
		return hyp_fail(err, EINVAL, "%s: give one name or more", key);
	*field = out;
	out = NULL;
	return 0;
}

static int set_key(struct hyp_image *img, enum image_key k, const char *value, hyp_error *err)
{
	const char *key = key_names[k];
	int v = 0, r;
	switch (k) {
	case KEY_KIND:
		r = set_choice(key, value, "appliance", "disk", &v, err);
		img->kind = v ? HYP_IMAGE_DISK : HYP_IMAGE_APPLIANCE;
		return r;
	case KEY_FORMAT:
		r = set_choice(key, value, "qcow2", "raw", &v, err);
		img->disk_format = v ? HYP_DISK_RAW : HYP_DISK_QCOW2;
		return r;
	case KEY_KERNEL:
		return set_path(&img->kernel, key, value, err);
	case KEY_INITRD:
		return set_path(&img->initrd, key, value, err);
	case KEY_DISK:
		return set_path(&img->disk, key, value, err);
	case KEY_CMDLINE:
		return (img->cmdline = strdup(value)) ? 0 : hyp_fail(err, ENOMEM, "out of memory");
	case KEY_DESC:
		return (img->description = strdup(value)) ? 0
		                                          : hyp_fail(err, ENOMEM, "out of memory");
	case KEY_MIN_MEMORY:
		return set_min_memory(img, key, value, err);
	case KEY_USERS:
		return set_names(&img->users, key, value, err);
	case KEY_GROUPS:
		return set_names(&img->groups, key, value, err);
	}
	return hyp_fail(err, EINVAL, "unknown key");
}

static int image_key(struct load_ctx *lc, const char *name, const char *key, const char *value,
                     hyp_error *err)
{
	for (unsigned k = 0; k < NKEYS; k++) {
		if (strcmp(key, key_names[k]) != 0)
			continue;
		if (HAS(lc->seen, k))
			return hyp_fail(err, EINVAL, "image '%s': '%s' is set twice", name, key);
		lc->seen |= 1u << k;
		return set_key(&lc->cur, k, value, err);
	}
	return hyp_fail(err, EINVAL,
	                "image '%s': unknown key '%s' (known: kind, kernel, initrd, cmdline, disk, "
	                "format, description, min_memory, users, groups)",
	                name, key);
}

/* What each kind needs, and what only disks may have. */
static int check_required(const struct hyp_image *img, unsigned seen, hyp_error *err)
{
	const char *name = img->name;
	if (!HAS(seen, KEY_KIND))
		return hyp_fail(err, EINVAL, "image '%s': missing 'kind' (appliance or disk)",
		                name);
	if (img->kind == HYP_IMAGE_APPLIANCE) {
		if (HAS(seen, KEY_DISK) || HAS(seen, KEY_FORMAT))
			return hyp_fail(err, EINVAL, "image '%s': '%s' is only for kind = disk",
			                name, HAS(seen, KEY_DISK) ? "disk" : "format");
		if (!img->kernel || !img->initrd)
			return hyp_fail(err, EINVAL,
			                "image '%s': missing '%s' (kind = appliance needs kernel "
			                "and initrd)",
			                name, img->kernel ? "initrd" : "kernel");
		return 0;
	}
	if (!img->disk || !img->kernel)
		return hyp_fail(err, EINVAL,
		                "image '%s': missing '%s' (kind = disk needs disk and kernel; "
		                "initrd is usually the appliance's)",
		                name, img->disk ? "kernel" : "disk");
	return 0;
}

static int check_unique(const struct load_ctx *lc, const char *name, hyp_error *err)
{
	for (size_t i = 0; i < lc->cat->n; i++)
		if (!strcmp(lc->cat->images[i].name, name))
			return hyp_fail(err, EEXIST, "image '%s' is already defined in %s", name,
			                lc->origins[i]);
	return 0;
}

static int append_image(struct load_ctx *lc, hyp_error *err)
{
	struct hyp_catalog *cat = lc->cat;
	char *origin = strdup(lc->file);
	struct hyp_image *images = realloc(cat->images, (cat->n + 1) * sizeof(*images));
	if (images)
		cat->images = images;
	char **origins = realloc(lc->origins, (cat->n + 1) * sizeof(*origins));
	if (origins)
		lc->origins = origins;
	if (!origin || !images || !origins) {
		free(origin);
		return hyp_fail(err, ENOMEM, "out of memory");
	}
	lc->origins[cat->n] = origin;
	cat->images[cat->n++] = lc->cur;
	memset(&lc->cur, 0, sizeof(lc->cur));
	return 0;
}

/* The end of a section: the image as a whole, then into the catalog. */
static int end_image(struct load_ctx *lc, const char *name, hyp_error *err)
{
	if (!lc->in_section) { /* a section without keys */
		memset(&lc->cur, 0, sizeof(lc->cur));
		lc->seen = 0;
	}
	unsigned seen = lc->seen;
	lc->in_section = false;
	lc->cur.name = strdup(name);
	if (!lc->cur.name)
		return hyp_fail(err, ENOMEM, "out of memory");
	int r = check_required(&lc->cur, seen, err);
	if (r >= 0)
		r = check_unique(lc, name, err);
	if (r >= 0)
		r = append_image(lc, err);
	hyp_image_free(&lc->cur);
	return r;
}

static int catalog_key_fn(void *ctx, const char *section, const char *key, const char *value,
                          hyp_error *err)
{
	struct load_ctx *lc = ctx;
	const char *name = NULL;
	if (!*section)
		return hyp_fail(err, EINVAL, "'%s' outside an [image NAME] section", key);
	int r = header_name(section, &name, err);
	if (r < 0)
		return r;
	if (!key)
		return end_image(lc, name, err);
	if (!lc->in_section) {
		memset(&lc->cur, 0, sizeof(lc->cur));
		lc->seen = 0;
		lc->in_section = true;
	}
	return image_key(lc, name, key, value, err);
}

static int conf_filter(const struct dirent *d)
{
	size_t len = strlen(d->d_name), slen = sizeof(CONF_SUFFIX) - 1;
	return d->d_name[0] != '.' && len > slen && !strcmp(d->d_name + len - slen, CONF_SUFFIX);
}

static int byte_order(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int load_files(struct load_ctx *lc, const char *dir, struct dirent **names, int n,
                      hyp_error *err)
{
	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *path = NULL;
		if (asprintf(&path, "%s/%s", dir, names[i]->d_name) < 0) {
			path = NULL;
			return hyp_fail(err, ENOMEM, "out of memory");
		}
		lc->file = path;
		int r = hyp_ini_parse_file(path, catalog_key_fn, lc, err);
		hyp_image_free(&lc->cur); /* left by an error inside a section */
		lc->in_section = false;
		if (r < 0)
			return r;
	}
	return 0;
}

static void free_dirents(struct dirent **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int hyp_catalog_load(const char *dir, struct hyp_catalog *ret_cat, hyp_error *err)
{
	_cleanup_(hyp_catalog_free) struct hyp_catalog cat = {.dir = strdup(dir)};
	if (!cat.dir)
		return hyp_fail(err, ENOMEM, "out of memory");
	struct dirent **names = NULL;
	int n = scandir(dir, &names, conf_filter, byte_order);
	if (n < 0 && errno != ENOENT)
		return hyp_fail_errno(err, "image catalog '%s'", dir);

	struct load_ctx lc = {.cat = &cat};
	int r = n > 0 ? load_files(&lc, dir, names, n, err) : 0;
	for (size_t i = 0; i < cat.n; i++)
		free(lc.origins[i]);
	free(lc.origins);
	free_dirents(names, n);
	if (r < 0)
		return r;
	*ret_cat = cat;
	memset(&cat, 0, sizeof(cat));
	return 0;
}

/* "a, b, c" into buf, truncated with "..." if it does not fit. */
static void list_names(const struct hyp_catalog *cat, char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < cat->n && len < size; i++) {
		int k = snprintf(buf + len, size - len, "%s%s", i ? ", " : "", cat->images[i].name);
		len += k > 0 ? (size_t)k : 0;
	}
	if (len >= size && size > 4)
		strcpy(buf + size - 4, "...");
}

int hyp_catalog_lookup(const struct hyp_catalog *cat, const char *name,
                       const struct hyp_image **ret_img, hyp_error *err)
{
	for (size_t i = 0; name && i < cat->n; i++) {
		if (!strcmp(cat->images[i].name, name)) {
			*ret_img = &cat->images[i];
			return 0;
		}
	}
	if (cat->n == 0)
		return hyp_fail(err, ENOENT,
		                "unknown image '%s': no images are defined (none in %s/*.conf)",
		                name ? name : "", cat->dir ? cat->dir : "the catalog directory");
	char available[768];
	list_names(cat, available, sizeof(available));
	return hyp_fail(err, ENOENT, "unknown image '%s' (available: %s)", name ? name : "",
	                available);
}

/* The file exists, is a regular file root can open, and only root can
 * change it or any directory above it: QEMU runs as the job's user, and a
 * user who could swap an image would boot every other job on it. */
static int check_file(const struct hyp_image *img, const char *what, const char *path,
                      uid_t also_owner, hyp_error *err)
{
	/* O_NONBLOCK: a FIFO must not hang us; it is refused below. */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return hyp_fail_errno(err, "image '%s': %s '%s'", img->name, what, path);
	if (!S_ISREG(st.st_mode))
		return hyp_fail(err, EINVAL, "image '%s': %s '%s': not a regular file", img->name,
		                what, path);
	int r = hyp_trust_check_path(path, also_owner, err);
	if (r < 0)
		return hyp_error_prefix(err, "image '%s': %s '%s' refused", img->name, what, path);
	return 0;
}

int hyp_image_check_owner(const struct hyp_image *img, uid_t also_owner, hyp_error *err)
{
	int r = check_file(img, "kernel", img->kernel, also_owner, err);
	if (r >= 0 && img->initrd)
		r = check_file(img, "initrd", img->initrd, also_owner, err);
	/* a user's own disk is checked as the user (hyp_image_policy.h) */
	if (r >= 0 && img->kind == HYP_IMAGE_DISK && !img->user_supplied)
		r = check_file(img, "disk", img->disk, also_owner, err);
	return r;
}

int hyp_image_check(const struct hyp_image *img, hyp_error *err)
{
	return hyp_image_check_owner(img, 0, err);
}

static int copy_string(char **dst, const char *src)
{
	return !src || (*dst = strdup(src)) ? 0 : -ENOMEM;
}

int hyp_image_copy(const struct hyp_image *src, struct hyp_image *ret_dst, hyp_error *err)
{
	_cleanup_(hyp_image_free) struct hyp_image img = {
	    .kind = src->kind,
	    .disk_format = src->disk_format,
	    .min_memory_mb = src->min_memory_mb,
	    .user_supplied = src->user_supplied,
	    .disk_size = src->disk_size,
	};
	if (copy_string(&img.name, src->name) < 0 || copy_string(&img.kernel, src->kernel) < 0 ||
	    copy_string(&img.initrd, src->initrd) < 0 ||
	    copy_string(&img.cmdline, src->cmdline) < 0 || copy_string(&img.disk, src->disk) < 0 ||
	    copy_string(&img.description, src->description) < 0 ||
	    copy_string(&img.users, src->users) < 0 || copy_string(&img.groups, src->groups) < 0)
		return hyp_fail(err, ENOMEM, "out of memory");
	*ret_dst = img;
	memset(&img, 0, sizeof(img));
	return 0;
}
