#!/bin/sh
# Does what the prompt file says, the way a real agent follows its prompt:
#   a line `scenario: NAME ARGS...` runs /agent/scenarios/NAME.sh with ARGS;
#   otherwise a fenced block opened by a line "```sh" runs as a shell script.
prompt="${AGENTIUM_PROMPT_FILE:-/agentium/prompt.md}"
line=$(sed -n 's/^scenario: //p' "$prompt" | head -n 1)
if [ -n "$line" ]; then
  set -- $line
  name=$1
  shift
  exec sh "/agent/scenarios/$name.sh" "$@"
fi
script=$(sed -n '/^```sh$/,/^```$/p' "$prompt" | sed '1d;$d')
if [ -n "$script" ]; then
  exec sh -c "$script"
fi
echo "test agent: the prompt names no scenario and holds no sh block" >&2
exit 64
