/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hyperion.conf: "key = value" lines, no sections (images live in the
 * catalog directory). Every key has a default; a key given twice, an unknown
 * key or a bad value is an error naming the file, the line and what is
 * allowed.
 */
#include "hyp_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "hyp_cleanup.h"
#include "hyp_cpulist.h"
#include "hyp_hugepages.h"
#include "hyp_ini.h"
#include "hyp_guest_commands.h"
#include "hyp_shares.h"

/* Longest state_dir whose exec sockets ("job.<id>/exec.<i>.sock") still fit
 * in a unix socket address. */
#define STATE_DIR_MAX                                                                              \
	(sizeof(((struct sockaddr_un *)0)->sun_path) - sizeof("/job.4294967295/exec.99999.sock"))

typedef int (*config_setter)(struct hyp_config *cfg, const char *key, const char *value,
                             hyp_error *err);

struct config_key {
	const char *name;
	config_setter set;
};

struct load_ctx {
	struct hyp_config *cfg;
	bool seen[32]; /* by index into config_keys */
};

const char *hyp_domain_type_name(enum hyp_domain_type t)
{
	return t == HYP_DOMAIN_QEMU ? "qemu" : "kvm";
}

void hyp_config_free(struct hyp_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->libvirt_uri);
	free(cfg->state_dir);
	free(cfg->image_catalog);
	free(cfg->cpu_model);
	free(cfg->user_image_boot);
	free(cfg->housekeeping_cpus);
	free(cfg->hugepages_allowed);
	free(cfg->hugepages_default);
	free(cfg->console_keep_dir);
	hyp_strv_free(cfg->shares);
	hyp_strv_free(cfg->guest_commands);
	free(cfg->virtiofsd);
	hyp_devices_config_free(&cfg->devices);
	hyp_net_config_free(&cfg->net);
	memset(cfg, 0, sizeof(*cfg));
}

/* Replace *field by a copy of value. */
static int set_string(char **field, const char *value, hyp_error *err)
{
	char *copy = strdup(value);
	if (!copy)
		return hyp_fail(err, ENOMEM, "out of memory");
	free(*field);
	*field = copy;
	return 0;
}

static int set_nonempty(char **field, const char *key, const char *value, hyp_error *err)
{
	if (!*value)
		return hyp_fail(err, EINVAL, "%s: empty value", key);
	return set_string(field, value, err);
}

/* An absolute path, trailing slashes dropped. */
static int set_dir(char **field, const char *key, const char *value, size_t max, hyp_error *err)
{
	size_t len = strlen(value);
	while (len > 1 && value[len - 1] == '/')
		len--;
	if (value[0] != '/')
		return hyp_fail(err, EINVAL, "%s: '%s' is not an absolute path", key, value);
	if (len > max)
		return hyp_fail(err, EINVAL, "%s: '%s' is too long (at most %zu characters)", key,
		                value, max);
	char *copy = strndup(value, len);
	if (!copy)
		return hyp_fail(err, ENOMEM, "out of memory");
	free(*field);
	*field = copy;
	return 0;
}

static int set_uint(unsigned *field, const char *key, const char *value, unsigned long long min,
                    unsigned long long max, hyp_error *err)
{
	unsigned long long v;
	int r = hyp_parse_uint(key, value, min, max, &v, err);
	if (r < 0)
		return r;
	*field = (unsigned)v;
	return 0;
}

static int set_libvirt_uri(struct hyp_config *cfg, const char *key, const char *value,
                           hyp_error *err)
{
	return set_nonempty(&cfg->libvirt_uri, key, value, err);
}

static int set_domain_type(struct hyp_config *cfg, const char *key, const char *value,
                           hyp_error *err)
{
	if (!strcmp(value, "kvm"))
		cfg->domain_type = HYP_DOMAIN_KVM;
	else if (!strcmp(value, "qemu"))
		cfg->domain_type = HYP_DOMAIN_QEMU;
	else
		return hyp_fail(err, EINVAL, "%s: bad value '%s' (allowed: kvm, qemu)", key, value);
	return 0;
}

static int set_state_dir(struct hyp_config *cfg, const char *key, const char *value, hyp_error *err)
{
	return set_dir(&cfg->state_dir, key, value, STATE_DIR_MAX, err);
}

static int set_images(struct hyp_config *cfg, const char *key, const char *value, hyp_error *err)
{
	return set_dir(&cfg->image_catalog, key, value, 4096, err);
}

static int set_vmm_reserve(struct hyp_config *cfg, const char *key, const char *value,
                           hyp_error *err)
{
	return set_uint(&cfg->vmm_reserve_mb, key, value, 0, 1024 * 1024, err);
}

static int set_boot_timeout(struct hyp_config *cfg, const char *key, const char *value,
                            hyp_error *err)
{
	return set_uint(&cfg->boot_timeout_s, key, value, 1, 24 * 3600, err);
}

static int set_spare_ports(struct hyp_config *cfg, const char *key, const char *value,
                           hyp_error *err)
{
	return set_uint(&cfg->spare_exec_ports, key, value, 0, 256, err);
}

static int set_cpu_model(struct hyp_config *cfg, const char *key, const char *value, hyp_error *err)
{
	size_t ok =
	    strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");
	if (!*value || value[ok])
		return hyp_fail(err, EINVAL,
		                "%s: bad value '%s' (allowed: host-passthrough, host-model or a "
		                "CPU model name such as Skylake-Server)",
		                key, value);
	return set_string(&cfg->cpu_model, value, err);
}

/* Stored normalised ("0-1,4"); empty means the allocation's own cpus. */
static int set_housekeeping(struct hyp_config *cfg, const char *key, const char *value,
                            hyp_error *err)
{
	if (!*value)
		return set_string(&cfg->housekeeping_cpus, "", err);
	_cleanup_free_ unsigned *ids = NULL;
	size_t n;
	if (hyp_cpulist_parse(value, &ids, &n, err) < 0)
		return hyp_error_prefix(err, "%s", key);
	char *list = hyp_cpulist_format(ids, n);
	if (!list)
		return hyp_fail(err, ENOMEM, "out of memory");
	free(cfg->housekeeping_cpus);
	cfg->housekeeping_cpus = list;
	return 0;
}

/* The canonical spelling of a page size name (len bytes), or NULL. */
static const char *hugepage_size(const char *name, size_t len)
{
	char buf[16];
	unsigned long kib;
	if (len >= sizeof(buf))
		return NULL;
	memcpy(buf, name, len);
	buf[len] = '\0';
	if (hyp_hugepage_size_parse(buf, &kib, NULL) < 0)
		return NULL;
	return hyp_hugepage_size_name(kib);
}

static int bad_hugepages(const char *key, const char *value, hyp_error *err)
{
	return hyp_fail(err, EINVAL, "%s: bad value '%s' (allowed: %s)", key, value,
	                !strcmp(key, "hugepages") ? HYP_HUGEPAGE_NAMES
	                                          : "a list of " HYP_HUGEPAGE_NAMES
	                                            " such as none,2M");
}

/* "none, 2m" is stored as "none,2M": canonical names, no repeats. */
static int set_hugepages_allowed(struct hyp_config *cfg, const char *key, const char *value,
                                 hyp_error *err)
{
	char list[32] = "";
	for (const char *p = value;;) {
		p += strspn(p, " \t");
		size_t len = strcspn(p, ","), end = len;
		while (end > 0 && (p[end - 1] == ' ' || p[end - 1] == '\t'))
			end--;
		const char *size = hugepage_size(p, end);
		if (!size)
			return bad_hugepages(key, value, err);
		if (!strstr(list, size)) /* no size name contains another */
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
			         *list ? "," : "", size);
		if (!p[len])
			break;
		p += len + 1;
	}
	return set_string(&cfg->hugepages_allowed, list, err);
}

static int set_hugepages(struct hyp_config *cfg, const char *key, const char *value, hyp_error *err)
{
	const char *size = hugepage_size(value, strlen(value));
	if (!size)
		return bad_hugepages(key, value, err);
	return set_string(&cfg->hugepages_default, size, err);
}

static int set_numa_bind(struct hyp_config *cfg, const char *key, const char *value, hyp_error *err)
{
	return hyp_parse_bool(key, value, &cfg->numa_bind, err);
}

static int set_keep_dir(struct hyp_config *cfg, const char *key, const char *value, hyp_error *err)
{
	return set_dir(&cfg->console_keep_dir, key, value, 4096, err);
}

static int set_keep_kib(struct hyp_config *cfg, const char *key, const char *value, hyp_error *err)
{
	return set_uint(&cfg->console_keep_kib, key, value, 1, 64 * 1024, err);
}

static int set_keep_days(struct hyp_config *cfg, const char *key, const char *value, hyp_error *err)
{
	return set_uint(&cfg->console_keep_days, key, value, 1, 3650, err);
}

static int set_keep_files(struct hyp_config *cfg, const char *key, const char *value,
                          hyp_error *err)
{
	return set_uint(&cfg->console_keep_files, key, value, 1, 100000, err);
}

/* Whitespace-separated absolute paths, normalised, each once. */
static int set_shares(struct hyp_config *cfg, const char *key, const char *value, hyp_error *err)
{
	_cleanup_strv_ char **list = calloc(HYP_SHARES_MAX + 1, sizeof(char *));
	size_t n = 0;
	if (!list)
		return hyp_fail(err, ENOMEM, "out of memory");
	for (const char *p = value + strspn(value, " \t"); *p; p += strspn(p, " \t")) {
		size_t len = strcspn(p, " \t");
		char *path;
		int r = hyp_share_path_normalize(key, p, len, &path, err);
		if (r < 0)
			return r;
		for (size_t i = 0; i < n; i++)
			if (!strcmp(list[i], path)) {
				hyp_fail(err, EINVAL, "%s: '%s' is listed twice", key, path);
				free(path);
				return -EINVAL;
			}
		if (n == HYP_SHARES_MAX) {
			free(path);
			return hyp_fail(err, EINVAL, "%s: more than %d directories", key,
			                HYP_SHARES_MAX);
		}
		list[n++] = path;
		p += len;
	}
	hyp_strv_free(cfg->shares);
	cfg->shares = steal_pointer(&list);
	return 0;
}

static int set_virtiofsd(struct hyp_config *cfg, const char *key, const char *value, hyp_error *err)
{
	if (value[0] != '/')
		return hyp_fail(err, EINVAL, "%s: '%s' is not an absolute path", key, value);
	return set_string(&cfg->virtiofsd, value, err);
}

static int set_user_images(struct hyp_config *cfg, const char *key, const char *value,
                           hyp_error *err)
{
	return hyp_parse_bool(key, value, &cfg->user_images, err);
}

static int set_user_image_boot(struct hyp_config *cfg, const char *key, const char *value,
                               hyp_error *err)
{
	if (!*value || value[strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                                   "0123456789._-")])
		return hyp_fail(err, EINVAL, "%s: bad image name '%s'", key, value);
	return set_string(&cfg->user_image_boot, value, err);
}

static int set_guest_commands(struct hyp_config *cfg, const char *key, const char *value,
                              hyp_error *err)
{
	char **list;
	int r = hyp_guest_commands_parse(key, value, &list, err);
	if (r < 0)
		return r;
	hyp_strv_free(cfg->guest_commands);
	cfg->guest_commands = list;
	return 0;
}

static const struct config_key config_keys[] = {
    {"libvirt_uri", set_libvirt_uri},
    {"domain_type", set_domain_type},
    {"state_dir", set_state_dir},
    {"vmm_reserve_mb", set_vmm_reserve},
    {"boot_timeout", set_boot_timeout},
    {"images", set_images},
    {"spare_exec_ports", set_spare_ports},
    {"cpu_model", set_cpu_model},
    {"housekeeping_cpus", set_housekeeping},
    {"hugepages_allowed", set_hugepages_allowed},
    {"hugepages", set_hugepages},
    {"numa_bind", set_numa_bind},
    {"console_keep_dir", set_keep_dir},
    {"console_keep_kib", set_keep_kib},
    {"console_keep_days", set_keep_days},
    {"console_keep_files", set_keep_files},
    {"shares", set_shares},
    {"virtiofsd", set_virtiofsd},
    {"user_images", set_user_images},
    {"user_image_boot", set_user_image_boot},
    {"guest_commands", set_guest_commands},
};
#define NCONFIG_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

static int unknown_key(const char *key, hyp_error *err)
{
	char known[1024] = "";
	for (size_t i = 0; i < NCONFIG_KEYS; i++)
		snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
		         i ? ", " : "", config_keys[i].name);
	snprintf(known + strlen(known), sizeof(known) - strlen(known), ", %s",
	         hyp_net_config_keys());
	return hyp_fail(err, EINVAL, "unknown key '%s' (known: %s)", key, known);
}

static int config_key_fn(void *ctx, const char *section, const char *key, const char *value,
                         hyp_error *err)
{
	struct load_ctx *lc = ctx;
	int r = hyp_devices_config_key(&lc->cfg->devices, section, key, value, err);
	if (r != 0)
		return r < 0 ? r : 0;
	if (*section)
		return hyp_fail(err, EINVAL,
		                "section [%s] is not allowed in hyperion.conf: its only sections "
		                "are [vf_pool NAME] (images are defined in the catalog directory, "
		                "see 'images')",
		                section);
	for (size_t i = 0; i < NCONFIG_KEYS; i++) {
		if (strcmp(key, config_keys[i].name) != 0)
			continue;
		if (lc->seen[i])
			return hyp_fail(err, EINVAL, "'%s' is set twice", key);
		lc->seen[i] = true;
		return config_keys[i].set(lc->cfg, key, value, err);
	}
	r = hyp_net_config_set(&lc->cfg->net, key, value, err);
	return r != 0 ? (r < 0 ? r : 0) : unknown_key(key, err);
}

static int set_defaults(struct hyp_config *cfg, hyp_error *err)
{
	cfg->domain_type = HYP_DOMAIN_KVM;
	cfg->vmm_reserve_mb = 128;
	cfg->boot_timeout_s = 60;
	cfg->spare_exec_ports = 4;
	cfg->numa_bind = true;
	cfg->console_keep_kib = 256;
	cfg->console_keep_days = 7;
	cfg->console_keep_files = 100;
	int r;
	if ((r = set_string(&cfg->libvirt_uri, "qemu:///system", err)) < 0 ||
	    (r = set_string(&cfg->state_dir, "/run/hyperion", err)) < 0 ||
	    (r = set_string(&cfg->image_catalog, HYP_SYSCONFDIR "/images.d", err)) < 0 ||
	    (r = set_string(&cfg->cpu_model, "host-passthrough", err)) < 0 ||
	    (r = set_string(&cfg->housekeeping_cpus, "", err)) < 0 ||
	    (r = set_hugepages_allowed(cfg, "hugepages_allowed", HYP_HUGEPAGE_NAMES, err)) < 0 ||
	    (r = set_string(&cfg->hugepages_default, "none", err)) < 0 ||
	    (r = set_shares(cfg, "shares", "", err)) < 0 ||
	    (r = set_string(&cfg->virtiofsd, "/usr/lib/qemu/virtiofsd", err)) < 0 ||
	    (r = set_string(&cfg->user_image_boot, "default", err)) < 0 ||
	    (r = set_string(&cfg->console_keep_dir, "/var/log/hyperion/consoles", err)) < 0 ||
	    (r = hyp_net_config_defaults(&cfg->net, err)) < 0 ||
	    (r = hyp_devices_config_init(&cfg->devices, err)) < 0)
		return r;
	return hyp_guest_commands_default(HYP_GUEST_COMMANDS_DIRS, &cfg->guest_commands, err);
}

/* The default page size must be one users may have. */
static int check_hugepages(const struct hyp_config *cfg, const char *path, hyp_error *err)
{
	char allowed[64], wanted[16];
	snprintf(allowed, sizeof(allowed), ",%s,", cfg->hugepages_allowed);
	snprintf(wanted, sizeof(wanted), ",%s,", cfg->hugepages_default);
	if (strstr(allowed, wanted))
		return 0;
	return hyp_fail(err, EINVAL, "%s: hugepages = %s is not in hugepages_allowed (%s)", path,
	                cfg->hugepages_default, cfg->hugepages_allowed);
}

int hyp_config_load(const char *path, struct hyp_config *ret_cfg, hyp_error *err)
{
	_cleanup_(hyp_config_free) struct hyp_config cfg = {0};
	const char *file = path ? path : HYP_DEFAULT_CONFIG;
	struct load_ctx ctx = {.cfg = &cfg};
	_Static_assert(NCONFIG_KEYS <= sizeof(ctx.seen) / sizeof(ctx.seen[0]), "load_ctx.seen");

	int r = set_defaults(&cfg, err);
	if (r < 0)
		return r;
	/* Setters never fail with ENOENT: it means the file is missing. */
	r = hyp_ini_parse_file(file, config_key_fn, &ctx, err);
	if (r < 0 && !(r == -ENOENT && !path))
		return r;
	if ((r = check_hugepages(&cfg, file, err)) < 0)
		return r;
	if ((r = hyp_net_config_check(&cfg.net, err)) < 0)
		return hyp_error_prefix(err, "%s", file);
	*ret_cfg = cfg;
	memset(&cfg, 0, sizeof(cfg));
	return 0;
}
