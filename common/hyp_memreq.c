/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "hyp_memreq.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hyp_cleanup.h"

#define SCRIPT_LINE_MAX 4096

int hyp_memreq_parse_size(const char *s, unsigned long long *ret_mb)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case 'K':
	case 'k':
		v /= 1024;
		end++;
		break;
	case 'M':
	case 'm':
	case '\0':
		end += *end != '\0';
		break;
	case 'G':
	case 'g':
		if (__builtin_mul_overflow(v, 1024ULL, &v))
			return -EINVAL;
		end++;
		break;
	case 'T':
	case 't':
		if (__builtin_mul_overflow(v, 1024ULL * 1024, &v))
			return -EINVAL;
		end++;
		break;
	default:
		return -EINVAL;
	}
	if (*end)
		return -EINVAL;
	*ret_mb = v;
	return 0;
}

/* --mem=X or --mem X at *i; 1 with the size, 0 if not --mem. */
static int mem_option(char *const argv[], int *i, unsigned long long *mb)
{
	const char *a = argv[*i];
	if (!strncmp(a, "--mem=", 6))
		return hyp_memreq_parse_size(a + 6, mb) == 0;
	if (!strcmp(a, "--mem") && argv[*i + 1]) {
		(*i)++;
		return hyp_memreq_parse_size(argv[*i], mb) == 0;
	}
	return 0;
}

/* The options before the program (srun) or script (sbatch): a word that
 * does not start with '-' and follows another such word, or an option
 * given as --opt=value, ends them. Returns the script's index or 0. */
static int scan_args(char *const argv[], unsigned long long *mb, bool *found)
{
	bool prev_takes_value = false;
	for (int i = 1; argv[i]; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--"))
			return argv[i + 1] ? i + 1 : 0;
		if (a[0] != '-') {
			if (!prev_takes_value)
				return i;
			prev_takes_value = false;
			continue;
		}
		int at = i;
		if (mem_option(argv, &i, mb))
			*found = true;
		/* "-n 4", "--pty bash": a guess; a wrong one only loses the check */
		prev_takes_value = i == at && !strchr(a, '=') && !(a[1] != '-' && a[2]);
	}
	return 0;
}

static const char *env_get(char *const envp[], const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; envp && envp[i]; i++)
		if (!strncmp(envp[i], name, n) && envp[i][n] == '=')
			return envp[i] + n + 1;
	return NULL;
}

/* #SBATCH --mem=X in the script's leading comment block. */
static int script_mem(const char *path, unsigned long long *mb)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char line[SCRIPT_LINE_MAX];
	int found = 0;
	for (unsigned n = 0; f && fgets(line, sizeof(line), f); n++) {
		if (n > 0 && line[0] != '#' && line[strspn(line, " \t\r\n")])
			break; /* sbatch stops at the first command */
		if (strncmp(line, "#SBATCH", 7))
			continue;
		line[strcspn(line, "\r\n")] = '\0';
		char *words[4] = {0}, *save = NULL;
		int k = 0;
		for (char *w = strtok_r(line + 7, " \t", &save); w && k < 3;
		     w = strtok_r(NULL, " \t", &save))
			words[k++] = w;
		int j = 0;
		if (words[0] && mem_option(words, &j, mb))
			found = 1;
	}
	return found;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

int hyp_memreq_find(char *const argv[], char *const envp[], unsigned long long *ret_mb)
{
	if (!argv || !argv[0])
		return 0;
	const char *prog = base_name(argv[0]);
	unsigned long long mb = 0;
	bool found = false;
	int script = scan_args(argv, &mb, &found);
	const char *env = !strcmp(prog, "sbatch")   ? "SBATCH_MEM_PER_NODE"
	                  : !strcmp(prog, "salloc") ? "SALLOC_MEM_PER_NODE"
	                                            : "SLURM_MEM_PER_NODE";
	if (!found && hyp_memreq_parse_size(env_get(envp, env), &mb) == 0)
		found = true;
	if (!found && !strcmp(prog, "sbatch") && script > 0)
		found = script_mem(argv[script], &mb) == 1;
	if (!found || mb == 0)
		return 0;
	*ret_mb = mb;
	return 1;
}
