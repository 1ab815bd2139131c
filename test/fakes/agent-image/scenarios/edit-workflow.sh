# edit-workflow [NAME]: change a file under .github/workflows/ (the policy gate refuses it).
mkdir -p /workspace/.github/workflows
printf 'on: push\njobs: {}\n' > "/workspace/.github/workflows/${1:-x}.yml"
echo "edited .github/workflows/${1:-x}.yml"
