# fork-bomb [TICKS]: fork without bound, then report the pids cgroup using shell builtins only
# (no fork is possible once the limit is hit). The container ends by its timeout.
cg=/sys/fs/cgroup/pids
[ -r "$cg/pids.max" ] || cg=/sys/fs/cgroup
read -r max < "$cg/pids.max"
echo "pids.max=$max"
mkfifo /tmp/tick
exec 3<> /tmp/tick
# Each process forks two more, then blocks (a builtin read), so the tree stays at the limit.
bomb() {
  bomb &
  bomb &
  read -r _ <&3
}
bomb &
i=0
while [ "$i" -lt "${1:-3}" ]; do
  read -r -t 1 _ <&3
  read -r current < "$cg/pids.current"
  echo "pids.current=$current"
  i=$((i + 1))
done
read -r events < "$cg/pids.events"
echo "pids.events=$events"
while :; do read -r -t 1 _ <&3; done
