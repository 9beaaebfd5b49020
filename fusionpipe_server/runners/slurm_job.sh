#!/bin/sh
# fusionpipe's Slurm job script: constant, everything else comes from a task file (written by
# runners/slurm_tasks.py, never parsed as shell). $1 is the folder of task files, one per array
# task (task 0 for a single node). A task file holds one value a line: the umask, the working
# folder, the log, the exit file, the number of environment variables then each NAME=value,
# the number of setup commands then each, and last the node's command, one argument a line.
task="$1/${SLURM_ARRAY_TASK_ID:-0}"
exec 3<"$task" || exit 97
IFS= read -r mask <&3
IFS= read -r cwd <&3
IFS= read -r log <&3
IFS= read -r exit_file <&3
umask "$mask"
# The node's log, live on the shared data folder (an item's own, in an array).
exec >>"$log" 2>&1
IFS= read -r count <&3
while [ "$count" -gt 0 ]; do
    IFS= read -r variable <&3
    export "$variable"
    count=$((count - 1))
done
IFS= read -r count <&3
while [ "$count" -gt 0 ]; do
    IFS= read -r setup <&3
    # Setup commands (module load ...) are shell by nature: they change this shell's environment.
    eval "$setup" || {
        code=$?
        printf 'fusionpipe: the setup command failed (exit code %s): %s\n' "$code" "$setup"
        printf '%s\n' "$code" >"$exit_file"
        exit "$code"
    }
    count=$((count - 1))
done
set --
while IFS= read -r argument <&3; do
    set -- "$@" "$argument"
done
exec 3<&-
cd "$cwd" || exit 98
"$@"
code=$?
printf '%s\n' "$code" >"$exit_file"
exit "$code"
