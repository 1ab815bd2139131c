# Start-up benchmark: the first output marks the container as running.
echo ready
