# Shared by the *-ab.sh scripts here: sides are git revisions plus "new" (this working tree).
# tree_of SIDE TMP PATH...: prints the source tree of SIDE; a revision's PATHs are exported once into TMP/tree-SIDE
# with `git archive` (no worktree, so the repository is left as it is).
tree_of() {
  local side=$1 tmp=$2; shift 2
  if [ "$side" = new ]; then echo "$PWD"; return; fi
  local tree="$tmp/tree-$side"
  if [ ! -d "$tree" ]; then mkdir -p "$tree"; git archive "$side" "$@" | tar -x -C "$tree"; fi
  echo "$tree"
}
# label_of SIDE: the revision, or "new (HEAD[+changes])" for the working tree.
label_of() {
  if [ "$1" = new ]; then echo "new ($(git rev-parse --short HEAD)$(git diff --quiet || echo +changes))"; else echo "$1"; fi
}
