#!/usr/bin/env bash
# Stop the throwaway SLURM cluster started by ci/slurm/start.sh.
#
# Only the processes whose PIDs start.sh recorded in $STATE/pids are
# signalled (and only if PID and process start time still match, so a
# recycled PID is never hit). Safe to call twice, or when nothing runs.
# The state directory (config, logs) is left in place for inspection.
#
#   SLURM_STATE_DIR     state directory                  [/tmp/simlib-slurm]
#   SLURM_STOP_TIMEOUT  seconds to wait per daemon before SIGKILL [20]
set -euo pipefail

t_start=$(date +%s.%N)
STATE=${SLURM_STATE_DIR:-/tmp/simlib-slurm}
TIMEOUT=${SLURM_STOP_TIMEOUT:-20}

log() { echo "stop.sh: $*" >&2; }
elapsed() { awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

proc_start_time() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    # shellcheck disable=SC2086
    set -- $stat
    echo "${20}"
}

# Cancel whatever is still queued or running on the throwaway cluster so that
# slurmstepd and job processes end before slurmd goes away.
ctld_pidfile=$STATE/pids/slurmctld.pid
if [[ -x $STATE/bin/squeue && -f $ctld_pidfile ]]; then
    read -r cpid cstart _ <"$ctld_pidfile" || true
    if [[ -n ${cpid:-} && "$(proc_start_time "$cpid" || true)" == "${cstart:-}" ]]; then
        jobs=$(timeout 10 "$STATE/bin/squeue" -h -t PENDING,RUNNING,CONFIGURING,COMPLETING -o '%i' 2>/dev/null || true)
        if [[ -n $jobs ]]; then
            log "cancelling jobs still on the cluster: $(echo "$jobs" | tr '\n' ' ')"
            # shellcheck disable=SC2086
            timeout 10 "$STATE/bin/scancel" $jobs 2>/dev/null || true
            for _ in $(seq 1 20); do
                left=$(timeout 10 "$STATE/bin/squeue" -h -t RUNNING,CONFIGURING,COMPLETING -o '%i' 2>/dev/null || true)
                [[ -z $left ]] && break
                sleep 0.5
            done
        fi
    fi
fi

stopped=0
# reverse start order: slurmd, slurmctld, munged
for name in slurmd slurmctld munged; do
    pf=$STATE/pids/$name.pid
    [[ -f $pf ]] || continue
    pid="" start=""
    read -r pid start _ <"$pf" || true
    if [[ -z $pid || "$(proc_start_time "$pid" || true)" != "$start" ]]; then
        log "$name (pid ${pid:-?}) is not running any more"
        rm -f "$pf"
        continue
    fi
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$(($(date +%s) + TIMEOUT))
    while [[ "$(proc_start_time "$pid" || true)" == "$start" ]]; do
        # a zombie (exited, parent has not reaped it) counts as stopped
        state=$(awk '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); print f[1] }' \
            "/proc/$pid/stat" 2>/dev/null || true)
        [[ $state == Z ]] && break
        if (($(date +%s) >= deadline)); then
            log "$name (pid $pid) ignored SIGTERM for ${TIMEOUT}s: sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
            break
        fi
        sleep 0.2
    done
    rm -f "$pf"
    stopped=$((stopped + 1))
done

if ((stopped == 0)); then
    log "nothing to stop in $STATE ($(elapsed)s)"
else
    log "stopped $stopped daemon(s) in $(elapsed)s"
fi
