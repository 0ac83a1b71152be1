#!/usr/bin/env bash
# Start a throwaway single-node SLURM cluster on this machine (for CI / local
# checks of `snakemake --executor slurm`).
#
#   sudo ci/slurm/start.sh            # state in ${SLURM_STATE_DIR:-/tmp/simlib-slurm}
#   export PATH="/tmp/simlib-slurm/bin:$PATH"   # wrappers that set SLURM_CONF
#   ...                                # sinfo / sbatch / snakemake --executor slurm
#   sudo ci/slurm/stop.sh
#
# What it does (see ci/slurm/README.md):
#   * installs Debian's slurmctld, slurmd, slurm-client and munge when missing;
#   * writes a minimal slurm.conf (one node = this host, no cgroups, no
#     accounting database, no systemd) into the state directory;
#   * runs a private munged (own key and socket in the state directory),
#     `slurmctld -D -i` and `slurmd -D` in the background, logs in
#     $STATE/log, PIDs in $STATE/pids;
#   * writes wrappers for the client commands into $STATE/bin that set
#     SLURM_CONF, because the slurm-jobstep plugin strips every SLURM_*
#     variable (SLURM_CONF included) before its inner `srun`;
#   * waits until `sinfo` reports the node idle.
# Nothing under /etc is written, apart from what apt-get installs.
#
# Environment knobs:
#   SLURM_STATE_DIR       state directory            [/tmp/simlib-slurm]
#   SLURM_CTLD_PORT       slurmctld port             [6817]
#   SLURMD_PORT           slurmd port                [6818]
#   SLURM_PARTITION       partition name             [ci]
#   SLURM_MEM_MARGIN_MB   memory kept back from MemTotal [1024]
#   SLURM_MIN_JOB_AGE     seconds finished jobs stay visible to squeue [3600]
#   SLURM_START_TIMEOUT   seconds to wait for the node to become idle  [60]
#   SLURM_NO_INSTALL=1    never call apt-get (fail if the packages are missing)
#
# Prints the wrapper directory ($STATE/bin) on stdout, everything else on
# stderr. Exit status: 0 cluster up, 1 error (daemons already stopped again),
# 3 slurm/munge missing and not installable.
set -euo pipefail

t_start=$(date +%s.%N)
STATE=${SLURM_STATE_DIR:-/tmp/simlib-slurm}
CTLD_PORT=${SLURM_CTLD_PORT:-6817}
SLURMD_PORT=${SLURMD_PORT:-6818}
PARTITION=${SLURM_PARTITION:-ci}
# slurmctld only runs on the host named in SlurmctldHost: must be this host
NODE=$(hostname -s 2>/dev/null || uname -n)
NODE=${NODE%%.*}
MEM_MARGIN_MB=${SLURM_MEM_MARGIN_MB:-1024}
MIN_JOB_AGE=${SLURM_MIN_JOB_AGE:-3600}
TIMEOUT=${SLURM_START_TIMEOUT:-60}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { echo "start.sh: $*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}
# exit status 3: the packages are missing and cannot be installed (callers
# such as tests/test_slurm.py skip instead of failing)
die_install() {
    log "ERROR: $*"
    exit 3
}
elapsed() { awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# Start time of a process (field 22 of /proc/PID/stat, in clock ticks since
# boot); stored with the PID so stop.sh never signals a recycled PID.
proc_start_time() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    # shellcheck disable=SC2086
    set -- $stat
    echo "${20}"
}

pid_alive() { # pidfile -> 0 when the recorded process still runs
    local pid start name
    [[ -f $1 ]] || return 1
    read -r pid start name <"$1" || return 1
    [[ -n ${pid:-} && "$(proc_start_time "$pid" || true)" == "$start" ]]
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

show_logs() {
    local f
    # *.out: the daemons' stdout/stderr; in the foreground (-D) mode this
    # holds everything their log files (*.log) hold, plus errors from before
    # the log files were opened
    local f shown=0
    for f in "$STATE"/log/*.out; do
        [[ -s $f ]] || continue
        echo "----- $f (last 40 lines) -----" >&2
        tail -n 40 "$f" >&2 || true
        shown=1
    done
    if ((shown == 0)); then
        for f in "$STATE"/log/*.log; do
            [[ -s $f ]] || continue
            echo "----- $f (last 40 lines) -----" >&2
            tail -n 40 "$f" >&2 || true
        done
    fi
}

fail() { # message: show logs, stop what we started, exit 1
    log "ERROR: $*"
    show_logs
    log "stopping the daemons started so far"
    SLURM_STATE_DIR=$STATE "$HERE/stop.sh" >&2 || true
    exit 1
}

wait_until() { # description, timeout seconds, command...
    local what=$1 limit=$2 deadline
    shift 2
    deadline=$(($(date +%s) + limit))
    until "$@" >/dev/null 2>&1; do
        if (($(date +%s) >= deadline)); then
            fail "timed out after ${limit}s waiting for $what"
        fi
        sleep 0.5
    done
}

# --------------------------------------------------------------------------
[[ $(id -u) -eq 0 ]] || die "must run as root (slurmd runs jobs as any user and needs root)"

for pf in "$STATE"/pids/*.pid; do
    if [[ -f $pf ]] && pid_alive "$pf"; then
        die "a cluster from this state dir is still running ($pf); run ci/slurm/stop.sh first"
    fi
done

# --- packages --------------------------------------------------------------
need_install=0
for cmd in slurmctld slurmd sinfo munged mungekey; do
    PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1 || need_install=1
done
if ((need_install)); then
    [[ ${SLURM_NO_INSTALL:-0} == 1 ]] && die_install "slurm/munge not installed and SLURM_NO_INSTALL=1"
    command -v apt-get >/dev/null || die_install "slurm/munge not installed and no apt-get"
    log "installing slurmctld slurmd slurm-client munge with apt-get"
    t_apt=$(date +%s)
    export DEBIAN_FRONTEND=noninteractive
    # wait for the dpkg/apt lock instead of failing when another apt runs
    apt_lock=(-o DPkg::Lock::Timeout=300)
    apt-get "${apt_lock[@]}" update -qq >&2 || log "apt-get update failed; trying the install anyway"
    apt-get "${apt_lock[@]}" install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        slurmctld slurmd slurm-client munge >&2 || die_install "apt-get install failed"
    log "packages installed in $(($(date +%s) - t_apt))s"
fi
export PATH="$PATH:/usr/sbin:/sbin"
SLURMCTLD=$(command -v slurmctld)
SLURMD=$(command -v slurmd)
MUNGED=$(command -v munged)
MUNGEKEY=$(command -v mungekey)

# --- state directory -------------------------------------------------------
umask 022
mkdir -p "$STATE"
chmod 0755 "$STATE"
mkdir -p "$STATE"/{etc,bin,log,pids,ctld,spool}
mkdir -p "$STATE/munge"
chmod 0755 "$STATE/munge" # the key inside is 0600; the socket must be reachable
# a fresh cluster every time: forget old jobs, node state and logs
rm -rf "${STATE:?}"/ctld/* "${STATE:?}"/spool/* "${STATE:?}"/log/* "${STATE:?}"/pids/*

for port in "$CTLD_PORT" "$SLURMD_PORT"; do
    if port_in_use "$port"; then
        die "TCP port $port on 127.0.0.1 is already in use (another slurm?); set SLURM_CTLD_PORT / SLURMD_PORT"
    fi
done

# --- munge -----------------------------------------------------------------
KEY=$STATE/munge/munge.key
SOCKET=$STATE/munge/munge.socket
if [[ ! -s $KEY ]]; then
    log "creating munge key $KEY"
    "$MUNGEKEY" --create --keyfile="$KEY" 2>/dev/null ||
        dd if=/dev/urandom of="$KEY" bs=1024 count=1 status=none
fi
chmod 0600 "$KEY"

# --- slurm.conf --------------------------------------------------------------
ncpus=$(nproc)
mem_mb=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 }' /proc/meminfo)
real_mem=$((mem_mb - MEM_MARGIN_MB))
((real_mem >= 256)) || real_mem=256
CONF=$STATE/etc/slurm.conf
cat >"$CONF" <<EOF
# Throwaway single-node cluster written by ci/slurm/start.sh - do not use in production.
ClusterName=simlib-ci
SlurmctldHost=${NODE}(127.0.0.1)
SlurmctldPort=${CTLD_PORT}
SlurmdPort=${SLURMD_PORT}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=${SOCKET}
StateSaveLocation=${STATE}/ctld
SlurmdSpoolDir=${STATE}/spool
SlurmctldPidFile=${STATE}/pids/slurmctld.slurm-pid
SlurmdPidFile=${STATE}/pids/slurmd.slurm-pid
SlurmctldLogFile=${STATE}/log/slurmctld.log
SlurmdLogFile=${STATE}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# no cgroups, no accounting database, no job completion log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# a job without --mem must not take the whole node
DefMemPerCPU=500
# finished jobs stay visible to squeue (snakemake --slurm-status-command squeue)
MinJobAge=${MIN_JOB_AGE}
ReturnToService=2
InactiveLimit=0
KillWait=5
Waittime=0
NodeName=${NODE} NodeAddr=127.0.0.1 NodeHostname=${NODE} CPUs=${ncpus} RealMemory=${real_mem} State=UNKNOWN
PartitionName=${PARTITION} Nodes=${NODE} Default=YES MaxTime=INFINITE State=UP
EOF

# --- client wrappers (SLURM_CONF survives the jobstep plugin's env scrub) ----
for cmd in srun sbatch squeue scancel sinfo scontrol sacct sacctmgr salloc sattach \
    sbcast sdiag sprio sreport sshare sstat strigger; do
    real=$(PATH=/usr/bin:/bin command -v "$cmd" || true)
    [[ -n $real ]] || continue
    cat >"$STATE/bin/$cmd" <<EOF
#!/bin/sh
# written by ci/slurm/start.sh: use the throwaway cluster's configuration
SLURM_CONF='${CONF}'
export SLURM_CONF
exec '${real}' "\$@"
EOF
    chmod 0755 "$STATE/bin/$cmd"
done
cat >"$STATE/env.sh" <<EOF
# source me: use the throwaway cluster from an interactive shell
export PATH='${STATE}/bin':"\$PATH"
export SLURM_CONF='${CONF}'
EOF

# --- daemons -----------------------------------------------------------------
launch() { # name, command...: run in the background, own session, record PID
    local name=$1 pid start
    shift
    setsid "$@" </dev/null >>"$STATE/log/$name.out" 2>&1 &
    pid=$!
    start=""
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        start=$(proc_start_time "$pid" || true)
        [[ -n $start ]] && break
        sleep 0.1
    done
    [[ -n $start ]] || fail "$name exited immediately"
    echo "$pid $start $name" >"$STATE/pids/$name.pid"
    log "started $name (pid $pid)"
}

export SLURM_CONF=$CONF
launch munged "$MUNGED" --foreground --force --socket="$SOCKET" --key-file="$KEY" \
    --pid-file="$STATE/munge/munged.pid" --seed-file="$STATE/munge/munged.seed" \
    --log-file="$STATE/log/munged.log"
wait_until "munged (socket $SOCKET)" "$TIMEOUT" \
    sh -c "munge --socket='$SOCKET' -n | unmunge --socket='$SOCKET'"

launch slurmctld "$SLURMCTLD" -D -i -f "$CONF"
wait_until "slurmctld to answer 'scontrol ping'" "$TIMEOUT" \
    sh -c "'$STATE/bin/scontrol' ping | grep -q UP"

launch slurmd "$SLURMD" -D -f "$CONF" -N "$NODE"

node_idle() {
    local st
    for pf in "$STATE"/pids/*.pid; do pid_alive "$pf" || fail "daemon from $pf died"; done
    st=$("$STATE/bin/sinfo" -h -N -n "$NODE" -o '%T' 2>/dev/null || true)
    [[ $st == idle ]]
}
deadline=$(($(date +%s) + TIMEOUT))
until node_idle; do
    (($(date +%s) < deadline)) || fail "node $NODE not idle after ${TIMEOUT}s (sinfo: $("$STATE/bin/sinfo" -h -N -o '%N %T %E' 2>&1 || true))"
    sleep 0.5
done

"$STATE/bin/sinfo" >&2
log "cluster up in $(elapsed)s: node $NODE, $ncpus CPUs, ${real_mem} MB, partition $PARTITION"
log "use it with: export PATH=\"$STATE/bin:\$PATH\"   (or: . $STATE/env.sh)"
echo "$STATE/bin"
