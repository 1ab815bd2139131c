# fail [CODE]: exit non-zero.
echo "failing on purpose" >&2
exit "${1:-3}"
