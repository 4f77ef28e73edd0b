#!/bin/bash
# test_deploy.sh: the deployment artefacts of deploy/ and docs/.
#
#  1. Every kustomize overlay renders offline (kubectl kustomize) and
#     passes strict schema validation (deploy/tools/kubevalidate: the
#     Kubernetes JSON schemas of the npm package kubernetes-models, run by
#     Ajv with unknown fields refused); broken copies of the render must
#     fail it, so the validator is proven live on every run.
#  2. The rendered output carries the security settings, probes, resources,
#     Prometheus annotations, state volume and shard wiring we promise.
#  3. deploy/packages.txt, deploy/docker/Dockerfile, scripts/install-deps.sh
#     and the libraries the built binary links agree (no drift).
#  4. The systemd unit passes `systemd-analyze verify` and an offline
#     security score; `cmake --install` places unit and man page.
#  5. docs/roomops.1 renders without warnings and documents every verb and
#     option (agent.md and each verb's --help).
#
# Needs: kubectl, node, the validator installed by
# scripts/install-test-tools.sh (offline here), groff; optional mandoc,
# systemd-analyze.
set -u

src=${RO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RO_BUILD_DIR:-}
bin=${RO_BIN:-}
tools=${RO_TOOLS_DIR:-/usr/local/lib/roomops-tools}/kubevalidate
tmp=$(mktemp -d "${TMPDIR:-/tmp}/roomops-deploy.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C.UTF-8

npass=0
nfail=0
ok() { npass=$((npass + 1)); echo "ok - $*"; }
not_ok() { nfail=$((nfail + 1)); echo "not ok - $*"; }
# check DESC CMD...: CMD must succeed; its output is shown when it fails.
check() {
	local desc=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then
		ok "$desc"
	else
		not_ok "$desc"
		sed 's/^/    /' "$tmp/out" | head -40
	fi
}
# refute DESC CMD...: CMD must fail.
refute() {
	local desc=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then
		not_ok "$desc (it succeeded)"
		sed 's/^/    /' "$tmp/out" | head -20
	else
		ok "$desc"
	fi
}

# ---------------------------------------------------------------- tools
have_tools=1
for t in kubectl node; do
	if ! command -v "$t" >/dev/null 2>&1; then
		not_ok "$t is installed (scripts/install-deps.sh)"
		have_tools=0
	fi
done
if [ ! -d "$tools/node_modules" ]; then
	not_ok "validator installed in $tools (run scripts/install-test-tools.sh)"
	have_tools=0
elif ! cmp -s "$tools/package-lock.json" \
    "$src/deploy/tools/kubevalidate/package-lock.json"; then
	not_ok "validator in $tools matches deploy/tools/kubevalidate/package-lock.json (run scripts/install-test-tools.sh)"
	have_tools=0
else
	ok "validator installed and current"
fi
validate() {
	node "$src/deploy/tools/kubevalidate/validate.js" --modules "$tools" "$@"
}

# ------------------------------------------------ render and validate
overlays=()
for d in "$src"/deploy/kubernetes/overlays/*/; do
	overlays+=("$(basename "$d")")
done
if [ "${#overlays[@]}" -lt 2 ]; then
	not_ok "overlays single and sharded exist (found ${overlays[*]:-none})"
fi
for o in single sharded; do
	[ -f "$src/deploy/kubernetes/overlays/$o/kustomization.yaml" ] ||
		not_ok "overlay $o exists"
done

if [ "$have_tools" -eq 1 ]; then
	for o in "${overlays[@]}"; do
		check "overlay $o renders offline" \
		    kubectl kustomize "$src/deploy/kubernetes/overlays/$o" \
		    -o "$tmp/$o.yaml"
		check "overlay $o passes strict schema validation" \
		    validate "$tmp/$o.yaml"
	done
fi

# Broken copies must fail: the validator is live, and strict.
mutate() {	# NAME SED-EXPR: a broken copy of the sharded render
	sed "$2" "$tmp/sharded.yaml" >"$tmp/broken-$1.yaml"
	if cmp -s "$tmp/sharded.yaml" "$tmp/broken-$1.yaml"; then
		not_ok "mutation $1 changed the render (fix the test)"
		return 1
	fi
}
if [ "$have_tools" -eq 1 ] && [ -s "$tmp/sharded.yaml" ]; then
	mutate typo 's/imagePullPolicy:/imagePullPolicyy:/' &&
	    refute "validator rejects an unknown field (imagePullPolicyy)" \
	    validate "$tmp/broken-typo.yaml"
	mutate typo 's/imagePullPolicy:/imagePullPolicyy:/' &&
	    check "the same typo passes without --strict (strictness is what catches it)" \
	    validate --no-strict "$tmp/broken-typo.yaml"
	mutate replicas 's/^  replicas: \([0-9]*\)$/  replicas: "\1"/' &&
	    refute "validator rejects replicas as a string" \
	    validate "$tmp/broken-replicas.yaml"
	mutate quantity 's/memory: 16Mi/memory: 16 megabytes/' &&
	    refute "validator rejects a malformed quantity" \
	    validate "$tmp/broken-quantity.yaml"
	mutate protocol 's/protocol: TCP/protocol: TPC/' &&
	    refute "validator rejects a protocol outside the enum" \
	    validate "$tmp/broken-protocol.yaml"
	mutate name 's/^        name: roomops$/        nam: roomops/' &&
	    refute "validator rejects a container without a name" \
	    validate "$tmp/broken-name.yaml"
	mutate version 's#^apiVersion: apps/v1$#apiVersion: apps/v9#' &&
	    refute "validator rejects an unknown apiVersion" \
	    validate "$tmp/broken-version.yaml"
	mutate yaml 's/^kind: Service$/kind: Service\nkind: Service/' &&
	    refute "validator rejects a duplicate key" \
	    validate "$tmp/broken-yaml.yaml"
fi

# ------------------------------------------- assertions on the renders
cat >"$tmp/assert.js" <<'EOF'
'use strict';
// node assert.js MODULES OVERLAY FILE: the promises of deploy/kubernetes.
const { createRequire } = require('module');
const path = require('path');
const fs = require('fs');
const req = createRequire(path.join(path.resolve(process.argv[2]), 'x.js'));
const YAML = req('yaml');
const overlay = process.argv[3];
const docs = YAML.parseAllDocuments(fs.readFileSync(process.argv[4], 'utf8'))
    .map((d) => d.toJS()).filter((d) => d);
let bad = 0, n = 0;
function expect(cond, what) {
	n++;
	if (!cond) {
		console.log(`FAIL ${overlay}: ${what}`);
		bad++;
	}
}
const all = (kind) => docs.filter((d) => d.kind === kind);
const one = (kind) => all(kind)[0] || {};
const get = (o, p) => p.split('.').reduce((a, k) => (a == null ? a : a[k]), o);
const eq = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const subset = (sel, labels) => sel && labels &&
    Object.entries(sel).every(([k, v]) => labels[k] === v);

// Options of `roomops agent` (agent.md): the config file's keys.
const OPTIONS = ['config', 'repo', 'branch', 'path', 'interval', 'resync',
    'watch', 'server', 'token-file', 'listen', 'api-token-file',
    'webhook-secret-file', 'state-dir', 'audit-log', 'push-notes', 'prune',
    'rollback', 'shard', 'once', 'log-format', 'max-kicks',
    'max-artifact-deletes', 'change-threshold', 'require-confirm',
    'profile'];

const sts = one('StatefulSet');
const pod = get(sts, 'spec.template.spec') || {};
const ctrs = pod.containers || [];
const c = ctrs.find((x) => x.name === 'roomops') || {};
const psc = pod.securityContext || {};
const csc = c.securityContext || {};
const env = Object.fromEntries((c.env || []).map((e) => [e.name, e]));
const mounts = c.volumeMounts || [];
const mountAt = (p) => mounts.find((m) => m.mountPath === p);
const vol = (n) => (pod.volumes || []).find((v) => v.name === n);

expect(all('StatefulSet').length === 1, 'one StatefulSet');
expect(ctrs.length === 1 && c.name === 'roomops', 'one container, roomops');
expect(all('Secret').length === 0, 'no Secret values in the manifests');

// identity and API access
const sa = all('ServiceAccount').find((s) => s.metadata.name === pod.serviceAccountName);
expect(sa !== undefined, 'the pod runs as the rendered ServiceAccount');
expect(sa && sa.automountServiceAccountToken === false, 'ServiceAccount: automountServiceAccountToken false');
expect(pod.automountServiceAccountToken === false, 'pod: automountServiceAccountToken false');
expect(all('RoleBinding').length + all('ClusterRoleBinding').length === 0, 'no RBAC bindings');

// security context
expect(psc.runAsNonRoot === true || csc.runAsNonRoot === true, 'runAsNonRoot');
const uid = csc.runAsUser !== undefined ? csc.runAsUser : psc.runAsUser;
expect(Number.isInteger(uid) && uid >= 1000, `a fixed non-root uid (${uid})`);
expect(csc.allowPrivilegeEscalation === false, 'allowPrivilegeEscalation false');
expect(csc.readOnlyRootFilesystem === true, 'readOnlyRootFilesystem true');
expect(eq(get(csc, 'capabilities.drop'), ['ALL']) && !get(csc, 'capabilities.add'), 'capabilities: drop ALL, add none');
expect(csc.privileged !== true, 'not privileged');
expect(get(psc, 'seccompProfile.type') === 'RuntimeDefault' &&
    (get(csc, 'seccompProfile.type') || 'RuntimeDefault') === 'RuntimeDefault', 'seccompProfile RuntimeDefault');
expect(!pod.hostNetwork && !pod.hostPID && !pod.hostIPC, 'no host namespaces');

// probes
const http = (c.ports || []).find((p) => p.name === 'http');
expect(http && http.containerPort === 8080, 'container port http 8080');
const probePort = (p) => p === 'http' || p === 8080;
expect(get(c, 'livenessProbe.httpGet.path') === '/health' && probePort(get(c, 'livenessProbe.httpGet.port')), 'liveness on /health');
expect(get(c, 'readinessProbe.httpGet.path') === '/ready' && probePort(get(c, 'readinessProbe.httpGet.port')), 'readiness on /ready');

// resources
expect(get(c, 'resources.requests.cpu') === '10m', 'request 10m CPU');
expect(get(c, 'resources.requests.memory') === '16Mi', 'request 16Mi memory');
expect(typeof get(c, 'resources.limits.memory') === 'string', 'a memory limit');

// Prometheus
const ann = get(sts, 'spec.template.metadata.annotations') || {};
expect(ann['prometheus.io/scrape'] === 'true' && ann['prometheus.io/port'] === '8080' &&
    ann['prometheus.io/path'] === '/metrics', 'Prometheus scrape annotations');

// the config file
const args = c.args || [];
const cfgPath = args[args.indexOf('--config') + 1];
expect(args.indexOf('--config') >= 0 && cfgPath, `--config given (${cfgPath})`);
const cfgMount = mountAt(cfgPath) || mounts.find((m) => cfgPath && cfgPath.startsWith(m.mountPath + '/'));
const cfgVol = cfgMount && vol(cfgMount.name);
const cm = cfgVol && cfgVol.configMap && all('ConfigMap').find((m) => m.metadata.name === cfgVol.configMap.name);
expect(cm !== undefined, 'the config file comes from a rendered ConfigMap');
const key = cfgMount && (cfgMount.subPath || path.basename(cfgPath));
let cfg = {};
try { cfg = YAML.parse((cm && cm.data && cm.data[key]) || '') || {}; } catch (e) { expect(false, `config parses: ${e.message}`); }
const unknown = Object.keys(cfg).filter((k) => !OPTIONS.includes(k));
expect(unknown.length === 0, `config keys are agent options (unknown: ${unknown.join(', ') || 'none'})`);
expect(cfg.listen === '0.0.0.0:8080', 'config listens on 0.0.0.0:8080');
for (const k of ['repo', 'branch', 'interval', 'server'])
	expect(cfg[k] !== undefined, `config sets ${k}`);

// state dir on the claim template
const claims = (get(sts, 'spec.volumeClaimTemplates') || []).map((t) => t.metadata.name);
const stateMount = mountAt(cfg['state-dir']);
expect(cfg['state-dir'] === '/var/lib/roomops' && stateMount && claims.includes(stateMount.name),
    'state-dir /var/lib/roomops is a volumeClaimTemplate');
expect(mountAt('/tmp') !== undefined, '/tmp is writable (emptyDir) under a read-only root');

// secrets: referenced, files under a secret mount
const secretVols = (pod.volumes || []).filter((v) => v.secret).map((v) => v.name);
for (const k of ['token-file', 'api-token-file', 'webhook-secret-file']) {
	const f = cfg[k];
	const m = f && mounts.find((x) => f.startsWith(x.mountPath + '/'));
	expect(m && secretVols.includes(m.name), `${k} is in a Secret volume (${f})`);
}
expect(Object.values(env).some((e) => get(e, 'valueFrom.secretKeyRef.name')) ||
    secretVols.length >= 2, 'Git credentials referenced from a Secret');

// Services
const labels = get(sts, 'spec.template.metadata.labels') || {};
expect(subset(get(sts, 'spec.selector.matchLabels'), labels), 'StatefulSet selector matches its pods');
const svcs = all('Service');
const gov = svcs.find((s) => s.metadata.name === sts.spec.serviceName);
expect(gov && gov.spec.clusterIP === 'None', 'governing headless Service exists');
const api = svcs.find((s) => s.spec.clusterIP !== 'None');
expect(api && subset(api.spec.selector, labels) &&
    api.spec.ports.some((p) => p.targetPort === 'http' || p.targetPort === 8080), 'API Service selects the pods on port http');

// shards
const replicas = sts.spec.replicas;
const shards = env.ROOMOPS_SHARDS && env.ROOMOPS_SHARDS.value;
expect(!(c.args || []).includes('--shard'), 'no fixed --shard in a StatefulSet');
if (overlay === 'sharded') {
	expect(replicas > 1, `several replicas (${replicas})`);
	expect(shards === String(replicas), `ROOMOPS_SHARDS (${shards}) equals replicas (${replicas})`);
	const pdb = one('PodDisruptionBudget');
	expect(pdb.spec && subset(get(pdb, 'spec.selector.matchLabels'), labels) &&
	    pdb.spec.maxUnavailable === 1, 'PodDisruptionBudget: one shard at a time');
} else {
	expect(replicas === 1, `one replica (${replicas})`);
	expect(shards === undefined || shards === '1', 'no sharding');
}
expect(!/:latest$/.test(c.image || '') && /:/.test(c.image || ''), `image has a pinned tag (${c.image})`);
console.log(`${overlay}: ${n - bad} of ${n} checks hold`);
process.exit(bad > 0 ? 1 : 0);
EOF
if [ "$have_tools" -eq 1 ]; then
	for o in "${overlays[@]}"; do
		[ -s "$tmp/$o.yaml" ] || continue
		check "overlay $o: security, probes, resources, config, state, shards" \
		    node "$tmp/assert.js" "$tools" "$o" "$tmp/$o.yaml"
	done
fi

# ------------------------------------------------------ package drift
pkgs=$src/deploy/packages.txt
deps=$src/scripts/install-deps.sh
docker=$src/deploy/docker/Dockerfile
col() {	# USE-REGEX COLUMN: packages.txt entries
	awk -v use="$1" -v c="$2" '!/^#/ && NF == 3 && $3 ~ "^(" use ")$" && $c != "-" { print $c }' "$pkgs"
}
drift_deps() {
	local p rc=0
	# every -dev package of install-deps.sh is listed, and vice versa
	for p in $(grep -o '\blib[a-z0-9.+-]*-dev\b' "$deps" | sort -u); do
		col 'lib|build|test' 1 | grep -qx "$p" ||
			{ echo "$p in install-deps.sh, not in packages.txt"; rc=1; }
	done
	for p in $(col 'lib|build|test' 1); do
		grep -qw -- "$p" "$deps" ||
			{ echo "$p in packages.txt, not in install-deps.sh"; rc=1; }
	done
	return $rc
}
check "packages.txt and install-deps.sh list the same build packages" drift_deps
check "packages.txt: every line has three columns and a known use" \
    awk '!/^#/ && NF && (NF != 3 || $3 !~ /^(lib|build|runtime|test)$/) { print; bad = 1 } END { exit bad }' "$pkgs"
# the Debian package owning a file (dpkg knows /lib or /usr/lib, as
# installed before or after the /usr merge)
owner_of() {
	local f real
	real=$(readlink -f "$1")
	for f in "$real" "${real#/usr}" "$1" "/usr$1"; do
		dpkg -S "$f" 2>/dev/null | head -1 | cut -d: -f1 | grep . && return 0
	done
	return 1
}
# each lib line pairs a -dev with the package that owns its library
drift_pairs() {
	local dev rt so owner rc=0
	while read -r dev rt; do
		for so in $(dpkg -L "$dev" 2>/dev/null | grep '\.so$'); do
			owner=$(owner_of "$so")
			[ "$owner" = "$rt" ] ||
				{ echo "$dev: $so is in '$owner', not $rt"; rc=1; }
		done
		dpkg -L "$dev" 2>/dev/null | grep -q '\.so$' ||
			{ echo "$dev is not installed or has no .so"; rc=1; }
	done < <(awk '!/^#/ && NF == 3 && $3 == "lib" { print $1, $2 }' "$pkgs")
	return $rc
}
if command -v dpkg >/dev/null 2>&1; then
	check "each lib line pairs its -dev with the package owning the library" drift_pairs
fi
# the binary needs nothing the image lacks
drift_needed() {
	local so path owner rc=0 runtime
	runtime=$(col 'lib|runtime' 2)
	for so in $(objdump -p "$bin" | awk '/NEEDED/ { print $2 }'); do
		path=$(ldd "$bin" | awk -v so="$so" '$1 == so { print $3 }')
		owner=$(owner_of "$path")
		case $owner in
		libc6|libgcc-s1) continue ;;	# in every Debian image
		esac
		case $so in	# sanitizer builds only, never in the image
		libasan.so*|libubsan.so*|liblsan.so*|libtsan.so*) continue ;;
		esac
		echo "$runtime" | grep -qx "$owner" ||
			{ echo "roomops needs $so ($owner), not in packages.txt"; rc=1; }
	done
	return $rc
}
if [ -x "$bin" ]; then
	check "every library roomops links is a runtime package of the image" drift_needed
else
	not_ok "roomops binary built (RO_BIN=$bin)"
fi
# the Dockerfile installs exactly the lists of packages.txt
drift_docker() {
	local rc=0 prog want got i=0
	[ "$(grep -c '^FROM debian:12-slim' "$docker")" -eq 2 ] ||
		{ echo "want two stages FROM debian:12-slim"; rc=1; }
	grep -q 'COPY --from=build' "$docker" || { echo "no COPY --from=build"; rc=1; }
	grep -Eq '^USER [1-9][0-9]*(:[1-9][0-9]*)?$' "$docker" ||
		{ echo "no numeric non-root USER"; rc=1; }
	grep -qx 'ENTRYPOINT \["/usr/bin/roomops", "agent"\]' "$docker" ||
		{ echo "ENTRYPOINT is not roomops agent"; rc=1; }
	grep -Eq 'apt-get install.*\bgit\b' "$docker" && { echo "git installed"; rc=1; }
	for want in "$(col 'build|lib' 1)" "$(col 'lib|runtime' 2)"; do
		i=$((i + 1))
		prog=$(grep -o "awk '[^']*'" "$docker" | sed -n "${i}p" |
		    sed "s/^awk '//; s/'\$//")
		[ -n "$prog" ] || { echo "awk program $i missing"; rc=1; continue; }
		got=$(awk "$prog" "$pkgs")
		[ "$got" = "$want" ] ||
			{ echo "stage $i installs [$got], want [$want]"; rc=1; }
	done
	return $rc
}
check "Dockerfile: two debian:12-slim stages, lists from packages.txt, non-root, roomops agent" drift_docker

# ----------------------------------------------------------- systemd
unit=$src/deploy/systemd/roomops.service
check_unit() {
	local k rc=0
	for k in '^DynamicUser=yes$' '^ProtectSystem=strict$' '^ProtectHome=yes$' \
	    '^PrivateTmp=yes$' '^NoNewPrivileges=yes$' '^StateDirectory=roomops$' \
	    '^RestrictAddressFamilies=' '^SystemCallFilter=@system-service$' \
	    '^Restart=on-failure$' '^RestartSec=' '^StartLimitBurst=' \
	    '^ExecReload=/bin/kill -HUP \$MAINPID$' \
	    '^ExecStart=/usr/bin/roomops agent --config /etc/roomops/config.yaml$' \
	    '^CapabilityBoundingSet=$'; do
		grep -Eq "$k" "$unit" || { echo "missing $k"; rc=1; }
	done
	return $rc
}
check "systemd unit has the hardening and restart settings" check_unit
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$tmp/unit"
	# verify checks that ExecStart exists: point it at a real program
	exe=/bin/true
	[ -x "$bin" ] && exe=$bin
	sed "s#/usr/bin/roomops#$exe#" "$unit" >"$tmp/unit/roomops.service"
	verify_unit() {
		systemd-analyze verify --man=no "$tmp/unit/roomops.service" 2>&1 |
		    tee "$tmp/verify.out"
		[ ! -s "$tmp/verify.out" ]
	}
	check "systemd-analyze verify: no warnings" verify_unit
	check "systemd-analyze security --offline: exposure at most 2.0" \
	    systemd-analyze security --offline=true --threshold=20 \
	    "$tmp/unit/roomops.service"
else
	echo "# systemd-analyze not available: unit not verified"
fi

# ------------------------------------------------------ cmake --install
if [ -n "$build" ] && [ -f "$build/cmake_install.cmake" ] && [ -x "$bin" ]; then
	for prefix in /usr /opt/roomops; do
		rm -rf "$tmp/inst"
		check_install() {
			DESTDIR="$tmp/inst" cmake --install "$build" \
			    --prefix "$prefix" >/dev/null || return 1
			local d=$tmp/inst$prefix rc=0
			[ -x "$d/bin/roomops" ] || { echo "no bin/roomops"; rc=1; }
			[ -f "$d/share/man/man1/roomops.1" ] || { echo "no man page"; rc=1; }
			grep -qx "ExecStart=$prefix/bin/roomops agent --config /etc/roomops/config.yaml" \
			    "$d/lib/systemd/system/roomops.service" ||
			    { echo "unit missing or ExecStart not $prefix/bin"; rc=1; }
			return $rc
		}
		check "cmake --install --prefix $prefix: binary, unit, man page" check_install
	done
else
	not_ok "cmake --install tested (needs RO_BUILD_DIR and a built roomops)"
fi

# ---------------------------------------------------------- man page
man1=$src/docs/roomops.1
groff_clean() {
	groff -mandoc -Tutf8 -ww -z "$man1" 2>&1 | tee "$tmp/groff.out"
	[ ! -s "$tmp/groff.out" ]
}
check "roomops.1: groff -ww renders without warnings" groff_clean
if command -v mandoc >/dev/null 2>&1; then
	check "roomops.1: mandoc -Tlint finds no warnings" \
	    mandoc -Tlint -W warning "$man1"
fi
if command -v man >/dev/null 2>&1; then
	# wide, so that no option is broken across lines
	MANWIDTH=1000 man -l "$man1" >"$tmp/man.txt" 2>/dev/null
	check "roomops.1: man -l renders it" grep -q 'roomops agent' "$tmp/man.txt"
fi
# every verb and option: agent.md's (where shared/ is beside the tree), a
# fixed list otherwise, and whatever each built verb's --help prints
man_covers() {
	local spec=$src/../shared/spec/agent.md words w rc=0 v
	words="validate plan apply agent audit confirm version --help
	    --server --state --output --dry-run --confirm --audit-log --repo
	    --branch --path --interval --resync --watch --token-file --listen
	    --api-token-file --webhook-secret-file --state-dir --push-notes
	    --prune --rollback --shard --once --log-format --max-kicks
	    --max-artifact-deletes --change-threshold --require-confirm
	    --profile --config --room --rev ROOM_AUTH_TOKEN ROOMOPS_SHARDS"
	if [ -f "$spec" ]; then
		words="$words $(grep -o -- '--[a-z][a-z-]*' "$spec" | sort -u)"
	fi
	for v in validate plan apply agent audit confirm; do
		[ -x "$bin" ] && "$bin" "$v" --help >"$tmp/help" 2>/dev/null &&
			words="$words $(grep -o -- '--[a-z][a-z-]*' "$tmp/help" | sort -u)"
	done
	for w in $(echo "$words" | tr ' ' '\n' | sort -u); do
		grep -q -e "${w}\b" "$tmp/man.txt" ||
			{ echo "roomops.1 lacks $w"; rc=1; }
	done
	return $rc
}
check "roomops.1 documents every verb, option and variable" man_covers

# ------------------------------------------------------------- docs
deploy_md=$src/docs/deploy.md
docs_refs() {
	local p rc=0
	[ -f "$deploy_md" ] || { echo "no docs/deploy.md"; return 1; }
	for p in $(grep -o '\b\(deploy\|scripts\|docs\|include\|tests\)/[A-Za-z0-9_./-]*[A-Za-z0-9_]' "$deploy_md" | sort -u); do
		[ -e "$src/$p" ] || { echo "docs/deploy.md names $p, which does not exist"; rc=1; }
	done
	# the sizing table: measured rows, or a row marked as waiting for them
	grep -q '^| [0-9,]* (measured) |\|^| about [0-9,]* of [0-9,]* (measured) |\|PLACEHOLDER' "$deploy_md" ||
	    { echo "sizing table: neither measured rows nor a marked placeholder row"; rc=1; }
	return $rc
}
check "docs/deploy.md: every path it names exists; sizing rows measured or marked" docs_refs

echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
