/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host-guest wire protocol (doc/protocol.md is the schema).
 *
 * A frame is an 8-byte header, then `length` payload bytes:
 *	u32 length (big-endian, within the type's limits)
 *	u16 type   (enum hyp_msg_type)
 *	u16 stream (0: the session; 1-65535: a stream)
 * Integers are big-endian; a string is u32 length + bytes without a NUL
 * (no embedded NUL allowed). Every type is one descriptor (struct
 * hyp_msg_desc): the codec, the limits and the clean-up are driven by it.
 * Decoding never reads past the bytes given and rejects anything malformed
 * with an error naming what was wrong.
 */
#ifndef HYP_PROTO_H
#define HYP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hyp_buf.h"
#include "hyp_error.h"

#define HYP_PROTO_VERSION_MIN 3 /* the versions this build speaks */
#define HYP_PROTO_VERSION_MAX 3
#define HYP_FRAME_HEADER_SIZE 8
#define HYP_FRAME_MAX_PAYLOAD (256 * 1024) /* whole exec request must fit */
#define HYP_DATA_CHUNK        (32 * 1024)  /* largest stdio payload a sender emits */
#define HYP_EXEC_MAX_ARGS     4096
#define HYP_EXEC_MAX_ENV      4096
#define HYP_EXEC_MAX_GROUPS   1024
#define HYP_PATH_MAX          4096
#define HYP_MESSAGE_MAX       1024 /* text of an ERROR frame */
#define HYP_EXEC_MAX_LIMITS   16   /* resource limits in an EXEC (Linux's RLIM_NLIMITS) */
#define HYP_EXEC_FILE_MAX     (64ULL * 1024 * 1024) /* a file sent with an EXEC */
#define HYP_STREAM_WINDOW     (256 * 1024)          /* a stream's window, each way */
#define HYP_STREAM_EXEC       1                     /* the stream of the host's EXEC */

/* virtio-serial port names (the guest finds them in /sys/class/virtio-ports) */
#define HYP_PORT_CTL         "org.hyperion.ctl"
#define HYP_PORT_EXEC_PREFIX "org.hyperion.exec." /* followed by 0, 1, ... */

enum hyp_msg_type {
	HYP_MSG_HELLO = 1,     /* both ways, first frame of a session */
	HYP_MSG_PING = 2,      /* host -> guest */
	HYP_MSG_PONG = 3,      /* guest -> host */
	HYP_MSG_EXEC = 4,      /* host -> guest */
	HYP_MSG_STDIN = 5,     /* host -> guest */
	HYP_MSG_STDIN_EOF = 6, /* host -> guest */
	HYP_MSG_STDOUT = 7,    /* guest -> host */
	HYP_MSG_STDERR = 8,    /* guest -> host */
	HYP_MSG_SIGNAL = 9,    /* host -> guest */
	HYP_MSG_WINCH = 10,    /* the stream's opener: a new terminal size */
	HYP_MSG_EXIT = 11,     /* guest -> host, last frame of a session */
	HYP_MSG_ERROR = 12,    /* both ways */
	HYP_MSG_POWEROFF = 13, /* host -> guest, control port only */
	HYP_MSG_FILE = 14,     /* host -> guest, the file of an EXEC with HYP_EXEC_FILE */
	HYP_MSG_CREDIT = 15,   /* both ways: grows the sender's window on a stream */
	HYP_MSG_TYPE_COUNT,
	/* 0x100-0x1ff: requests that start in the guest (srun, squeue...) */
	HYP_MSG_REQUEST = 0x100, /* guest -> host: run a guest command on the host */
	HYP_MSG_GUEST_END,
};

/* hyp_exec_request.flags */
#define HYP_EXEC_TTY          (1u << 0) /* run on a pty; stderr is merged into it */
#define HYP_EXEC_CWD_OPTIONAL (1u << 1) /* fall back to "/" if cwd is missing in the guest */
#define HYP_EXEC_FILE         (1u << 2) /* argv[0] is a file that follows in FILE frames */
#define HYP_EXEC_FLAGS_ALL    (HYP_EXEC_TTY | HYP_EXEC_CWD_OPTIONAL | HYP_EXEC_FILE)

/* A resource limit; RLIM_INFINITY is UINT64_MAX on the wire as in Linux. */
struct hyp_rlimit {
	uint32_t resource; /* Linux's RLIMIT_* number, 0-15 */
	uint64_t soft, hard;
};

struct hyp_hello {
	uint32_t version;
	uint32_t max_payload; /* largest payload the sender accepts */
};

struct hyp_exec_request {
	uint32_t flags;
	uint32_t uid;
	uint32_t gid;
	uint32_t umask;
	uint16_t rows, cols; /* initial window size when HYP_EXEC_TTY */
	uint32_t ngroups;
	uint32_t *groups;
	char *cwd;
	char **argv; /* argc >= 1 entries, NULL-terminated */
	uint32_t argc;
	char **envp; /* envc entries "NAME=VALUE", NULL-terminated */
	uint32_t envc;
	uint32_t nlimits; /* set in the guest before the command runs */
	struct hyp_rlimit limits[HYP_EXEC_MAX_LIMITS];
	uint64_t file_size; /* HYP_EXEC_FILE: bytes of FILE data that follow */
};

/* A guest command (srun, squeue...) to run on the host, on a stream the
 * guest opens. The host runs it as the job user, from its allowlist. */
struct hyp_request {
	uint32_t flags; /* HYP_EXEC_TTY only */
	uint16_t rows, cols;
	char *cwd;
	char **argv; /* argc >= 1, NULL-terminated */
	uint32_t argc;
	char **envp; /* the guest command's environment, NAME=VALUE */
	uint32_t envc;
};

struct hyp_exit {
	bool signaled;    /* true: `code` is the signal that killed the command */
	bool core_dumped; /* only meaningful when signaled */
	uint32_t code;    /* exit status 0-255, or signal number */
};

struct hyp_msg {
	uint16_t type;
	uint16_t stream; /* 0: the session; else the stream the message is about */
	union {
		struct hyp_hello hello;       /* HELLO */
		uint64_t nonce;               /* PING, PONG */
		struct hyp_exec_request exec; /* EXEC (owned, freed by hyp_msg_clear) */
		struct hyp_request request;   /* REQUEST (owned, freed by hyp_msg_clear) */
		struct {                      /* STDIN, STDOUT, STDERR, FILE */
			const uint8_t *data;  /* borrowed from the encoder's caller */
			size_t len;           /* or from the decoded buffer */
		} data;
		uint32_t signo; /* SIGNAL (Linux numbering) */
		struct {        /* WINCH */
			uint16_t rows, cols;
		} winsize;
		struct hyp_exit exit;  /* EXIT */
		struct {               /* ERROR (owned, freed by hyp_msg_clear) */
			uint32_t code; /* errno value */
			char *message;
		} error;
		uint32_t credit; /* CREDIT: bytes returned to the window */
	};
};

/* Who sends a message (HYP_FROM_OPENER/ACCEPTOR: of the stream it is on). */
enum hyp_side { HYP_SIDE_HOST, HYP_SIDE_GUEST };
enum hyp_from {
	HYP_FROM_HOST,
	HYP_FROM_GUEST,
	HYP_FROM_EITHER,
	HYP_FROM_OPENER,
	HYP_FROM_ACCEPTOR
};
/* Which stream ids a message may carry. */
enum hyp_scope { HYP_SCOPE_SESSION, HYP_SCOPE_STREAM, HYP_SCOPE_OPENS, HYP_SCOPE_ANY };

struct hyp_field;     /* hyp_codec.h */
struct hyp_codec_ctx; /* hyp_codec.h */
struct hyp_msg_desc {
	const char *name;
	enum hyp_from from;
	enum hyp_scope scope;
	uint32_t min_size, max_size;    /* payload bytes accepted */
	bool counted;                   /* data that takes from the stream's window */
	const struct hyp_field *fields; /* the payload, in order, ending with HYP_F_END */
	/* limits beyond the fields' own; data_max: largest data payload allowed */
	int (*check)(struct hyp_codec_ctx *c, const struct hyp_msg *msg, size_t data_max);
};

/* The descriptor of `type`, NULL when there is none. */
const struct hyp_msg_desc *hyp_msg_desc(uint16_t type);

/* Host-opened streams are odd, guest-opened even. */
static inline enum hyp_side hyp_stream_opener(uint16_t stream)
{
	return stream & 1 ? HYP_SIDE_HOST : HYP_SIDE_GUEST;
}

/* Whether `sender` may send msg (the descriptor's sender rule). */
int hyp_msg_check_sender(const struct hyp_msg *msg, enum hyp_side sender, hyp_error *err);

/* Append the frame for msg to out. Fails (nothing appended) on a message that
 * would violate a limit the decoder enforces. */
int hyp_msg_encode(struct hyp_buf *out, const struct hyp_msg *msg, hyp_error *err);

/*
 * Decode one frame from data[0..len). Returns the number of bytes the frame
 * occupies (> 0) and fills ret_msg; 0 when more bytes are needed for a whole
 * frame; a negative value on a malformed frame (err says why). STDIN/STDOUT/
 * STDERR payloads point into `data`.
 */
ssize_t hyp_msg_decode(const uint8_t *data, size_t len, struct hyp_msg *ret_msg, hyp_error *err);

/* Release what a decoded or caller-built message owns; leaves type intact. */
void hyp_msg_clear(struct hyp_msg *msg);

/* "HELLO", "EXEC", ...; "unknown" otherwise. */
const char *hyp_msg_type_name(uint16_t type);

/* The HELLO this side sends. */
struct hyp_msg hyp_hello_ours(void);
/* Check a peer's HELLO: the version both speak (the lower of the two highest,
 * if this side speaks it) in *ret_version, and a sane max_payload. */
int hyp_hello_check(const struct hyp_hello *hello, uint32_t *ret_version, hyp_error *err);

#endif
