/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The framed channel over socketpairs and pipes: ordering, partial frames,
 * back-pressure, the input cap, end of file, timeouts, a vanished peer. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hyp_chan.h"
#include "hyp_time.h"

#define IN_MAX (HYP_FRAME_HEADER_SIZE + HYP_FRAME_MAX_PAYLOAD)

struct pair {
	int fd[2];
	struct hyp_chan a, b; /* a on fd[0], b on fd[1] */
};

static void pair_open(struct pair *p)
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, p->fd), 0);
	hyp_chan_init(&p->a, p->fd[0]);
	hyp_chan_init(&p->b, p->fd[1]);
}

static void pair_close(struct pair *p)
{
	hyp_chan_free(&p->a);
	hyp_chan_free(&p->b);
	close(p->fd[0]);
	close(p->fd[1]);
}

static void queue_ok(struct hyp_chan *c, struct hyp_msg m)
{
	hyp_error err = {0};
	if (!m.stream && m.type != HYP_MSG_PING && m.type != HYP_MSG_HELLO)
		m.stream = 1;
	cr_assert_eq(hyp_chan_queue(c, &m, &err), 0, "%s", err.msg);
}

static void flush_ok(struct hyp_chan *c)
{
	hyp_error err = {0};
	cr_assert_eq(hyp_chan_flush(c, &err), 0, "%s", err.msg);
}

static void fill_ok(struct hyp_chan *c)
{
	hyp_error err = {0};
	cr_assert_eq(hyp_chan_fill(c, &err), 0, "%s", err.msg);
}

static int next(struct hyp_chan *c, struct hyp_msg *m)
{
	hyp_error err = {0};
	int r = hyp_chan_next(c, m, &err);
	cr_assert_geq(r, 0, "%s", err.msg);
	return r;
}

static struct hyp_msg ping(uint64_t nonce)
{
	return (struct hyp_msg){.type = HYP_MSG_PING, .nonce = nonce};
}

Test(chan, frames_arrive_in_order)
{
	struct pair p;
	char *argv[] = {"hostname", NULL};
	struct hyp_msg m;

	pair_open(&p);
	queue_ok(&p.a, (struct hyp_msg){.type = HYP_MSG_HELLO, .hello = {1, 1 << 18}});
	queue_ok(&p.a, (struct hyp_msg){.type = HYP_MSG_EXEC,
	                                .exec = {.cwd = "/", .argv = argv, .argc = 1}});
	queue_ok(&p.a, (struct hyp_msg){.type = HYP_MSG_STDOUT, .data = {(uint8_t *)"out", 3}});
	queue_ok(&p.a, (struct hyp_msg){.type = HYP_MSG_EXIT, .exit = {.code = 3}});
	cr_assert(hyp_chan_has_output(&p.a));
	flush_ok(&p.a);
	cr_assert_not(hyp_chan_has_output(&p.a));
	fill_ok(&p.b);

	cr_assert(next(&p.b, &m) == 1 && m.type == HYP_MSG_HELLO && m.hello.version == 1);
	cr_assert(next(&p.b, &m) == 1 && m.type == HYP_MSG_EXEC);
	cr_assert_str_eq(m.exec.argv[0], "hostname");
	hyp_msg_clear(&m);
	cr_assert(next(&p.b, &m) == 1 && m.type == HYP_MSG_STDOUT && m.data.len == 3);
	cr_assert_eq(memcmp(m.data.data, "out", 3), 0);
	cr_assert(next(&p.b, &m) == 1 && m.type == HYP_MSG_EXIT && m.exit.code == 3);
	cr_assert_eq(next(&p.b, &m), 0);
	cr_assert_not(p.b.eof);
	pair_close(&p);
}

Test(chan, frames_split_across_reads)
{
	struct pair p;
	struct hyp_buf raw = {0};
	struct hyp_msg m, one = ping(7), two = ping(8);

	pair_open(&p);
	cr_assert_eq(hyp_msg_encode(&raw, &one, NULL), 0);
	cr_assert_eq(hyp_msg_encode(&raw, &two, NULL), 0);
	for (size_t i = 0; i < 16 + 5; i++) { /* all of one, then 5 bytes of two */
		cr_assert_eq(next(&p.b, &m), 0, "byte %zu", i);
		cr_assert_eq(write(p.fd[0], raw.data + i, 1), 1);
		fill_ok(&p.b);
		if (i == 15)
			cr_assert(next(&p.b, &m) == 1 && m.nonce == 7);
	}
	cr_assert_eq(next(&p.b, &m), 0);
	cr_assert_eq(write(p.fd[0], raw.data + 21, raw.len - 21), (ssize_t)raw.len - 21);
	fill_ok(&p.b);
	cr_assert(next(&p.b, &m) == 1 && m.nonce == 8);
	hyp_buf_free(&raw);
	pair_close(&p);
}

static struct hyp_msg chunk_msg(uint8_t *buf, uint32_t seq)
{
	memset(buf, seq & 0xff, HYP_DATA_CHUNK);
	memcpy(buf, &seq, sizeof(seq));
	return (struct hyp_msg){.type = HYP_MSG_STDOUT, .stream = 1, .data = {buf, HYP_DATA_CHUNK}};
}

static void check_chunk(const struct hyp_msg *m, uint32_t seq)
{
	uint32_t got;
	cr_assert(m->type == HYP_MSG_STDOUT && m->data.len == HYP_DATA_CHUNK);
	memcpy(&got, m->data.data, sizeof(got));
	cr_assert_eq(got, seq);
	cr_assert_eq(m->data.data[HYP_DATA_CHUNK - 1], seq & 0xff);
}

Test(chan, back_pressure)
{
	static uint8_t buf[HYP_DATA_CHUNK];
	struct pair p;
	struct hyp_msg m;
	uint32_t sent = 0, got = 0;

	pair_open(&p);
	while (hyp_chan_can_queue(&p.a)) { /* the peer does not read */
		queue_ok(&p.a, chunk_msg(buf, sent++));
		flush_ok(&p.a);
		cr_assert_lt(sent, 1000, "can_queue never turned false");
	}
	cr_assert(hyp_chan_has_output(&p.a), "the socket is full, output waits");
	cr_assert_geq(hyp_buf_pending(&p.a.out), HYP_CHAN_OUT_HIGH);

	while (got < sent) {
		fill_ok(&p.b);
		cr_assert_leq(hyp_buf_pending(&p.b.in), IN_MAX);
		while (next(&p.b, &m) == 1)
			check_chunk(&m, got++);
		flush_ok(&p.a);
	}
	cr_assert(hyp_chan_can_queue(&p.a) && !hyp_chan_has_output(&p.a));
	pair_close(&p);
}

Test(chan, queue_has_a_hard_cap)
{
	static uint8_t buf[HYP_DATA_CHUNK];
	struct pair p;
	hyp_error err = {0};
	int r = 0;

	pair_open(&p);
	for (int i = 0; i < 1000 && r == 0; i++) {
		struct hyp_msg m = chunk_msg(buf, i);
		r = hyp_chan_queue(&p.a, &m, &err);
	}
	cr_assert_eq(r, -ENOBUFS);
	cr_assert(strstr(err.msg, "cannot queue STDOUT"), "%s", err.msg);
	cr_assert_lt(hyp_buf_pending(&p.a.out), 2 * HYP_CHAN_OUT_HIGH + HYP_DATA_CHUNK + 8);
	pair_close(&p);
}

/* A pipe holds more than one frame; fill() still stops at one frame's worth
 * (and the writing side falls back from send() to write() on a pipe). */
Test(chan, input_is_capped_at_one_frame)
{
	static uint8_t frame[IN_MAX];
	int fd[2];
	struct hyp_chan r, w;
	struct hyp_msg m;

	cr_assert_eq(pipe2(fd, O_NONBLOCK | O_CLOEXEC), 0);
	if (fcntl(fd[1], F_SETPIPE_SZ, 1 << 20) < 1 << 20)
		cr_skip_test("cannot grow a pipe to 1 MiB");
	memcpy(frame, "\0\x04\0\0\0\x07\0\x01", 8); /* STDOUT, 262144 bytes, stream 1 */
	memset(frame + 8, 'o', HYP_FRAME_MAX_PAYLOAD);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(write(fd[1], frame, sizeof(frame)), (ssize_t)sizeof(frame));
	hyp_chan_init(&w, fd[1]);
	queue_ok(&w, ping(42));
	flush_ok(&w);

	hyp_chan_init(&r, fd[0]);
	for (int i = 0; i < 3; i++) {
		fill_ok(&r);
		cr_assert_eq(hyp_buf_pending(&r.in), IN_MAX, "frame %d", i);
		cr_assert(next(&r, &m) == 1 && m.data.len == HYP_FRAME_MAX_PAYLOAD);
		cr_assert(m.data.data[0] == 'o' && m.data.data[m.data.len - 1] == 'o');
	}
	fill_ok(&r);
	cr_assert(next(&r, &m) == 1 && m.type == HYP_MSG_PING && m.nonce == 42);
	hyp_chan_free(&r);
	hyp_chan_free(&w);
	close(fd[0]);
	close(fd[1]);
}

Test(chan, eof)
{
	struct pair p;
	struct hyp_msg m;
	hyp_error err = {0};

	pair_open(&p);
	queue_ok(&p.a, ping(1));
	flush_ok(&p.a);
	close(p.fd[0]);
	p.fd[0] = -1;
	fill_ok(&p.b);
	cr_assert(p.b.eof);
	cr_assert(next(&p.b, &m) == 1 && m.nonce == 1, "frames before the end still arrive");
	cr_assert_eq(next(&p.b, &m), 0);
	cr_assert_eq(hyp_chan_recv_wait(&p.b, &m, hyp_now_ms() + 1000, &err), -ECONNRESET);
	cr_assert_str_eq(err.msg, "the peer closed the channel");
	pair_close(&p);
}

Test(chan, eof_in_the_middle_of_a_frame)
{
	struct pair p;
	struct hyp_msg m;
	hyp_error err = {0};

	pair_open(&p);
	cr_assert_eq(write(p.fd[0], "\0\0\0\x08\0\x02\0\0\1", 9), 9);
	close(p.fd[0]);
	p.fd[0] = -1;
	fill_ok(&p.b);
	cr_assert_eq(hyp_chan_next(&p.b, &m, &err), -ECONNRESET);
	cr_assert(strstr(err.msg, "in the middle of a frame (9 bytes received)"), "%s", err.msg);
	pair_close(&p);
}

Test(chan, malformed_frame_stays_an_error)
{
	struct pair p;
	struct hyp_msg m;
	hyp_error err = {0};

	pair_open(&p);
	cr_assert_eq(write(p.fd[0], "\0\0\0\0\0\x06\0\0", 8), 8); /* STDIN_EOF, stream 0 */
	fill_ok(&p.b);
	cr_assert_eq(hyp_chan_next(&p.b, &m, &err), -EPROTO);
	cr_assert_str_eq(err.msg,
	                 "frame type 6 (STDIN_EOF): stream 0 (a stream message needs a stream)");
	cr_assert_eq(hyp_chan_recv_wait(&p.b, &m, -1, &err), -EPROTO);
	pair_close(&p);
}

Test(chan, recv_wait_times_out)
{
	struct pair p;
	struct hyp_msg m;
	hyp_error err = {0};

	pair_open(&p);
	long long start = hyp_now_ms();
	cr_assert_eq(hyp_chan_recv_wait(&p.b, &m, start + 100, &err), -ETIMEDOUT);
	long long took = hyp_now_ms() - start;
	cr_assert(took >= 99 && took < 2000, "took %lld ms", took);
	cr_assert_str_eq(err.msg, "timed out waiting for a frame from the peer");
	pair_close(&p);
}

Test(chan, recv_wait_ready_beats_late)
{
	struct pair p;
	struct hyp_msg m;
	hyp_error err = {0};

	pair_open(&p);
	queue_ok(&p.a, ping(5));
	flush_ok(&p.a);
	cr_assert_eq(hyp_chan_recv_wait(&p.b, &m, hyp_now_ms() - 10, &err), 0, "%s", err.msg);
	cr_assert_eq(m.nonce, 5);
	pair_close(&p);
}

Test(chan, recv_wait_gets_a_late_frame_and_flushes_meanwhile)
{
	struct pair p;
	struct hyp_msg m;
	hyp_error err = {0};

	pair_open(&p);
	pid_t pid = fork();
	if (pid == 0) { /* the peer: answer the ping after a while */
		struct hyp_chan c;
		hyp_chan_init(&c, p.fd[1]);
		if (hyp_chan_recv_wait(&c, &m, hyp_now_ms() + 5000, NULL) < 0)
			_exit(1);
		usleep(50 * 1000);
		struct hyp_msg pong = {.type = HYP_MSG_PONG, .nonce = m.nonce};
		_exit(hyp_chan_send_wait(&c, &pong, hyp_now_ms() + 5000, NULL) < 0);
	}
	queue_ok(&p.a, ping(99)); /* not flushed: recv_wait does it */
	cr_assert_eq(hyp_chan_recv_wait(&p.a, &m, hyp_now_ms() + 5000, &err), 0, "%s", err.msg);
	cr_assert(m.type == HYP_MSG_PONG && m.nonce == 99);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	pair_close(&p);
}

Test(chan, send_wait_times_out_when_the_peer_does_not_read)
{
	static uint8_t junk[4096];
	struct pair p;
	hyp_error err = {0};

	pair_open(&p);
	while (write(p.fd[0], junk, sizeof(junk)) > 0)
		;
	cr_assert_eq(errno, EAGAIN);
	long long start = hyp_now_ms();
	struct hyp_msg m = ping(1);
	cr_assert_eq(hyp_chan_send_wait(&p.a, &m, start + 100, &err), -ETIMEDOUT);
	cr_assert_geq(hyp_now_ms() - start, 99);
	cr_assert_str_eq(err.msg, "timed out sending to the peer");
	pair_close(&p);
}

Test(chan, vanished_peer_is_epipe_not_sigpipe)
{
	struct pair p;
	hyp_error err = {0};

	pair_open(&p);
	close(p.fd[1]);
	p.fd[1] = -1;
	queue_ok(&p.a, ping(1));
	cr_assert_eq(hyp_chan_flush(&p.a, &err), -EPIPE);
	cr_assert_str_eq(err.msg, "writing to the channel: the peer closed it");
	struct hyp_msg m = ping(2);
	cr_assert_eq(hyp_chan_send_wait(&p.a, &m, hyp_now_ms() + 1000, &err), -EPIPE);
	pair_close(&p);
}

Test(chan, now_is_monotonic)
{
	long long a = hyp_now_ms();
	usleep(20 * 1000);
	long long b = hyp_now_ms();
	cr_assert(a > 0 && b - a >= 19 && b - a < 2000);
}
