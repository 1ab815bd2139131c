# probe: report what the agent can see and do, one `key=value` per line, then dump env and files.
status() { sed -n "s/^$1:[[:space:]]*//p" /proc/self/status; }
echo "uid=$(id -u)"
echo "gid=$(id -g)"
echo "CapEff=$(status CapEff)"
echo "CapBnd=$(status CapBnd)"
echo "NoNewPrivs=$(status NoNewPrivs)"
echo "Seccomp=$(status Seccomp)"
if touch /probe-root-write 2>/dev/null; then echo "root_write=ok"; else echo "root_write=denied"; fi
if touch /tmp/probe-tmp-write 2>/dev/null; then echo "tmp_write=ok"; else echo "tmp_write=denied"; fi
echo "tmp_mount=$(awk '$2 == "/tmp" { print $4 }' /proc/mounts)"
echo "home_mount=$(awk '$2 == "/home/agent" { print $4 }' /proc/mounts)"
echo "prompt_mount=$(awk '$2 == "/agentium/prompt.md" { print $4 }' /proc/mounts)"
if echo x >> /agentium/prompt.md 2>/dev/null; then echo "prompt_write=ok"; else echo "prompt_write=denied"; fi
if [ -e /var/run/docker.sock ] || [ -e /run/docker.sock ]; then echo "docker_sock=present"; else echo "docker_sock=absent"; fi
echo "ipv6_disabled=$(cat /proc/sys/net/ipv6/conf/all/disable_ipv6 2>/dev/null)"
echo "--- env"
env
echo "--- pid1 environ"
tr '\0' '\n' < /proc/1/environ
echo "--- mounts"
cat /proc/self/mounts
echo "--- files"
find /workspace /agentium /tmp /home/agent -type f 2>/dev/null | while read -r f; do
  echo "== $f"
  cat "$f"
done
echo "--- end"
