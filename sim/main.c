/*
 * main.c: roomserver-sim wiring: options, the parts of struct sim, the
 * server, and a clean stop on SIGTERM or SIGINT. Signals are blocked in
 * every thread and taken here with sigwaitinfo(2): no signal handler.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roomops/log.h"
#include "sim.h"

#include "../common/banned.h"

#define FAULT_ARGS_MAX	SIM_FAULTS_MAX

static void
usage(void)
{
	fprintf(stderr,
	    "usage: roomserver-sim --listen ADDR:PORT --data-dir DIR\n"
	    "           [--token-file FILE] [--fault SPEC]... [--threads N]\n"
	    "           [--verbose] [--log-json]\n"
	    "  --listen ADDR:PORT  IPv4 address and port; port 0 picks a free\n"
	    "                      one and prints \"listening on ADDR:PORT\"\n"
	    "  --data-dir DIR      durable state (made if absent)\n"
	    "  --token-file FILE   require \"Authorization: Bearer <token>\"\n"
	    "  --fault SPEC        inject faults, e.g. delay,ms=200 or\n"
	    "                      status,status=503,rate=0.5,route=/health\n"
	    "                      (docs/roomserver-sim.md); repeatable\n"
	    "  --threads N         server threads (default: 8 per CPU, up to 64)\n");
	exit(2);
}

static int
parse_listen(const char *s, char *host, size_t size, unsigned *port)
{
	const char	*colon = strrchr(s, ':');
	char		*end;
	unsigned long	 p;

	if (colon == NULL || colon == s || (size_t)(colon - s) >= size)
		return -1;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno != 0 || end == colon + 1 || *end != '\0' || p > 65535)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	*port = (unsigned)p;
	return 0;
}

/*
 * Handlers block in fsync(2) for every change, so a few threads per CPU
 * let writes to different rooms overlap (and share journal commits);
 * reads cost nothing extra with epoll. docs/performance.md has figures.
 */
static unsigned
default_threads(void)
{
	long	n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	return n * SIM_THREADS_PER_CPU > SIM_THREADS_MAX ? SIM_THREADS_MAX :
	    (unsigned)(n * SIM_THREADS_PER_CPU);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "listen",	required_argument, NULL, 'l' },
		{ "data-dir",	required_argument, NULL, 'd' },
		{ "token-file",	required_argument, NULL, 't' },
		{ "fault",	required_argument, NULL, 'f' },
		{ "threads",	required_argument, NULL, 'n' },
		{ "verbose",	no_argument,	   NULL, 'v' },
		{ "log-json",	no_argument,	   NULL, 'j' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ro_err	 err = RO_ERR_INIT;
	struct sim	 sim;
	struct server_opts so;
	struct server	*srv = NULL;
	const char	*listen = NULL, *dir = NULL, *token_file = NULL;
	const char	*faults[FAULT_ARGS_MAX];
	char		 host[64], *end;
	size_t		 n_faults = 0, i;
	unsigned long	 threads = 0;
	bool		 verbose = false, json = false;
	sigset_t	 sigs;
	siginfo_t	 si;
	int		 ch, rc = 1;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l': listen = optarg; break;
		case 'd': dir = optarg; break;
		case 't': token_file = optarg; break;
		case 'f':
			if (n_faults == FAULT_ARGS_MAX) {
				fprintf(stderr, "roomserver-sim: more than %d "
				    "--fault\n", FAULT_ARGS_MAX);
				return 2;
			}
			faults[n_faults++] = optarg;
			break;
		case 'n':
			errno = 0;
			threads = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || threads < 1 ||
			    threads > SIM_THREADS_MAX) {
				fprintf(stderr, "roomserver-sim: --threads: "
				    "1..%d\n", SIM_THREADS_MAX);
				return 2;
			}
			break;
		case 'v': verbose = true; break;
		case 'j': json = true; break;
		case 'V':
			printf("roomserver-sim %s\n", RO_VERSION);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc || listen == NULL || dir == NULL)
		usage();
	memset(&so, 0, sizeof(so));
	if (parse_listen(listen, host, sizeof(host), &so.port) < 0) {
		fprintf(stderr, "roomserver-sim: --listen %s: expected "
		    "ADDR:PORT\n", listen);
		return 2;
	}
	so.host = host;
	so.threads = threads != 0 ? (unsigned)threads : default_threads();
	ro_log_init("roomserver-sim", json ? RO_LOG_JSON : RO_LOG_TEXT,
	    verbose ? RO_LOG_DEBUG : RO_LOG_INFO);

	/* before any thread exists, so that every thread inherits the mask */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	memset(&sim, 0, sizeof(sim));
	atomic_init(&sim.body_bytes, 0);
	if (faults_new(&sim.faults) < 0 || metrics_new(&sim.metrics) < 0) {
		log_errorx("out of memory");
		goto done;
	}
	for (i = 0; i < n_faults; i++)
		if (faults_add_spec(sim.faults, faults[i], &err) < 0) {
			log_errorx("%s", err.msg);
			rc = 2;
			goto done;
		}
	if ((token_file != NULL && auth_load(&sim.auth, token_file,
	    &err) < 0) ||
	    store_open(&sim.store, dir, &err) < 0 ||
	    delay_start(&sim.delay, &err) < 0 ||
	    server_start(&srv, &sim, &so, &err) < 0) {
		log_errorx("%s", err.msg);
		goto done;
	}
	printf("listening on %s:%u\n", host, server_port(srv));
	fflush(stdout);
	log_info("listening on %s:%u, data dir %s, %zu rooms, %u threads%s",
	    host, server_port(srv), dir, store_room_count(sim.store),
	    so.threads, sim.auth != NULL ? ", token required" : "");

	for (;;) {
		if (sigwaitinfo(&sigs, &si) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("sigwaitinfo");
			break;
		}
		log_info("%s: shutting down", strsignal(si.si_signo));
		break;
	}
	rc = 0;
done:
	server_stop(srv);
	if (sim.delay != NULL)
		delay_stop(sim.delay);
	delay_free(sim.delay);
	store_close(sim.store);
	auth_free(sim.auth);
	metrics_free(sim.metrics);
	faults_free(sim.faults);
	return rc;
}
