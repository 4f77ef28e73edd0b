/*
 * gitstream.h: the TCP socket stream libgit2 uses for git://, http(s)://
 * (under its TLS layer) and ssh://, registered in place of libgit2's own
 * so that network I/O has bounds: libgit2 1.5 has no timeout options.
 *
 *  - connect: non-blocking connect bounded by the connect timeout;
 *  - read/write: each call bounded by the I/O timeout;
 *  - both also bounded by the calling thread's deadline, if one is set;
 *  - a watchdog thread (started on first use) that shuts down the sockets
 *    of a thread whose deadline passed: this also bounds libssh2, which
 *    reads the descriptor directly and would otherwise wait forever on a
 *    server that accepts and then says nothing;
 *  - TCP keepalive and TCP_USER_TIMEOUT, so that a dead peer is noticed.
 *
 * The stream mirrors the layout of libgit2's internal git_socket_stream
 * (parent, host, port, socket), because libgit2 1.5's SSH transport
 * takes the descriptor from that struct.
 */
#ifndef RO_GITSTREAM_H
#define RO_GITSTREAM_H

#include <stdint.h>

#include "roomops/err.h"

#define RO_GITSTREAM_CONNECT_TIMEOUT	10000	/* ms, default */
#define RO_GITSTREAM_IO_TIMEOUT		60000	/* ms, default */

/*
 * Register the stream with libgit2 (git_libgit2_init() must have run).
 * Idempotent; call once at start-up, before any transfer.
 * @return RO_OK or RO_ERROR
 */
int	ro_gitstream_register(struct ro_err *err);

/* Process-wide timeouts in ms (0 keeps the default). Thread-safe. */
void	ro_gitstream_set_timeouts(unsigned connect_ms, unsigned io_ms);

/*
 * Deadline of the calling thread, as a CLOCK_MONOTONIC time in ms
 * (0 = none). Transfers started by this thread fail with a timeout once
 * it passes.
 */
void	ro_gitstream_set_deadline(uint64_t mono_ms);
uint64_t ro_gitstream_deadline(void);

/*
 * Did a connect, read or write of the calling thread time out since the
 * last ro_gitstream_clear_timeout()?
 */
int	ro_gitstream_timed_out(void);
void	ro_gitstream_clear_timeout(void);

#endif
