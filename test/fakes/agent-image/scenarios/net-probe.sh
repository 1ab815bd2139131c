# net-probe HOST:PORT...: try an HTTP GET on each; print `reach HOST:PORT=ok|refused|timeout`.
for target in "$@"; do
  host=${target%:*}
  port=${target#*:}
  answer=$(printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 2 "$host" "$port" 2>&1)
  case "$answer" in
    HTTP/*) echo "reach $target=ok" ;;
    *refused*) echo "reach $target=refused" ;;
    *) echo "reach $target=timeout ($answer)" ;;
  esac
done
