/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --script: a host file goes to the guest in FILE frames after the request
 * (exec_script.c), any bytes and any size up to the protocol's limit, as
 * the channel has room. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec.h"

static char path[] = "/tmp/test_exec_script.XXXXXX";

static uint8_t *write_script(size_t size)
{
	uint8_t *data = malloc(size ? size : 1);
	for (size_t i = 0; i < size; i++)
		data[i] = (uint8_t)(i * 2654435761u >> 9);
	if (size > 2) {
		data[1] = '\0';
		data[size - 1] = '\0';
	}
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, data, size), (ssize_t)size);
	close(fd);
	return data;
}

/* Queue and take out frames until the file is all sent; what it carried. */
static uint8_t *send_all(struct exec_script *sc, size_t size, size_t *ret_frames)
{
	struct hyp_chan chan;
	hyp_error err = {0};
	uint8_t *got = malloc(size ? size : 1);
	size_t off = 0, frames = 0;
	hyp_chan_init(&chan, -1);
	while (sc->fd >= 0) {
		cr_assert_eq(exec_script_queue(sc, &chan, HYP_DATA_CHUNK, &err), 0, "%s", err.msg);
		cr_assert_leq(hyp_buf_pending(&chan.out), 2 * HYP_CHAN_OUT_HIGH, "bounded");
		struct hyp_msg m;
		ssize_t n;
		while ((n = hyp_msg_decode(chan.out.data + chan.out.off, hyp_buf_pending(&chan.out),
		                           &m, &err)) > 0) {
			cr_assert_eq(m.type, HYP_MSG_FILE);
			cr_assert_leq(off + m.data.len, size);
			memcpy(got + off, m.data.data, m.data.len);
			off += m.data.len;
			frames++;
			hyp_buf_consume(&chan.out, (size_t)n);
		}
		cr_assert_geq(n, 0, "%s", err.msg);
	}
	cr_assert_eq(off, size);
	hyp_chan_free(&chan);
	*ret_frames = frames;
	return got;
}

static void round_trip(size_t size)
{
	uint8_t *data = write_script(size);
	struct exec_script sc;
	hyp_error err = {0};
	size_t frames;
	cr_assert_eq(exec_script_open(path, &sc, &err), 0, "%s", err.msg);
	cr_assert_eq(sc.left, size);
	uint8_t *got = send_all(&sc, size, &frames);
	cr_expect_arr_eq(got, data, size, "the file arrives intact");
	cr_expect_eq(frames, (size + HYP_DATA_CHUNK - 1) / HYP_DATA_CHUNK);
	unlink(path);
	free(data);
	free(got);
}

Test(exec_script, four_mib_with_nul_bytes)
{
	round_trip(4 * 1024 * 1024);
}

Test(exec_script, one_mib_and_odd_sizes)
{
	round_trip(1024 * 1024 + 7);
	strcpy(path, "/tmp/test_exec_script.XXXXXX");
	round_trip(3);
}

Test(exec_script, empty_script_sends_no_frame)
{
	round_trip(0);
}

Test(exec_script, refused_scripts)
{
	struct exec_script sc;
	hyp_error err = {0};
	cr_expect_eq(exec_script_open("/nonexistent/job.sh", &sc, &err), -ENOENT);
	cr_expect_str_eq(err.msg, "batch script '/nonexistent/job.sh': No such file or directory");
	cr_expect_eq(exec_script_open("/tmp", &sc, &err), -EINVAL);
	cr_expect_str_eq(err.msg, "batch script '/tmp' is not a regular file");
	int fd = mkstemp(path);
	cr_assert_eq(ftruncate(fd, (off_t)HYP_EXEC_FILE_MAX + 1), 0);
	close(fd);
	cr_expect_eq(exec_script_open(path, &sc, &err), -EFBIG);
	cr_expect(strstr(err.msg, "larger than the 64 MiB"), "%s", err.msg);
	unlink(path);
}

Test(exec_script, a_script_that_shrinks_fails)
{
	uint8_t *data = write_script(100000);
	struct exec_script sc;
	struct hyp_chan chan;
	hyp_error err = {0};
	cr_assert_eq(exec_script_open(path, &sc, &err), 0, "%s", err.msg);
	cr_assert_eq(truncate(path, 10), 0);
	hyp_chan_init(&chan, -1);
	cr_expect_eq(exec_script_queue(&sc, &chan, HYP_DATA_CHUNK, &err), -EIO);
	cr_expect(strstr(err.msg, "shrank while it was sent"), "%s", err.msg);
	exec_script_close(&sc);
	hyp_chan_free(&chan);
	unlink(path);
	free(data);
}
