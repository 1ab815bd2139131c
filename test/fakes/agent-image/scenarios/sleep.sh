# sleep [SECONDS]: outlive the agent timeout.
echo "sleeping"
exec sleep "${1:-3600}"
