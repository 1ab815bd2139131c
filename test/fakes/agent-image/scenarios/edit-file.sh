# edit-file PATH TEXT...: write TEXT into PATH under the workspace.
path=$1
shift
mkdir -p "$(dirname "/workspace/$path")"
echo "$*" > "/workspace/$path"
echo "edited $path"
