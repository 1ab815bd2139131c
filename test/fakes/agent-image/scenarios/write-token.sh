# write-token PATH TOKEN: leave a (fake) secret in the workspace for the policy gate to find.
echo "GITHUB_TOKEN=$2" > "/workspace/$1"
echo "wrote a token into $1"
